/**
 * LinearApi over @linear/sdk's transport, with Switchboard's own GraphQL documents.
 *
 * Why not the SDK's generated models (`client.issue(id)`, `client.teams()`): they select every scalar of a
 * type and load relations lazily (`issue.state`, `issue.assignee` are each another request), so one issue
 * card would cost several round trips and a large complexity score against Linear's hourly budget. Each
 * method below sends one named operation selecting exactly what Switchboard shows, which also gives the
 * local fake (tests/fakes/linear-server.ts) a small, fixed set of operations to answer.
 *
 * What the SDK still does for us, read from @linear/sdk 98's client.ts and error.ts: it builds the
 * Authorization header (a personal API key is sent bare), checks the URL (`LinearClient({ apiKey, apiUrl })`
 * takes any HTTPS URL, and plain http only on localhost / 127.0.0.1 / [::1], which is how tests reach the
 * fake), and classifies GraphQL errors by `extensions.type` into typed LinearErrors. We map those, plus
 * `extensions.code` and the HTTP status for answers the SDK cannot classify, onto src/errors.ts.
 */
import { LinearClient, LinearError, LinearErrorType } from "@linear/sdk";
import { z } from "zod";
import type { Environment } from "../../config/environment.js";
import { AuthError, NotFoundError, RateLimitedError, UserError } from "../../errors.js";
import type {
  LinearApi,
  LinearComment,
  LinearIssue,
  LinearIssueUpdate,
  LinearTeam,
  LinearUser,
  NewLinearIssue,
} from "./linear-api.js";

export interface LinearClientOptions {
  apiKey: string;
  /** LINEAR_API_URL: `https://api.linear.app/graphql`, or a local fake in tests. */
  apiUrl: string;
  /** How long one request may take before the caller stops waiting. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** `first:` for the team list; workspaces with more teams than this are not expected. */
const MAX_TEAMS = 250;
const DEFAULT_OPEN_ISSUES = 25;
const DEFAULT_UPDATED_SINCE = 50;

/** Returns undefined without LINEAR_API_KEY: commands then say which variable to set. */
export function createLinearApi(env: Pick<Environment, "LINEAR_API_KEY" | "LINEAR_API_URL">) {
  if (!env.LINEAR_API_KEY) return undefined;
  return createLinearClient({ apiKey: env.LINEAR_API_KEY, apiUrl: env.LINEAR_API_URL });
}

// ---- GraphQL documents: one named operation per method ----

const ISSUE_FIELDS = `
  id identifier title url description priority priorityLabel createdAt updatedAt
  state { name type color }
  team { key name }
  assignee { name displayName }
  labels(first: 10) { nodes { name } }
`;

export const LINEAR_OPERATIONS = {
  FindTeam: `query FindTeam($key: String!) {
  teams(first: 1, filter: { key: { eqIgnoreCase: $key } }) { nodes { id key name } }
}`,
  ListTeams: `query ListTeams($first: Int!) {
  teams(first: $first) { nodes { id key name } }
}`,
  CreateIssue: `mutation CreateIssue($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { ${ISSUE_FIELDS} } }
}`,
  GetIssue: `query GetIssue($id: String!) {
  issue(id: $id) { ${ISSUE_FIELDS} }
}`,
  // "duplicate" is a canceled-like state type on teams that use it; none of the three is open work.
  OpenIssuesAssignedTo: `query OpenIssuesAssignedTo($userId: ID!, $first: Int!) {
  issues(
    first: $first
    orderBy: updatedAt
    filter: { assignee: { id: { eq: $userId } }, state: { type: { nin: ["completed", "canceled", "duplicate"] } } }
  ) { nodes { ${ISSUE_FIELDS} } }
}`,
  CreateComment: `mutation CreateComment($input: CommentCreateInput!) {
  commentCreate(input: $input) { success comment { id url body } }
}`,
  FindUserByEmail: `query FindUserByEmail($email: String!) {
  users(first: 1, filter: { email: { eqIgnoreCase: $email } }) { nodes { id name displayName email } }
}`,
  Viewer: `query Viewer {
  viewer { id name displayName email }
}`,
  // Moving an issue takes the target state's id, which only the issue's team knows.
  IssueTeamStates: `query IssueTeamStates($id: String!) {
  issue(id: $id) { id state { id name } team { states(first: 100) { nodes { id name } } } }
}`,
  UpdateIssueState: `mutation UpdateIssueState($id: String!, $stateId: String!) {
  issueUpdate(id: $id, input: { stateId: $stateId }) { success }
}`,
  IssueAttachments: `query IssueAttachments($id: String!) {
  issue(id: $id) { attachments(first: 100) { nodes { url } } }
}`,
  // attachmentLinkURL is idempotent per (issue, url): Linear updates the existing attachment instead.
  AttachUrl: `mutation AttachUrl($issueId: String!, $url: String!, $title: String) {
  attachmentLinkURL(issueId: $issueId, url: $url, title: $title) { success }
}`,
  // orderBy: updatedAt is newest first; an ascending sort reads forward from the cursor instead.
  IssuesUpdatedSince: `query IssuesUpdatedSince($since: DateTimeOrDuration!, $first: Int!) {
  issues(
    first: $first
    filter: { updatedAt: { gt: $since } }
    sort: [{ updatedAt: { order: Ascending } }]
  ) { nodes { ${ISSUE_FIELDS} } }
}`,
  IssuesCompletedSince: `query IssuesCompletedSince($since: DateTimeOrDuration!, $first: Int!) {
  issues(first: $first, orderBy: updatedAt, filter: { completedAt: { gt: $since } }) {
    nodes { ${ISSUE_FIELDS} }
  }
}`,
  IssuesInStateTypes: `query IssuesInStateTypes($types: [String!]!, $first: Int!) {
  issues(first: $first, orderBy: updatedAt, filter: { state: { type: { in: $types } } }) {
    nodes { ${ISSUE_FIELDS} }
  }
}`,
} as const;

export type LinearOperationName = keyof typeof LINEAR_OPERATIONS;

// ---- Response shapes, parsed where they enter ----

const teamSchema = z.object({ id: z.string(), key: z.string(), name: z.string() });
const userSchema = z.object({
  id: z.string(),
  name: z.string(),
  displayName: z.string(),
  email: z.string(),
});
const issueSchema = z
  .object({
    id: z.string(),
    identifier: z.string(),
    title: z.string(),
    url: z.string(),
    description: z.string().nullish(),
    priority: z.number(),
    priorityLabel: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    state: z.object({ name: z.string(), type: z.string(), color: z.string() }),
    team: z.object({ key: z.string(), name: z.string() }),
    assignee: z.object({ name: z.string(), displayName: z.string() }).nullish(),
    labels: z.object({ nodes: z.array(z.object({ name: z.string() })) }),
  })
  .transform((issue): LinearIssue => ({
    ...issue,
    description: issue.description ?? null,
    assignee: issue.assignee ?? null,
    labels: issue.labels.nodes.map((label) => label.name),
  }));
const nodes = <T extends z.ZodType>(schema: T) => z.object({ nodes: z.array(schema) });

const responses = {
  FindTeam: z.object({ teams: nodes(teamSchema) }),
  ListTeams: z.object({ teams: nodes(teamSchema) }),
  CreateIssue: z.object({ issueCreate: z.object({ success: z.boolean(), issue: issueSchema.nullish() }) }),
  GetIssue: z.object({ issue: issueSchema.nullable() }),
  OpenIssuesAssignedTo: z.object({ issues: nodes(issueSchema) }),
  CreateComment: z.object({
    commentCreate: z.object({
      success: z.boolean(),
      comment: z.object({ id: z.string(), url: z.string(), body: z.string() }).nullish(),
    }),
  }),
  FindUserByEmail: z.object({ users: nodes(userSchema) }),
  Viewer: z.object({ viewer: userSchema }),
  IssueTeamStates: z.object({
    issue: z
      .object({
        id: z.string(),
        state: z.object({ id: z.string(), name: z.string() }),
        team: z.object({ states: nodes(z.object({ id: z.string(), name: z.string() })) }),
      })
      .nullable(),
  }),
  UpdateIssueState: z.object({ issueUpdate: z.object({ success: z.boolean() }) }),
  IssueAttachments: z.object({
    issue: z.object({ attachments: nodes(z.object({ url: z.string() })) }).nullable(),
  }),
  AttachUrl: z.object({ attachmentLinkURL: z.object({ success: z.boolean() }) }),
  IssuesUpdatedSince: z.object({ issues: nodes(issueSchema) }),
  IssuesCompletedSince: z.object({ issues: nodes(issueSchema) }),
  IssuesInStateTypes: z.object({ issues: nodes(issueSchema) }),
} satisfies Record<LinearOperationName, z.ZodType>;

export function createLinearClient(options: LinearClientOptions): LinearApi {
  const sdk = new LinearClient({ apiKey: options.apiKey, apiUrl: options.apiUrl });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function request<N extends LinearOperationName>(
    operation: N,
    variables: Record<string, unknown>,
  ): Promise<z.output<(typeof responses)[N]>> {
    // The SDK cannot abort per request (its fetch options are fixed when the client is made), so we stop
    // waiting instead; callers that create things pass a stable id, so a late success is found, not repeated.
    const timedOut = new Error(
      `Linear did not answer ${operation} within ${timeoutMs} ms (LINEAR_API_URL ${options.apiUrl}).`,
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut), timeoutMs);
    });
    let data: unknown;
    try {
      const answer = await Promise.race([
        sdk.client.rawRequest<unknown, Record<string, unknown>>(LINEAR_OPERATIONS[operation], variables),
        timeout,
      ]);
      data = answer.data;
    } catch (error) {
      throw error === timedOut ? timedOut : classifyLinearError(error, operation, options.apiUrl);
    } finally {
      clearTimeout(timer);
    }
    const parsed = responses[operation].safeParse(data);
    if (!parsed.success) {
      throw new Error(
        `Linear answered ${operation} in an unexpected shape: ${parsed.error.issues
          .slice(0, 3)
          .map((issue) => `${issue.path.join(".")}: ${issue.message}`)
          .join("; ")}`,
      );
    }
    return parsed.data as z.output<(typeof responses)[N]>;
  }

  return {
    async findTeam(key): Promise<LinearTeam | undefined> {
      const data = await request("FindTeam", { key: key.trim() });
      return data.teams.nodes[0];
    },

    async listTeams(): Promise<LinearTeam[]> {
      const data = await request("ListTeams", { first: MAX_TEAMS });
      return data.teams.nodes;
    },

    async createIssue(input: NewLinearIssue): Promise<LinearIssue> {
      const data = await request("CreateIssue", {
        input: {
          teamId: input.teamId,
          title: input.title,
          ...(input.description ? { description: input.description } : {}),
          ...(input.priority !== undefined ? { priority: input.priority } : {}),
          ...(input.id ? { id: input.id } : {}),
        },
      });
      const { success, issue } = data.issueCreate;
      if (!success || !issue) throw new Error("Linear answered issueCreate without creating the issue.");
      return issue;
    },

    async getIssue(idOrIdentifier): Promise<LinearIssue | undefined> {
      try {
        const data = await request("GetIssue", { id: idOrIdentifier });
        return data.issue ?? undefined;
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    },

    async listOpenIssuesAssignedTo(userId, limit = DEFAULT_OPEN_ISSUES): Promise<LinearIssue[]> {
      const data = await request("OpenIssuesAssignedTo", { userId, first: limit });
      return data.issues.nodes;
    },

    async createComment(issueId, body): Promise<LinearComment> {
      const data = await request("CreateComment", { input: { issueId, body } });
      const { success, comment } = data.commentCreate;
      if (!success || !comment)
        throw new Error("Linear answered commentCreate without creating the comment.");
      return comment;
    },

    async findUserByEmail(email): Promise<LinearUser | undefined> {
      const data = await request("FindUserByEmail", { email: email.trim() });
      return data.users.nodes[0];
    },

    async getViewer(): Promise<LinearUser> {
      const data = await request("Viewer", {});
      return data.viewer;
    },

    async moveIssueToState(issueId, stateName): Promise<boolean> {
      const data = await request("IssueTeamStates", { id: issueId });
      if (!data.issue) throw new NotFoundError(`Linear has no issue ${issueId}.`);
      const wanted = stateName.trim().toLowerCase();
      if (data.issue.state.name.toLowerCase() === wanted) return true;
      const target = data.issue.team.states.nodes.find((state) => state.name.toLowerCase() === wanted);
      if (!target) return false;
      const moved = await request("UpdateIssueState", { id: data.issue.id, stateId: target.id });
      if (!moved.issueUpdate.success)
        throw new Error("Linear answered issueUpdate without moving the issue.");
      return true;
    },

    async listAttachmentUrls(issueId): Promise<string[]> {
      const data = await request("IssueAttachments", { id: issueId });
      if (!data.issue) throw new NotFoundError(`Linear has no issue ${issueId}.`);
      return data.issue.attachments.nodes.map((attachment) => attachment.url);
    },

    async attachUrl(issueId, url, title): Promise<void> {
      const data = await request("AttachUrl", { issueId, url, title });
      if (!data.attachmentLinkURL.success) {
        throw new Error("Linear answered attachmentLinkURL without attaching the URL.");
      }
    },

    async listIssuesUpdatedSince(since, limit = DEFAULT_UPDATED_SINCE): Promise<LinearIssueUpdate[]> {
      const data = await request("IssuesUpdatedSince", { since, first: limit });
      // Sorted again here: the order is the cursor's correctness, so it does not rest on the server alone.
      return [...data.issues.nodes].sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
    },

    async listIssuesCompletedSince(since, limit = DEFAULT_UPDATED_SINCE): Promise<LinearIssue[]> {
      const data = await request("IssuesCompletedSince", { since, first: limit });
      return data.issues.nodes;
    },

    async listIssuesInStateTypes(types, limit = DEFAULT_UPDATED_SINCE): Promise<LinearIssue[]> {
      const data = await request("IssuesInStateTypes", { types, first: limit });
      return data.issues.nodes;
    },
  };
}

interface RawGraphQLError {
  message?: string;
  extensions?: { code?: string; type?: string; userPresentableMessage?: string; userError?: boolean };
}

/**
 * One failure of a Linear request, as the typed taxonomy in src/errors.ts. Linear answers a rate limit with
 * HTTP 400 (not 429) and `extensions.code: "RATELIMITED"`, and a refused key with
 * `extensions.code: "AUTHENTICATION_ERROR"`; the SDK reads `extensions.type` instead, so both are checked.
 */
export function classifyLinearError(error: unknown, operation: string, apiUrl: string): Error {
  if (error instanceof AuthError || error instanceof RateLimitedError || error instanceof NotFoundError) {
    return error;
  }
  if (!(error instanceof LinearError)) {
    const reason = error instanceof Error ? error.message : String(error);
    // fetch() rejects with TypeError("fetch failed") on DNS failures and refused connections.
    return new Error(`Could not reach the Linear API at LINEAR_API_URL ${apiUrl} (${operation}): ${reason}`, {
      cause: error,
    });
  }
  const raw = (error.raw?.response?.errors ?? []) as RawGraphQLError[];
  const codes = raw.map((entry) => entry.extensions?.code?.toUpperCase()).filter(Boolean);
  const status = error.status;
  const userMessage = raw[0]?.extensions?.userPresentableMessage ?? raw[0]?.message ?? error.message;

  if (error.type === LinearErrorType.Ratelimited || codes.includes("RATELIMITED") || status === 429) {
    return new RateLimitedError(
      `Linear is rate-limiting this API key (${operation}); try again later.`,
      retryAfterMs(error),
    );
  }
  const sdkSawAuthError = error.type === LinearErrorType.AuthenticationError && raw.length > 0;
  if (sdkSawAuthError || codes.includes("AUTHENTICATION_ERROR") || status === 401) {
    return new AuthError(
      `Linear refused LINEAR_API_KEY (${operation}): create a personal API key under Linear → Settings → ` +
        "Security & access (or check that the key was not revoked) and set LINEAR_API_KEY to it.",
    );
  }
  if (error.type === LinearErrorType.Forbidden || codes.includes("FORBIDDEN") || status === 403) {
    return new AuthError(
      `The LINEAR_API_KEY user may not do this (${operation}): ${userMessage}. Use a key of a member ` +
        "with access to the team, or give that user access.",
    );
  }
  if (raw.some((entry) => /entity not found|could not find/i.test(`${entry.message} ${userMessage}`))) {
    return new NotFoundError(userMessage);
  }
  if (
    error.type === LinearErrorType.InvalidInput ||
    error.type === LinearErrorType.UserError ||
    raw.some((entry) => entry.extensions?.userError === true)
  ) {
    return new UserError(`Linear did not accept this: ${userMessage}`);
  }
  if (raw.length === 0 && status !== undefined) {
    return new Error(
      `The Linear API at LINEAR_API_URL ${apiUrl} answered HTTP ${status} to ${operation}: check the URL.`,
      { cause: error },
    );
  }
  return new Error(`Linear failed ${operation}: ${error.message}`, { cause: error });
}

/** Retry-After (seconds), else X-RateLimit-Requests-Reset (epoch milliseconds). */
function retryAfterMs(error: LinearError): number | undefined {
  const headers = error.raw?.response?.headers;
  const retryAfter = Number(headers?.get("retry-after") ?? NaN);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  const resetAt = Number(headers?.get("x-ratelimit-requests-reset") ?? NaN);
  if (Number.isFinite(resetAt) && resetAt > Date.now()) return resetAt - Date.now();
  return undefined;
}
