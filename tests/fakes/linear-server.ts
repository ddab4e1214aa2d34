/**
 * A fake Linear GraphQL API on loopback, for LINEAR_API_URL. It answers the named operations Switchboard
 * sends (see LINEAR_OPERATIONS in src/sources/linear/linear-client.ts) from an in-memory workspace of teams,
 * users, issues and comments, with Linear's answer shapes:
 * - `Authorization` must be the API key itself (personal keys are sent bare); anything else is answered
 *   like Linear answers a bad key: an AUTHENTICATION_ERROR GraphQL error.
 * - errors are GraphQL errors with `extensions.type` (what @linear/sdk reads) and `extensions.code` (what
 *   Linear documents); a rate limit is HTTP 400 with code RATELIMITED and the X-RateLimit-Requests-* headers.
 * - an unknown id is "Entity not found", a bad input is an "invalid input" user error.
 *
 * - issue changes made through the API (state moves, attachments, comments) bump the issue's updatedAt; a
 *   test changes an issue "in Linear" with `updateIssue`, and links with `issue.attachments`.
 *
 * Extending it: each operation is one entry in `OPERATIONS` below (root field + handler), grouped by what it
 * touches. Tests can also add or replace an operation at run time with `handle(name, handler)`.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { text as readBody } from "node:stream/consumers";

export const FAKE_LINEAR_API_KEY = "lin_api_fake0123456789abcdefghijklmnopqrstuv";

export interface FakeTeam {
  id: string;
  key: string;
  name: string;
}

export interface FakeUser {
  id: string;
  name: string;
  displayName: string;
  email: string;
  active: boolean;
}

export interface FakeState {
  name: string;
  type: "triage" | "backlog" | "unstarted" | "started" | "completed" | "canceled";
  color: string;
}

export interface FakeIssue {
  id: string;
  identifier: string;
  number: number;
  teamId: string;
  title: string;
  description: string | null;
  priority: number;
  state: FakeState;
  assigneeId: string | null;
  labels: string[];
  /** URLs attached to the issue (GitHub pull requests among them), with their titles. */
  attachments: Array<{ url: string; title: string }>;
  createdAt: string;
  updatedAt: string;
  /** When the issue last entered a completed state; null while it is not completed (as Linear). */
  completedAt: string | null;
}

export interface FakeComment {
  id: string;
  issueId: string;
  body: string;
  createdAt: string;
}

export interface FakeLinearRequest {
  operation: string;
  variables: Record<string, unknown>;
  /** HTTP status answered. */
  status: number;
  fault?: LinearFault["kind"];
}

export type LinearFault =
  /** What Linear answers when a key runs out of its hourly budget: HTTP 400, code RATELIMITED. */
  | { kind: "ratelimited"; retryAfterSeconds?: number }
  /** What Linear answers a missing, wrong or revoked key. */
  | { kind: "unauthenticated" }
  /** Any answer: a status and GraphQL errors (or a non-JSON body). */
  | { kind: "answer"; status: number; errors?: unknown[]; text?: string };

export interface FakeLinearOptions {
  apiKey?: string;
  /** The workspace's URL key, used in issue and comment URLs. */
  organization?: string;
  teams?: Array<{ key: string; name: string }>;
  users?: Array<{ name: string; email: string; displayName?: string }>;
  /** Email of the user the API key belongs to; default: the first user. */
  viewerEmail?: string;
  /** Milliseconds before every answer, to make concurrent callers overlap. */
  latencyMs?: number;
}

/** A handler's answer is the `data` object; throw GraphQLFailure for an error answer. */
export type OperationHandler = (variables: Record<string, unknown>, workspace: FakeWorkspace) => unknown;

export class GraphQLFailure extends Error {
  constructor(
    readonly status: number,
    readonly errors: unknown[],
    readonly headers: Record<string, string> = {},
  ) {
    super(String((errors[0] as { message?: string } | undefined)?.message ?? "GraphQL failure"));
  }
}

export interface FakeWorkspace {
  organization: string;
  teams: FakeTeam[];
  users: FakeUser[];
  issues: FakeIssue[];
  comments: FakeComment[];
  viewer(): FakeUser;
  now(): string;
}

export interface FakeLinear extends FakeWorkspace {
  /** For LINEAR_API_URL. */
  url: string;
  apiKey: string;
  requests: FakeLinearRequest[];
  /** Add an issue directly (not through the API), e.g. one assigned to a user for `/linear mine`. */
  addIssue(input: {
    teamKey: string;
    title: string;
    description?: string;
    assigneeEmail?: string;
    stateType?: FakeState["type"];
    priority?: number;
    labels?: string[];
  }): FakeIssue;
  /**
   * Change an issue directly (not through the API), as a person in Linear would: bumps updatedAt, so
   * `listIssuesUpdatedSince` finds it. Returns the issue.
   */
  updateIssue(
    idOrIdentifier: string,
    changes: { title?: string; stateType?: FakeState["type"]; priority?: number },
  ): FakeIssue;
  /** Add or replace the handler of one operation. */
  handle(operation: string, handler: OperationHandler, rootField?: string): void;
  /** Answer requests with a fault: every one until cleared, or the next `times`, optionally only some operations. */
  failWith(fault: LinearFault, options?: { times?: number; operations?: string[] }): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

const DEFAULT_TEAMS = [
  { key: "ENG", name: "Engineering" },
  { key: "DES", name: "Design" },
];
const DEFAULT_USERS = [
  { name: "Switchboard Bot", email: "bot@example.com", displayName: "switchboard" },
  { name: "Ada Lovelace", email: "ada@example.com", displayName: "ada" },
];

/** Every team's workflow, as a new Linear team gets it. State ids are `state-<type>` in every team. */
const STATES: Record<string, FakeState> = {
  backlog: { name: "Backlog", type: "backlog", color: "#bec2c8" },
  unstarted: { name: "Todo", type: "unstarted", color: "#e2e2e2" },
  started: { name: "In Progress", type: "started", color: "#f2c94c" },
  completed: { name: "Done", type: "completed", color: "#5e6ad2" },
  canceled: { name: "Canceled", type: "canceled", color: "#95a2b3" },
  triage: { name: "Triage", type: "triage", color: "#fc7840" },
};

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const PRIORITY_LABELS = ["No priority", "Urgent", "High", "Medium", "Low"];

// ---- Error answers, shaped like Linear's ----

function userError(message: string, userPresentableMessage = message): GraphQLFailure {
  return new GraphQLFailure(400, [
    {
      message,
      extensions: {
        type: "invalid input",
        code: "INPUT_ERROR",
        statusCode: 400,
        userError: true,
        userPresentableMessage,
      },
    },
  ]);
}

function entityNotFound(entity: string, path: string): GraphQLFailure {
  return new GraphQLFailure(200, [
    {
      message: `Entity not found: ${entity}`,
      path: [path],
      extensions: {
        type: "invalid input",
        code: "INPUT_ERROR",
        statusCode: 400,
        userError: true,
        userPresentableMessage: `Could not find referenced ${entity}.`,
      },
    },
  ]);
}

function unauthenticated(): GraphQLFailure {
  return new GraphQLFailure(401, [
    {
      message: "Authentication required, not authenticated",
      extensions: {
        type: "authentication error",
        code: "AUTHENTICATION_ERROR",
        statusCode: 401,
        userError: true,
        userPresentableMessage: "You need to authenticate to access this operation.",
      },
    },
  ]);
}

function rateLimited(retryAfterSeconds: number): GraphQLFailure {
  return new GraphQLFailure(
    400,
    [
      {
        message: "Rate limit exceeded",
        extensions: {
          type: "ratelimited",
          code: "RATELIMITED",
          statusCode: 429,
          userError: true,
          userPresentableMessage: "Rate limit exceeded, please try again later.",
        },
      },
    ],
    {
      "X-RateLimit-Requests-Limit": "1500",
      "X-RateLimit-Requests-Remaining": "0",
      "X-RateLimit-Requests-Reset": String(Date.now() + retryAfterSeconds * 1000),
    },
  );
}

// ---- Shapes of answers ----

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 60) || "issue"
  );
}

function issueJson(issue: FakeIssue, workspace: FakeWorkspace) {
  const team = workspace.teams.find((t) => t.id === issue.teamId)!;
  const assignee = workspace.users.find((u) => u.id === issue.assigneeId);
  return {
    id: issue.id,
    identifier: issue.identifier,
    title: issue.title,
    url: `https://linear.app/${workspace.organization}/issue/${issue.identifier}/${slug(issue.title)}`,
    description: issue.description,
    priority: issue.priority,
    priorityLabel: PRIORITY_LABELS[issue.priority] ?? "No priority",
    createdAt: issue.createdAt,
    updatedAt: issue.updatedAt,
    state: issue.state,
    team: { key: team.key, name: team.name },
    assignee: assignee ? { name: assignee.name, displayName: assignee.displayName } : null,
    labels: { nodes: issue.labels.map((name) => ({ name })) },
  };
}

/** A state change as Linear records it: completedAt set on entering a completed state, cleared on leaving. */
function moveToState(issue: FakeIssue, state: FakeState, now: string): void {
  if (state.type === "completed" && issue.state.type !== "completed") issue.completedAt = now;
  if (state.type !== "completed") issue.completedAt = null;
  issue.state = state;
  issue.updatedAt = now;
}

function stateId(state: FakeState): string {
  return `state-${state.type}`;
}

function userJson(user: FakeUser) {
  return { id: user.id, name: user.name, displayName: user.displayName, email: user.email };
}

function findIssue(workspace: FakeWorkspace, idOrIdentifier: string): FakeIssue | undefined {
  const wanted = idOrIdentifier.toUpperCase();
  return workspace.issues.find((i) => i.id === idOrIdentifier || i.identifier === wanted);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function createIssueIn(
  workspace: FakeWorkspace,
  team: FakeTeam,
  fields: Partial<FakeIssue> & { title: string; id?: string },
): FakeIssue {
  const number = workspace.issues.filter((i) => i.teamId === team.id).length + 1;
  const now = workspace.now();
  const state = fields.state ?? STATES.unstarted!;
  const issue: FakeIssue = {
    id: fields.id ?? randomUUID(),
    identifier: `${team.key}-${number}`,
    number,
    teamId: team.id,
    title: fields.title,
    description: fields.description ?? null,
    priority: fields.priority ?? 0,
    state,
    assigneeId: fields.assigneeId ?? null,
    labels: fields.labels ?? [],
    attachments: [],
    createdAt: now,
    updatedAt: now,
    completedAt: state.type === "completed" ? now : null,
  };
  workspace.issues.push(issue);
  return issue;
}

// ---- Operations, by what they touch. Each names the root field its document must select. ----

interface Operation {
  rootField: string;
  handler: OperationHandler;
}

const OPERATIONS: Record<string, Operation> = {
  // Teams
  FindTeam: {
    rootField: "teams",
    handler: (variables, workspace) => {
      const key = text(variables.key).toUpperCase();
      return {
        teams: { nodes: workspace.teams.filter((team) => team.key.toUpperCase() === key).slice(0, 1) },
      };
    },
  },
  ListTeams: {
    rootField: "teams",
    handler: (variables, workspace) => {
      const first = typeof variables.first === "number" ? variables.first : 50;
      return { teams: { nodes: workspace.teams.slice(0, first) } };
    },
  },

  // Users
  FindUserByEmail: {
    rootField: "users",
    handler: (variables, workspace) => {
      const email = text(variables.email).toLowerCase();
      const found = workspace.users.filter((user) => user.active && user.email.toLowerCase() === email);
      return { users: { nodes: found.slice(0, 1).map(userJson) } };
    },
  },
  Viewer: {
    rootField: "viewer",
    handler: (_variables, workspace) => ({ viewer: userJson(workspace.viewer()) }),
  },

  // Issues
  GetIssue: {
    rootField: "issue",
    handler: (variables, workspace) => {
      const issue = findIssue(workspace, text(variables.id));
      if (!issue) throw entityNotFound("Issue", "issue");
      return { issue: issueJson(issue, workspace) };
    },
  },
  OpenIssuesAssignedTo: {
    rootField: "issues",
    handler: (variables, workspace) => {
      const userId = text(variables.userId);
      const first = typeof variables.first === "number" ? variables.first : 50;
      const open = workspace.issues
        .filter((i) => i.assigneeId === userId && !["completed", "canceled"].includes(i.state.type))
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        .slice(0, first);
      return { issues: { nodes: open.map((issue) => issueJson(issue, workspace)) } };
    },
  },
  CreateIssue: {
    rootField: "issueCreate",
    handler: (variables, workspace) => {
      const input = (variables.input ?? {}) as Record<string, unknown>;
      const team = workspace.teams.find((t) => t.id === input.teamId);
      if (!team) throw entityNotFound("Team", "issueCreate");
      const title = text(input.title).trim();
      if (!title) throw userError("Argument Validation Error", "Title can't be empty.");
      if (title.length > 255) throw userError("Argument Validation Error", "Title is too long.");
      const priority = input.priority === undefined ? 0 : input.priority;
      if (typeof priority !== "number" || !Number.isInteger(priority) || priority < 0 || priority > 4) {
        throw userError("Argument Validation Error", "Priority must be between 0 and 4.");
      }
      if (input.id !== undefined) {
        if (typeof input.id !== "string" || !UUID_V4.test(input.id)) {
          throw userError("Argument Validation Error", "id must be a UUID v4.");
        }
        if (workspace.issues.some((i) => i.id === input.id)) {
          throw userError("Duplicate id", "An issue with this id already exists.");
        }
      }
      const issue = createIssueIn(workspace, team, {
        title,
        description: typeof input.description === "string" ? input.description : null,
        priority,
        ...(typeof input.id === "string" ? { id: input.id } : {}),
      });
      return { issueCreate: { success: true, issue: issueJson(issue, workspace) } };
    },
  },

  IssueTeamStates: {
    rootField: "issue",
    handler: (variables, workspace) => {
      const issue = findIssue(workspace, text(variables.id));
      if (!issue) throw entityNotFound("Issue", "issue");
      const states = Object.values(STATES).map((state) => ({ id: stateId(state), name: state.name }));
      return {
        issue: {
          id: issue.id,
          state: { id: stateId(issue.state), name: issue.state.name },
          team: { states: { nodes: states } },
        },
      };
    },
  },
  UpdateIssueState: {
    rootField: "issueUpdate",
    handler: (variables, workspace) => {
      const issue = findIssue(workspace, text(variables.id));
      if (!issue) throw entityNotFound("Issue", "issueUpdate");
      const state = Object.values(STATES).find((candidate) => stateId(candidate) === variables.stateId);
      if (!state) throw entityNotFound("WorkflowState", "issueUpdate");
      moveToState(issue, state, workspace.now());
      return { issueUpdate: { success: true } };
    },
  },
  IssuesUpdatedSince: {
    rootField: "issues",
    handler: (variables, workspace) => {
      const since = text(variables.since);
      if (Number.isNaN(Date.parse(since))) throw userError("Argument Validation Error", "Invalid date.");
      const first = typeof variables.first === "number" ? variables.first : 50;
      const updated = workspace.issues
        .filter((i) => Date.parse(i.updatedAt) > Date.parse(since))
        .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))
        .slice(0, first);
      return { issues: { nodes: updated.map((issue) => issueJson(issue, workspace)) } };
    },
  },

  IssuesCompletedSince: {
    rootField: "issues",
    handler: (variables, workspace) => {
      const since = text(variables.since);
      if (Number.isNaN(Date.parse(since))) throw userError("Argument Validation Error", "Invalid date.");
      const first = typeof variables.first === "number" ? variables.first : 50;
      const completed = workspace.issues
        .filter((i) => i.completedAt !== null && Date.parse(i.completedAt) > Date.parse(since))
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        .slice(0, first);
      return { issues: { nodes: completed.map((issue) => issueJson(issue, workspace)) } };
    },
  },

  IssuesInStateTypes: {
    rootField: "issues",
    handler: (variables, workspace) => {
      const types = Array.isArray(variables.types) ? variables.types.map(String) : [];
      const first = typeof variables.first === "number" ? variables.first : 50;
      const found = workspace.issues
        .filter((i) => types.includes(i.state.type))
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        .slice(0, first);
      return { issues: { nodes: found.map((issue) => issueJson(issue, workspace)) } };
    },
  },

  // Attachments
  IssueAttachments: {
    rootField: "issue",
    handler: (variables, workspace) => {
      const issue = findIssue(workspace, text(variables.id));
      if (!issue) throw entityNotFound("Issue", "issue");
      return { issue: { attachments: { nodes: issue.attachments.map(({ url }) => ({ url })) } } };
    },
  },
  AttachUrl: {
    rootField: "attachmentLinkURL",
    handler: (variables, workspace) => {
      const issue = findIssue(workspace, text(variables.issueId));
      if (!issue) throw entityNotFound("Issue", "attachmentLinkURL");
      const url = text(variables.url);
      if (!/^https?:\/\//.test(url)) throw userError("Argument Validation Error", "url must be a URL.");
      const title = text(variables.title) || url;
      // Linear keeps one attachment per URL on an issue: linking it again updates the title.
      const existing = issue.attachments.find((attachment) => attachment.url === url);
      if (existing) existing.title = title;
      else issue.attachments.push({ url, title });
      issue.updatedAt = workspace.now();
      return { attachmentLinkURL: { success: true } };
    },
  },

  // Comments
  CreateComment: {
    rootField: "commentCreate",
    handler: (variables, workspace) => {
      const input = (variables.input ?? {}) as Record<string, unknown>;
      const issue = findIssue(workspace, text(input.issueId));
      if (!issue) throw entityNotFound("Issue", "commentCreate");
      const body = text(input.body);
      if (!body.trim()) throw userError("Argument Validation Error", "Comment body can't be empty.");
      const comment: FakeComment = { id: randomUUID(), issueId: issue.id, body, createdAt: workspace.now() };
      workspace.comments.push(comment);
      issue.updatedAt = comment.createdAt;
      const url = `https://linear.app/${workspace.organization}/issue/${issue.identifier}/${slug(issue.title)}#comment-${comment.id.slice(0, 8)}`;
      return { commentCreate: { success: true, comment: { id: comment.id, url, body } } };
    },
  },
};

export async function startFakeLinear(options: FakeLinearOptions = {}): Promise<FakeLinear> {
  const apiKey = options.apiKey ?? FAKE_LINEAR_API_KEY;
  const teams: FakeTeam[] = (options.teams ?? DEFAULT_TEAMS).map((team) => ({ id: randomUUID(), ...team }));
  const users: FakeUser[] = (options.users ?? DEFAULT_USERS).map((user) => ({
    id: randomUUID(),
    name: user.name,
    email: user.email,
    displayName: user.displayName ?? user.email.split("@")[0]!,
    active: true,
  }));
  const operations = new Map(Object.entries(OPERATIONS));
  const requests: FakeLinearRequest[] = [];
  const sockets = new Set<Socket>();
  let latencyMs = options.latencyMs ?? 0;
  let fault: { fault: LinearFault; remaining: number; operations?: string[] } | undefined;
  // Strictly increasing timestamps, so "most recently updated" is well defined within one millisecond.
  let lastTime = 0;

  const workspace: FakeWorkspace = {
    organization: options.organization ?? "acme",
    teams,
    users,
    issues: [],
    comments: [],
    viewer() {
      const email = options.viewerEmail ?? users[0]?.email;
      const viewer = users.find((user) => user.email === email);
      if (!viewer) throw new Error("the fake Linear workspace has no viewer user");
      return viewer;
    },
    now() {
      lastTime = Math.max(Date.now(), lastTime + 1);
      return new Date(lastTime).toISOString();
    },
  };

  function takeFault(operation: string): LinearFault | undefined {
    if (!fault || fault.remaining <= 0) return undefined;
    if (fault.operations && !fault.operations.includes(operation)) return undefined;
    fault.remaining -= 1;
    return fault.fault;
  }

  function answerFault(f: LinearFault): GraphQLFailure | { status: number; text: string } {
    switch (f.kind) {
      case "ratelimited":
        return rateLimited(f.retryAfterSeconds ?? 60);
      case "unauthenticated":
        return unauthenticated();
      case "answer":
        return f.text !== undefined
          ? { status: f.status, text: f.text }
          : new GraphQLFailure(f.status, f.errors ?? []);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (req.method !== "POST" || (req.url ?? "/").split("?")[0] !== new URL(url).pathname) {
      sendText(res, 404, "Not Found");
      return;
    }
    let body: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      sendJson(res, 400, { errors: [graphqlError("Unexpected token in JSON body")] });
      return;
    }
    const query = text(body.query);
    const variables = (body.variables ?? {}) as Record<string, unknown>;
    const operation = text(body.operationName) || operationNameOf(query) || "(anonymous)";
    const log = (status: number, kind?: LinearFault["kind"]) =>
      requests.push({ operation, variables, status, ...(kind ? { fault: kind } : {}) });

    const injected = takeFault(operation);
    if (injected) {
      const answer = answerFault(injected);
      log(answer.status, injected.kind);
      if (answer instanceof GraphQLFailure)
        sendJson(res, answer.status, { errors: answer.errors, data: null }, answer.headers);
      else sendText(res, answer.status, answer.text);
      return;
    }
    if (req.headers.authorization !== apiKey) {
      const answer = unauthenticated();
      log(answer.status);
      sendJson(res, answer.status, { errors: answer.errors, data: null });
      return;
    }
    const known = operations.get(operation);
    if (!known || !new RegExp(`\\b${known.rootField}\\b`).test(query)) {
      log(400);
      sendJson(res, 400, {
        errors: [
          graphqlError(
            `The fake Linear does not know operation ${operation} selecting ${known?.rootField ?? "?"}`,
          ),
        ],
      });
      return;
    }
    try {
      const data = known.handler(variables, workspace);
      log(200);
      sendJson(res, 200, { data });
    } catch (error) {
      if (!(error instanceof GraphQLFailure)) throw error;
      log(error.status);
      sendJson(res, error.status, { errors: error.errors, data: null }, error.headers);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      sendJson(res, 500, { errors: [graphqlError(`fake Linear failed: ${String(error)}`)] });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/graphql`;

  return Object.assign(workspace, {
    url,
    apiKey,
    requests,
    addIssue(input: Parameters<FakeLinear["addIssue"]>[0]) {
      const team = teams.find((t) => t.key === input.teamKey);
      if (!team) throw new Error(`the fake Linear has no team ${input.teamKey}`);
      const assignee = input.assigneeEmail ? users.find((u) => u.email === input.assigneeEmail) : undefined;
      if (input.assigneeEmail && !assignee)
        throw new Error(`the fake Linear has no user ${input.assigneeEmail}`);
      return createIssueIn(workspace, team, {
        title: input.title,
        description: input.description ?? null,
        priority: input.priority ?? 0,
        state: STATES[input.stateType ?? "unstarted"]!,
        assigneeId: assignee?.id ?? null,
        labels: input.labels ?? [],
      });
    },
    updateIssue(idOrIdentifier: string, changes: Parameters<FakeLinear["updateIssue"]>[1]) {
      const issue = findIssue(workspace, idOrIdentifier);
      if (!issue) throw new Error(`the fake Linear has no issue ${idOrIdentifier}`);
      if (changes.title !== undefined) issue.title = changes.title;
      if (changes.stateType !== undefined) moveToState(issue, STATES[changes.stateType]!, workspace.now());
      if (changes.priority !== undefined) issue.priority = changes.priority;
      issue.updatedAt = workspace.now();
      return issue;
    },
    handle(operation: string, handler: OperationHandler, rootField?: string) {
      operations.set(operation, {
        rootField: rootField ?? operations.get(operation)?.rootField ?? "",
        handler,
      });
    },
    failWith(f: LinearFault, faultOptions: { times?: number; operations?: string[] } = {}) {
      fault = {
        fault: f,
        remaining: faultOptions.times ?? Number.POSITIVE_INFINITY,
        ...(faultOptions.operations ? { operations: faultOptions.operations } : {}),
      };
    },
    clearFaults() {
      fault = undefined;
    },
    setLatency(ms: number) {
      latencyMs = ms;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await closed;
    },
  });
}

function operationNameOf(query: string): string | undefined {
  return /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(query)?.[1];
}

function graphqlError(message: string) {
  return {
    message,
    extensions: { type: "graphql error", code: "GRAPHQL_VALIDATION_FAILED", statusCode: 400 },
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res
    .writeHead(status, { ...headers, "Content-Type": "application/json; charset=utf-8" })
    .end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { "Content-Type": "text/plain" }).end(body);
}
