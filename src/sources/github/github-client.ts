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
import { AuthError, NotFoundError, RateLimitedError, UserError } from "../../errors.js";
import type { Logger } from "../../observability/logger.js";
import { GITHUB_LOGIN, GITHUB_REPO } from "./github-api.js";
import type {
  GitHubApi,
  GitHubChecksSummary,
  GitHubCommit,
  GitHubComparison,
  GitHubDeploymentCreated,
  GitHubHookDelivery,
  GitHubHookTarget,
  GitHubPullRequest,
  GitHubPullRequestList,
  GitHubPullRequestSummary,
  GitHubRepository,
  GitHubReview,
  GitHubReviewState,
  GitHubRelease,
  GitHubUser,
  GitHubWorkflowRun,
} from "./github-api.js";

/** A request that takes longer than this fails; an interaction waits on it, and Discord's patience is finite. */
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_LIST_LIMIT = 20;
/** The search API's page size limit. */
const MAX_LIST_LIMIT = 100;
/** Hook deliveries read back to a `since` stop here anyway: a scheduled job must not page forever. */
const MAX_DELIVERIES = 1000;
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
      warn: (message: string) => logger?.warn(message),
      error: (message: string) => logger?.error(message),
    },
  });

  /**
   * Runs one API call, turning GitHub's failures into the typed errors callers act on. `needs` names the
   * token permission a 403 asks the operator for (default: read access).
   */
  async function call<T>(action: string, request: () => Promise<T>, needs?: string): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw typedError(error, { action, credential, now: clock(), baseUrl: options.baseUrl, needs });
    }
  }

  /**
   * Up to `limit` items of a paginated list, asking for no more pages than that needs. Octokit follows
   * the Link header, so page numbers and cursors (hook deliveries) both work; `keep` stops early at the
   * first item it refuses (lists newest first, read back to a date).
   */
  async function firstItems(
    action: string,
    route: string,
    parameters: Record<string, unknown>,
    limit: number,
    options: { keep?: (item: unknown) => boolean; needs?: string } = {},
  ): Promise<unknown[]> {
    const items: unknown[] = [];
    await call(
      action,
      async () => {
        const pages = octokit.paginate.iterator(route, {
          ...parameters,
          per_page: Math.min(MAX_LIST_LIMIT, limit),
        });
        for await (const page of pages) {
          for (const item of page.data as unknown[]) {
            if (items.length >= limit || (options.keep && !options.keep(item))) return;
            items.push(item);
          }
          if (items.length >= limit) return;
        }
      },
      options.needs,
    );
    return items;
  }

  function repoName(fullName: string): { owner: string; repo: string } {
    const name = splitRepo(fullName);
    if (!name) throw new NotFoundError(`"${fullName}" is not a GitHub repository name (owner/name).`);
    return name;
  }

  /** Where a hook's deliveries live: under the repository or the organization. */
  function hookPath(hook: GitHubHookTarget): { path: string; parameters: Record<string, unknown> } {
    if ("repo" in hook) {
      return {
        path: "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries",
        parameters: { ...repoName(hook.repo), hook_id: hook.hookId },
      };
    }
    return {
      path: "/orgs/{org}/hooks/{hook_id}/deliveries",
      parameters: { org: hook.org, hook_id: hook.hookId },
    };
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
    async resolveRef(fullName, ref) {
      const name = splitRepo(fullName);
      if (!name || !ref.trim()) return undefined;
      try {
        const { data } = await call(`resolve ${ref} in ${fullName}`, () =>
          octokit.rest.repos.getCommit({ ...name, ref }),
        );
        return commitShaSchema.parse(data).sha;
      } catch (error) {
        // 422 "No commit found for SHA", 409 "Git Repository is empty", 404 a ref GitHub cannot parse.
        if (error instanceof NotFoundError || (isRequestError(error) && [409, 422].includes(error.status))) {
          return undefined;
        }
        throw error;
      }
    },

    async listTags(fullName, limit = MAX_LIST_LIMIT) {
      const items = await firstItems(
        `list the tags of ${fullName}`,
        "GET /repos/{owner}/{repo}/tags",
        repoName(fullName),
        Math.max(1, limit),
      );
      return z
        .array(tagSchema)
        .parse(items)
        .map((tag) => ({ name: tag.name, sha: tag.commit.sha }));
    },

    async listCommits(fullName, { sha, path, limit = MAX_LIST_LIMIT }) {
      try {
        const items = await firstItems(
          `list the commits of ${fullName} at ${sha}`,
          "GET /repos/{owner}/{repo}/commits",
          { ...repoName(fullName), sha, ...(path ? { path } : {}) },
          Math.max(1, limit),
        );
        return z.array(commitSchema).parse(items).map(toCommit);
      } catch (error) {
        // An empty repository has no history at all, which is not an error for a release.
        if (isRequestError(error) && error.status === 409) return [];
        throw error;
      }
    },

    async compareCommits(fullName, base, head) {
      const { data } = await call(`compare ${base}...${head} in ${fullName}`, () =>
        octokit.rest.repos.compareCommitsWithBasehead({
          ...repoName(fullName),
          basehead: `${base}...${head}`,
        }),
      );
      const comparison = comparisonSchema.parse(data);
      return {
        status: comparison.status,
        aheadBy: comparison.ahead_by,
        behindBy: comparison.behind_by,
        commits: comparison.commits.map(toCommit),
      } satisfies GitHubComparison;
    },

    async getReleaseByTag(fullName, tag) {
      const name = repoName(fullName);
      return orUndefined(async () => {
        const { data } = await call(`read the release ${tag} of ${fullName}`, () =>
          octokit.rest.repos.getReleaseByTag({ ...name, tag }),
        );
        return toRelease(releaseSchema.parse(data));
      });
    },

    async createRelease(fullName, release) {
      const name = repoName(fullName);
      const needs = "write access to the repository's contents (releases and tags)";
      const tagExists = () =>
        new UserError(`Tag ${release.tag} already exists in ${fullName}: choose another version.`);
      // GitHub would quietly attach the release to an existing tag wherever it points, ignoring the commit
      // we pinned; only a second release of the same tag is refused. So look first.
      const existing = await orUndefined(() =>
        call(`read the tag ${release.tag} of ${fullName}`, () =>
          octokit.rest.git.getRef({ ...name, ref: `tags/${release.tag}` }),
        ),
      );
      if (existing) throw tagExists();
      try {
        const { data } = await call(
          `create the release ${release.tag} of ${fullName}`,
          () =>
            octokit.rest.repos.createRelease({
              ...name,
              tag_name: release.tag,
              target_commitish: release.targetSha,
              name: release.name,
              body: release.body,
              prerelease: release.prerelease,
              draft: false,
            }),
          needs,
        );
        return toRelease(releaseSchema.parse(data));
      } catch (error) {
        if (isRequestError(error) && error.status === 422) {
          if (githubErrors(error).some((detail) => detail.code === "already_exists")) throw tagExists();
          throw new UserError(
            `GitHub refused to create the release ${release.tag} in ${fullName}: ${describeRefusal(error)}.`,
          );
        }
        throw error;
      }
    },

    async createDeployment(fullName, deployment) {
      const name = repoName(fullName);
      const refused = (said: string) =>
        new UserError(
          `GitHub refused to deploy ${deployment.ref} to ${deployment.environment}: ${said}. Fix that, or deploy another version.`,
        );
      let response;
      try {
        response = await call(
          `create a deployment of ${fullName}@${deployment.ref} to ${deployment.environment}`,
          () =>
            octokit.rest.repos.createDeployment({
              ...name,
              ref: deployment.ref,
              task: "deploy",
              environment: deployment.environment,
              description: deployment.description,
              payload: deployment.payload as { [key: string]: unknown },
              production_environment: deployment.productionEnvironment,
              transient_environment: false,
              // GitHub would otherwise merge the default branch into the ref first: never deploy code
              // nobody chose.
              auto_merge: false,
            }),
          "write access to deployments",
        );
      } catch (error) {
        // 409: required status checks failed or a merge conflict; 422: an unknown ref or a bad field.
        if (isRequestError(error) && (error.status === 409 || error.status === 422)) {
          throw refused(describeRefusal(error));
        }
        throw error;
      }
      // A 202 ("Auto-merged main into topic on deployment.") carries a message and no deployment.
      const created = deploymentCreatedSchema.parse(response.data);
      if (created.id === undefined || created.sha === undefined) {
        throw refused(created.message ?? `it answered ${response.status} without creating a deployment`);
      }
      return { id: created.id, sha: created.sha, url: created.url ?? "" } satisfies GitHubDeploymentCreated;
    },

    async dispatchWorkflow(fullName, workflow, ref, inputs) {
      const name = repoName(fullName);
      try {
        await call(
          `run the workflow ${workflow} of ${fullName} on ${ref}`,
          () => octokit.rest.actions.createWorkflowDispatch({ ...name, workflow_id: workflow, ref, inputs }),
          "write access to actions",
        );
      } catch (error) {
        if (error instanceof NotFoundError) {
          throw new NotFoundError(
            `GitHub has no workflow ${workflow} in ${fullName}: check the environment's workflow file name.`,
          );
        }
        // 422: a ref that is not a branch or tag, inputs the workflow does not declare, or no
        // workflow_dispatch trigger.
        if (isRequestError(error) && error.status === 422) {
          throw new UserError(
            `GitHub refused to run ${workflow} on ${ref} in ${fullName}: ${describeRefusal(error)}.`,
          );
        }
        throw error;
      }
    },

    async listHookDeliveries(hook, { since, limit }) {
      const { path, parameters } = hookPath(hook);
      const target = "repo" in hook ? hook.repo : hook.org;
      const items = await firstItems(
        `list the deliveries of webhook ${hook.hookId} of ${target}`,
        `GET ${path}`,
        parameters,
        Math.max(1, limit ?? (since ? MAX_DELIVERIES : MAX_LIST_LIMIT)),
        {
          needs: "read access to webhooks",
          ...(since
            ? { keep: (item) => Date.parse(hookDeliverySchema.parse(item).delivered_at) >= Date.parse(since) }
            : {}),
        },
      );
      return z
        .array(hookDeliverySchema)
        .parse(items)
        .map(
          (delivery) =>
            ({
              id: delivery.id,
              guid: delivery.guid,
              deliveredAt: delivery.delivered_at,
              redelivery: delivery.redelivery,
              status: delivery.status,
              statusCode: delivery.status_code,
              event: delivery.event,
              ...(delivery.action ? { action: delivery.action } : {}),
            }) satisfies GitHubHookDelivery,
        );
    },

    async redeliverHookDelivery(hook, deliveryId) {
      const { path, parameters } = hookPath(hook);
      const target = "repo" in hook ? hook.repo : hook.org;
      await call(
        `redeliver delivery ${deliveryId} of webhook ${hook.hookId} of ${target}`,
        () =>
          octokit.request(`POST ${path}/{delivery_id}/attempts`, { ...parameters, delivery_id: deliveryId }),
        "read and write access to webhooks",
      );
    },

    async listWorkflowRuns(fullName, { branch, status = "completed", since, limit = MAX_LIST_LIMIT }) {
      const name = repoName(fullName);
      const items = await firstItems(
        `list the workflow runs of ${fullName}`,
        "GET /repos/{owner}/{repo}/actions/runs",
        { ...name, status, ...(branch ? { branch } : {}), ...(since ? { created: `>=${since}` } : {}) },
        Math.max(1, limit),
        { needs: "read access to actions" },
      );
      return z
        .array(workflowRunSchema)
        .parse(items)
        .map(
          (run) =>
            ({
              id: run.id,
              name: run.name ?? run.path ?? String(run.id),
              repo: `${name.owner}/${name.repo}`,
              headBranch: run.head_branch ?? "",
              headSha: run.head_sha,
              ...(run.conclusion ? { conclusion: run.conclusion } : {}),
              url: run.html_url,
              createdAt: run.created_at,
            }) satisfies GitHubWorkflowRun,
        );
    },

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
      const name = repoName(fullName);
      const pulls = await firstItems(
        `list the ${filter.state} pull requests of ${fullName}`,
        "GET /repos/{owner}/{repo}/pulls",
        {
          ...name,
          state: filter.state,
          sort: "updated",
          direction: filter.state === "open" ? "asc" : "desc",
        },
        Math.max(1, filter.limit ?? MAX_LIST_LIMIT),
      );
      return z
        .array(pullListItemSchema)
        .parse(pulls)
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
          headBranch: pull.head.ref,
          body: pull.body ?? "",
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
  context: { action: string; credential: string; now: number; baseUrl: string; needs?: string | undefined },
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
      `GitHub refused to let ${context.credential} ${context.action} (403 ${said}): the operator should give the token ${context.needs ?? "read access to the repository's contents, pull requests, checks and commit statuses"}.`,
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

/** The `errors` details of a 422 or 409 body (`{ resource, field, code, message?, contexts? }`). */
function githubErrors(error: RequestErrorLike): Record<string, unknown>[] {
  const data = error.response?.data;
  const errors = data && typeof data === "object" ? Reflect.get(data, "errors") : undefined;
  return Array.isArray(errors)
    ? errors.filter((item): item is Record<string, unknown> => !!item && typeof item === "object")
    : [];
}

/**
 * GitHub's reason in words a user can act on: its message, plus the failing checks of a 409 or the field
 * of a 422 ("Validation Failed" alone says nothing).
 */
function describeRefusal(error: RequestErrorLike): string {
  const details = githubErrors(error).flatMap((detail) => {
    if (Array.isArray(detail.contexts)) {
      const contexts = (detail.contexts as unknown[])
        .map((context) =>
          context && typeof context === "object"
            ? `${String(Reflect.get(context, "context"))}: ${String(Reflect.get(context, "state"))}`
            : String(context),
        )
        .join(", ");
      return contexts ? [`checks not passing: ${contexts}`] : [];
    }
    if (typeof detail.message === "string") return [detail.message];
    if (typeof detail.field === "string") return [`${detail.field} ${String(detail.code ?? "invalid")}`];
    return [];
  });
  const said = githubMessage(error).replace(/\.$/, "");
  return details.length > 0 ? `${said} (${details.join("; ")})` : said;
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
  head: z.looseObject({ ref: z.string() }),
  body: z.string().nullish(),
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

const commitShaSchema = z.looseObject({ sha: z.string() });

const commitSchema = z.looseObject({
  sha: z.string(),
  html_url: z.string(),
  commit: z.looseObject({
    message: z.string(),
    author: z.looseObject({ name: z.string().nullish(), date: z.string().nullish() }).nullish(),
  }),
  author: z.looseObject({ login: z.string() }).nullish(),
  parents: z.array(z.looseObject({ sha: z.string() })).default([]),
});
type CommitData = z.infer<typeof commitSchema>;

function toCommit(data: CommitData): GitHubCommit {
  const login = data.author?.login;
  const date = data.commit.author?.date;
  return {
    sha: data.sha,
    message: data.commit.message,
    ...(login ? { author: login } : {}),
    authorName: data.commit.author?.name ?? login ?? "unknown",
    url: data.html_url,
    ...(date ? { date } : {}),
    parents: data.parents.length,
  };
}

const tagSchema = z.looseObject({ name: z.string(), commit: z.looseObject({ sha: z.string() }) });

const comparisonSchema = z.looseObject({
  status: z.enum(["ahead", "behind", "identical", "diverged"]),
  ahead_by: z.number(),
  behind_by: z.number(),
  commits: z.array(commitSchema),
});

const releaseSchema = z.looseObject({
  id: z.number(),
  tag_name: z.string(),
  name: z.string().nullish(),
  html_url: z.string(),
  prerelease: z.boolean(),
  draft: z.boolean(),
  target_commitish: z.string(),
});

function toRelease(data: z.infer<typeof releaseSchema>): GitHubRelease {
  return {
    id: data.id,
    tag: data.tag_name,
    name: data.name ?? data.tag_name,
    url: data.html_url,
    prerelease: data.prerelease,
    draft: data.draft,
    targetCommitish: data.target_commitish,
  };
}

/** 201 carries the deployment; a 202 carries only a message. */
const deploymentCreatedSchema = z.looseObject({
  id: z.number().optional(),
  sha: z.string().optional(),
  url: z.string().optional(),
  message: z.string().optional(),
});

const hookDeliverySchema = z.looseObject({
  id: z.number(),
  guid: z.string(),
  delivered_at: z.string(),
  redelivery: z.boolean(),
  status: z.string(),
  status_code: z.number(),
  event: z.string(),
  action: z.string().nullish(),
});

const workflowRunSchema = z.looseObject({
  id: z.number(),
  name: z.string().nullish(),
  path: z.string().nullish(),
  head_branch: z.string().nullish(),
  head_sha: z.string(),
  conclusion: z.string().nullish(),
  html_url: z.string(),
  created_at: z.string(),
});
