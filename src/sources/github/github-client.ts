/**
 * GitHubApi over Octokit, against GITHUB_API_URL (github.com, GitHub Enterprise, or the tests' fake).
 *
 * Every answer is parsed with zod where it enters, and every failure leaves as one of the typed errors in
 * src/errors.ts, so a command can tell the user "try again in 3 min" or name the variable the operator must
 * fix, instead of a stack trace.
 *
 * Auth: a token (`GITHUB_TOKEN`: a fine-grained or classic personal access token) is fully supported.
 * GitHub App auth (`GITHUB_APP_ID` + `GITHUB_APP_PRIVATE_KEY` + `GITHUB_APP_INSTALLATION_ID`) needs
 * `@octokit/auth-app` to mint installation tokens; it is not a dependency yet, so with only App credentials
 * the factory reports that and returns undefined (the commands then say which variable to set).
 */
import { Octokit } from "@octokit/rest";
import { z } from "zod";
import type { Environment } from "../../config/environment.js";
import { AuthError, NotFoundError, RateLimitedError } from "../../errors.js";
import type { Logger } from "../../observability/logger.js";
import type {
  GitHubApi,
  GitHubChecksSummary,
  GitHubPullRequest,
  GitHubPullRequestList,
  GitHubPullRequestSummary,
  GitHubRepository,
  GitHubReview,
  GitHubReviewState,
  GitHubUser,
} from "./github-api.js";

/** A request that takes longer than this fails; an interaction waits on it, and Discord's patience is finite. */
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_LIST_LIMIT = 20;
/** The search API's page size limit. */
const MAX_LIST_LIMIT = 100;
/** GitHub's advice when a secondary rate limit names no time: wait at least a minute. */
const SECONDARY_RATE_LIMIT_WAIT_MS = 60_000;

/** Said when only GitHub App credentials are set. */
export const GITHUB_APP_AUTH_UNSUPPORTED =
  "GitHub App credentials are set, but App auth needs the @octokit/auth-app package, which this build does not include: set GITHUB_TOKEN to use the GitHub API.";

export interface GitHubClientOptions {
  token: string;
  /** GITHUB_API_URL. */
  baseUrl: string;
  /** The variable the token came from, named in auth errors. */
  credentialName?: string;
  timeoutMs?: number;
  logger?: Logger;
  /** For rate-limit reset times; tests pin it. */
  clock?: () => number;
}

/**
 * The GitHub API for this environment, or undefined when no usable credentials are configured (commands
 * that need it then tell the user which variable the operator must set).
 */
export function createGitHubApi(
  env: Partial<Pick<Environment, "GITHUB_TOKEN" | "GITHUB_APP_ID">> & Pick<Environment, "GITHUB_API_URL">,
  options: { logger?: Logger; timeoutMs?: number } = {},
): GitHubApi | undefined {
  if (env.GITHUB_TOKEN) {
    return createGitHubClient({
      token: env.GITHUB_TOKEN,
      baseUrl: env.GITHUB_API_URL,
      credentialName: "GITHUB_TOKEN",
      ...options,
    });
  }
  if (env.GITHUB_APP_ID) options.logger?.warn(GITHUB_APP_AUTH_UNSUPPORTED);
  return undefined;
}

export function createGitHubClient(options: GitHubClientOptions): GitHubApi {
  const credential = options.credentialName ?? "GITHUB_TOKEN";
  const clock = options.clock ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const logger = options.logger;
  const octokit = new Octokit({
    auth: options.token,
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    userAgent: "switchboard",
    request: {
      fetch: (input: string | URL, init?: RequestInit) =>
        fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) }),
    },
    // Octokit's own warnings (deprecations) go to our logger instead of the console.
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => logger?.warn({ component: "github" }, message),
      error: (message: string) => logger?.error({ component: "github" }, message),
    },
  });

  /** Runs one API call, turning GitHub's failures into the typed errors callers act on. */
  async function call<T>(action: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw typedError(error, { action, credential, now: clock(), baseUrl: options.baseUrl });
    }
  }

  /** A 404 (or a repo name that cannot exist) means "not there": undefined, not an error. */
  async function orUndefined<T>(lookup: () => Promise<T>): Promise<T | undefined> {
    try {
      return await lookup();
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async function checksOf(owner: string, repo: string, ref: string): Promise<GitHubChecksSummary> {
    const [runs, combined] = await Promise.all([
      call(`list the check runs of ${owner}/${repo}@${ref}`, () =>
        octokit.paginate(octokit.rest.checks.listForRef, { owner, repo, ref, per_page: 100 }),
      ),
      call(`read the commit status of ${owner}/${repo}@${ref}`, () =>
        octokit.rest.repos.getCombinedStatusForRef({ owner, repo, ref, per_page: 100 }),
      ),
    ]);
    return summarizeChecks(
      z.array(checkRunSchema).parse(runs),
      combinedStatusSchema.parse(combined.data).statuses,
    );
  }

  return {
    async getRepository(fullName) {
      const name = splitRepo(fullName);
      if (!name) return undefined;
      return orUndefined(async () => {
        const { data } = await call(`read repository ${fullName}`, () => octokit.rest.repos.get(name));
        const repo = repositorySchema.parse(data);
        return {
          fullName: repo.full_name,
          defaultBranch: repo.default_branch,
          private: repo.private,
          url: repo.html_url,
        } satisfies GitHubRepository;
      });
    },

    async getUser(login) {
      if (!GITHUB_LOGIN.test(login)) return undefined;
      return orUndefined(async () => {
        const { data } = await call(`read user ${login}`, () =>
          octokit.rest.users.getByUsername({ username: login }),
        );
        const user = userSchema.parse(data);
        return {
          login: user.login,
          ...(user.name ? { name: user.name } : {}),
          url: user.html_url,
          type: user.type === "Organization" || user.type === "Bot" ? user.type : "User",
        } satisfies GitHubUser;
      });
    },

    async getPullRequest(fullName, number) {
      const name = splitRepo(fullName);
      if (!name) return undefined;
      const found = await orUndefined(async () => {
        const { data } = await call(`read pull request ${fullName}#${number}`, () =>
          octokit.rest.pulls.get({ ...name, pull_number: number }),
        );
        return pullRequestSchema.parse(data);
      });
      if (!found) return undefined;
      const [reviews, checks] = await Promise.all([
        call(`list the reviews of ${fullName}#${number}`, () =>
          octokit.paginate(octokit.rest.pulls.listReviews, { ...name, pull_number: number, per_page: 100 }),
        ),
        checksOf(name.owner, name.repo, found.head.sha),
      ]);
      return {
        repo: `${name.owner}/${name.repo}`,
        number: found.number,
        title: found.title,
        url: found.html_url,
        author: found.user?.login ?? "ghost",
        state: found.merged || found.merged_at ? "merged" : found.state,
        draft: found.draft ?? false,
        headBranch: found.head.ref,
        baseBranch: found.base.ref,
        headSha: found.head.sha,
        createdAt: found.created_at,
        updatedAt: found.updated_at,
        ...(found.additions != null ? { additions: found.additions } : {}),
        ...(found.deletions != null ? { deletions: found.deletions } : {}),
        ...(found.changed_files != null ? { changedFiles: found.changed_files } : {}),
        labels: found.labels.map((label) => label.name),
        requestedReviewers: [
          ...(found.requested_reviewers ?? []).map((user) => user.login),
          ...(found.requested_teams ?? []).map((team) => `@${name.owner}/${team.slug}`),
        ],
        reviews: latestReviews(z.array(reviewSchema).parse(reviews)),
        checks,
      } satisfies GitHubPullRequest;
    },

    async listOpenPullRequests(filter) {
      if (!filter.repo && !filter.author) {
        throw new TypeError("listOpenPullRequests needs a repo or an author");
      }
      const limit = Math.min(MAX_LIST_LIMIT, Math.max(1, filter.limit ?? DEFAULT_LIST_LIMIT));
      const q = openPullRequestsQuery(filter);
      try {
        const { data } = await call(`search pull requests (${q})`, () =>
          octokit.rest.search.issuesAndPullRequests({ q, sort: "created", order: "asc", per_page: limit }),
        );
        const result = searchResultSchema.parse(data);
        return {
          items: result.items
            .filter((item) => !item.draft)
            .map((item) => ({
              repo: repoOfApiUrl(item.repository_url),
              number: item.number,
              title: item.title,
              url: item.html_url,
              author: item.user?.login ?? "ghost",
              createdAt: item.created_at,
            })),
          total: result.total_count,
        } satisfies GitHubPullRequestList;
      } catch (error) {
        // Search answers 422 when a repo: or author: qualifier names something that does not exist or
        // that these credentials cannot see.
        if (isRequestError(error) && error.status === 422) {
          throw new NotFoundError(
            `GitHub cannot search ${[filter.repo, filter.author].filter(Boolean).join(" by ")}: it does not exist or ${credential} cannot see it.`,
          );
        }
        throw error;
      }
    },

    async listPullRequests(fullName, filter) {
      const name = splitRepo(fullName);
      if (!name) throw new NotFoundError(`"${fullName}" is not a GitHub repository name (owner/name).`);
      const limit = Math.max(1, filter.limit ?? MAX_LIST_LIMIT);
      const pulls: unknown[] = [];
      await call(`list the ${filter.state} pull requests of ${fullName}`, async () => {
        for await (const page of octokit.paginate.iterator(octokit.rest.pulls.list, {
          ...name,
          state: filter.state,
          sort: "updated",
          direction: filter.state === "open" ? "asc" : "desc",
          per_page: Math.min(MAX_LIST_LIMIT, limit),
        })) {
          pulls.push(...page.data);
          if (pulls.length >= limit) break;
        }
      });
      return z
        .array(pullListItemSchema)
        .parse(pulls.slice(0, limit))
        .map((pull): GitHubPullRequestSummary => ({
          repo: `${name.owner}/${name.repo}`,
          number: pull.number,
          title: pull.title,
          url: pull.html_url,
          author: pull.user?.login ?? "ghost",
          authorType:
            pull.user?.type === "Bot" || pull.user?.type === "Organization" ? pull.user.type : "User",
          state: pull.merged_at ? "merged" : pull.state,
          draft: pull.draft ?? false,
          labels: pull.labels.map((label) => label.name),
          requestedReviewers: [
            ...(pull.requested_reviewers ?? []).map((user) => user.login),
            ...(pull.requested_teams ?? []).map((team) => `@${name.owner}/${team.slug}`),
          ],
          createdAt: pull.created_at,
          updatedAt: pull.updated_at,
          ...(pull.merged_at ? { mergedAt: pull.merged_at } : {}),
        }));
    },
  };
}

/**
 * The search behind "awaiting review": open, not a draft, not yet approved. `-review:approved` rather than
 * `review:required`, because the latter only matches repositories whose branch protection requires reviews;
 * a PR with changes requested stays listed, since it is waiting on a re-review once its author pushes.
 */
export function openPullRequestsQuery(filter: { repo?: string; author?: string }): string {
  return [
    "is:pr",
    "is:open",
    "draft:false",
    "-review:approved",
    ...(filter.repo ? [`repo:${filter.repo}`] : []),
    ...(filter.author ? [`author:${filter.author}`] : []),
  ].join(" ");
}

/** GitHub's login rules: 1-39 letters, digits or single hyphens, not starting or ending with a hyphen. */
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
/** `owner/name`: the owner is a login, the name letters, digits, `.`, `-` and `_`. */
export const GITHUB_REPO = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/[A-Za-z0-9._-]{1,100}$/;

function splitRepo(fullName: string): { owner: string; repo: string } | undefined {
  if (!GITHUB_REPO.test(fullName)) return undefined;
  const [owner, repo] = fullName.split("/") as [string, string];
  return { owner, repo };
}

/** `https://api.github.com/repos/acme/api` -> `acme/api` (also under a GitHub Enterprise `/api/v3` prefix). */
function repoOfApiUrl(url: string): string {
  const match = /\/repos\/([^/]+\/[^/]+)\/?$/.exec(url);
  return match?.[1] ?? url;
}

// --- reviews and checks ------------------------------------------------------------------------------

const REVIEW_STATES: Record<string, GitHubReviewState> = {
  APPROVED: "approved",
  CHANGES_REQUESTED: "changes_requested",
  COMMENTED: "commented",
  DISMISSED: "dismissed",
};

/**
 * Each reviewer's standing, in the order they first reviewed. Like GitHub's own review summary, a later
 * comment does not undo an approval or a change request; a dismissal does. Pending (unsubmitted) reviews are
 * the reviewer's private draft and are skipped.
 */
export function latestReviews(reviews: ReviewData[]): GitHubReview[] {
  const byReviewer = new Map<string, GitHubReview>();
  for (const review of reviews) {
    const state = REVIEW_STATES[review.state.toUpperCase()];
    const reviewer = review.user?.login;
    if (!state || !reviewer) continue;
    const previous = byReviewer.get(reviewer);
    if (state === "commented" && previous && previous.state !== "commented") continue;
    byReviewer.set(reviewer, {
      reviewer,
      state,
      ...(review.submitted_at ? { submittedAt: review.submitted_at } : {}),
      ...(review.html_url ? { url: review.html_url } : {}),
    });
  }
  return [...byReviewer.values()];
}

/** success, neutral and skipped pass; anything unfinished is pending; every other conclusion failed. */
export function summarizeChecks(runs: CheckRunData[], statuses: CommitStatusData[]): GitHubChecksSummary {
  const summary: GitHubChecksSummary = { passed: 0, failed: 0, pending: 0, failedNames: [] };
  for (const run of runs) {
    if (run.status !== "completed") summary.pending++;
    else if (run.conclusion && ["success", "neutral", "skipped"].includes(run.conclusion)) summary.passed++;
    else {
      summary.failed++;
      summary.failedNames.push(run.name);
    }
  }
  // Commit statuses (older CI integrations): the combined status already holds the latest per context.
  for (const status of statuses) {
    if (status.state === "success") summary.passed++;
    else if (status.state === "pending") summary.pending++;
    else {
      summary.failed++;
      summary.failedNames.push(status.context);
    }
  }
  return summary;
}

// --- errors ------------------------------------------------------------------------------------------

interface RequestErrorLike {
  status: number;
  message: string;
  response?: { headers: Record<string, string | number | undefined>; data?: unknown };
}

/** Octokit's RequestError, recognised by shape: it is a transitive dependency, not one of ours. */
function isRequestError(error: unknown): error is Error & RequestErrorLike {
  return (
    error instanceof Error && error.name === "HttpError" && typeof Reflect.get(error, "status") === "number"
  );
}

function typedError(
  error: unknown,
  context: { action: string; credential: string; now: number; baseUrl: string },
): unknown {
  if (!isRequestError(error)) return error;
  const headers = error.response?.headers ?? {};
  const said = githubMessage(error);
  const { status } = error;
  if (!error.response) {
    return new Error(`GitHub API at ${context.baseUrl} could not ${context.action}: ${error.message}`, {
      cause: error,
    });
  }
  // https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api#rate-limit-errors
  if (
    status === 429 ||
    (status === 403 && (String(headers["x-ratelimit-remaining"]) === "0" || /rate limit/i.test(said)))
  ) {
    return new RateLimitedError(
      `GitHub's API rate limit for ${context.credential} is used up`,
      retryAfterMs(headers, context.now),
    );
  }
  if (status === 401) {
    return new AuthError(
      `GitHub refused the credentials in ${context.credential} (401 ${said}): the operator should set a valid, unexpired token.`,
    );
  }
  if (status === 403) {
    return new AuthError(
      `GitHub refused to let ${context.credential} ${context.action} (403 ${said}): the operator should give the token read access to the repository's contents, pull requests, checks and commit statuses.`,
    );
  }
  if (status === 404) return new NotFoundError(`GitHub could not ${context.action}: not found.`);
  return error;
}

function githubMessage(error: RequestErrorLike): string {
  const data = error.response?.data;
  const message =
    data && typeof data === "object" && typeof Reflect.get(data, "message") === "string"
      ? (Reflect.get(data, "message") as string)
      : error.message;
  return message.split(" - https://")[0]!.trim();
}

/** `retry-after` (seconds) wins; then `x-ratelimit-reset` (epoch seconds); else GitHub's one-minute advice. */
function retryAfterMs(headers: Record<string, string | number | undefined>, now: number): number {
  const retryAfter = Number(headers["retry-after"]);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  const reset = Number(headers["x-ratelimit-reset"]);
  if (Number.isFinite(reset) && reset > 0) return Math.max(1000, reset * 1000 - now);
  return SECONDARY_RATE_LIMIT_WAIT_MS;
}

// --- response shapes (only the fields Switchboard reads) ----------------------------------------------

const loginSchema = z.looseObject({ login: z.string() });

const repositorySchema = z.looseObject({
  full_name: z.string(),
  default_branch: z.string(),
  private: z.boolean(),
  html_url: z.string(),
});

const userSchema = z.looseObject({
  login: z.string(),
  name: z.string().nullish(),
  html_url: z.string(),
  type: z.string(),
});

const pullRequestSchema = z.looseObject({
  number: z.number(),
  title: z.string(),
  html_url: z.string(),
  state: z.enum(["open", "closed"]),
  draft: z.boolean().nullish(),
  merged: z.boolean().nullish(),
  merged_at: z.string().nullish(),
  user: loginSchema.nullable(),
  head: z.looseObject({ ref: z.string(), sha: z.string() }),
  base: z.looseObject({ ref: z.string() }),
  created_at: z.string(),
  updated_at: z.string(),
  additions: z.number().nullish(),
  deletions: z.number().nullish(),
  changed_files: z.number().nullish(),
  labels: z.array(z.looseObject({ name: z.string() })).default([]),
  requested_reviewers: z.array(loginSchema).nullish(),
  requested_teams: z.array(z.looseObject({ slug: z.string() })).nullish(),
});

const pullListItemSchema = z.looseObject({
  number: z.number(),
  title: z.string(),
  html_url: z.string(),
  state: z.enum(["open", "closed"]),
  draft: z.boolean().nullish(),
  merged_at: z.string().nullish(),
  user: z.looseObject({ login: z.string(), type: z.string().nullish() }).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  labels: z.array(z.looseObject({ name: z.string() })).default([]),
  requested_reviewers: z.array(loginSchema).nullish(),
  requested_teams: z.array(z.looseObject({ slug: z.string() })).nullish(),
});

const reviewSchema = z.looseObject({
  user: loginSchema.nullable(),
  state: z.string(),
  submitted_at: z.string().nullish(),
  html_url: z.string().nullish(),
});
type ReviewData = z.infer<typeof reviewSchema>;

const checkRunSchema = z.looseObject({
  name: z.string(),
  status: z.string(),
  conclusion: z.string().nullable(),
});
type CheckRunData = z.infer<typeof checkRunSchema>;

const commitStatusSchema = z.looseObject({ context: z.string(), state: z.string() });
type CommitStatusData = z.infer<typeof commitStatusSchema>;
const combinedStatusSchema = z.looseObject({ statuses: z.array(commitStatusSchema).default([]) });

const searchResultSchema = z.looseObject({
  total_count: z.number(),
  items: z.array(
    z.looseObject({
      number: z.number(),
      title: z.string(),
      html_url: z.string(),
      user: loginSchema.nullable(),
      created_at: z.string(),
      repository_url: z.string(),
      draft: z.boolean().nullish(),
    }),
  ),
});
