/**
 * What Switchboard asks of the GitHub REST API. Commands and jobs depend on this interface; the Octokit
 * implementation (github-client.ts) talks to GITHUB_API_URL, and tests point it at a local fake.
 * Failures are typed: AuthError (credentials), RateLimitedError, NotFoundError (see src/errors.ts).
 */
export interface GitHubRepository {
  fullName: string;
  defaultBranch: string;
  private: boolean;
  url: string;
}

export interface GitHubUser {
  /** The login as GitHub spells it (logins are case-insensitive; this is the canonical casing). */
  login: string;
  name?: string;
  url: string;
  type: "User" | "Organization" | "Bot";
}

export type GitHubReviewState = "approved" | "changes_requested" | "commented" | "dismissed";

/** One reviewer's standing on a pull request: their latest review that counts (see github-client.ts). */
export interface GitHubReview {
  reviewer: string;
  state: GitHubReviewState;
  /** ISO 8601. */
  submittedAt?: string;
  url?: string;
}

/** Check runs and commit statuses on a pull request's head commit, counted. */
export interface GitHubChecksSummary {
  passed: number;
  failed: number;
  pending: number;
  /** Names of the failed checks, for the card. */
  failedNames: string[];
}

export interface GitHubPullRequest {
  /** owner/name. */
  repo: string;
  number: number;
  title: string;
  url: string;
  author: string;
  state: "open" | "closed" | "merged";
  draft: boolean;
  headBranch: string;
  baseBranch: string;
  headSha: string;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
  additions?: number;
  deletions?: number;
  changedFiles?: number;
  labels: string[];
  /** Pending review requests: user logins, and teams as `@org/slug`. */
  requestedReviewers: string[];
  reviews: GitHubReview[];
  checks: GitHubChecksSummary;
}

/** A line in a list of pull requests. */
export interface GitHubPullRequestListItem {
  repo: string;
  number: number;
  title: string;
  url: string;
  author: string;
  /** ISO 8601. */
  createdAt: string;
}

export interface GitHubPullRequestList {
  /** Oldest first. */
  items: GitHubPullRequestListItem[];
  /** How many matched in all; `items` holds at most the requested limit. */
  total: number;
}

/** A pull request as the repository's pull list shows it: no reviews or checks (those cost more calls). */
export interface GitHubPullRequestSummary {
  repo: string;
  number: number;
  title: string;
  url: string;
  author: string;
  /** Bots (dependabot[bot], renovate[bot]) are `Bot`. */
  authorType: "User" | "Organization" | "Bot";
  state: "open" | "closed" | "merged";
  draft: boolean;
  labels: string[];
  /** Pending review requests: user logins, and teams as `@org/slug`. */
  requestedReviewers: string[];
  /** The branch the pull request merges from, and its description ("" when empty): where Linear keys live. */
  headBranch: string;
  body: string;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
  mergedAt?: string;
}

/** One commit as release and deploy logic reads it. */
export interface GitHubCommit {
  sha: string;
  /** The full commit message: subject, body and footers. */
  message: string;
  /** The GitHub login of the author, when GitHub could match the commit's email to an account. */
  author?: string;
  /** The name in the commit itself (always present). */
  authorName: string;
  url: string;
  /** ISO 8601, the author date. */
  date?: string;
  /** Number of parents: more than one for a merge commit. */
  parents: number;
}

export interface GitHubTag {
  name: string;
  sha: string;
}

export interface GitHubComparison {
  status: "ahead" | "behind" | "identical" | "diverged";
  aheadBy: number;
  behindBy: number;
  /** The commits in head and not in base, oldest first (GitHub lists at most 250 per compare). */
  commits: GitHubCommit[];
}

export interface GitHubRelease {
  id: number;
  tag: string;
  name: string;
  url: string;
  prerelease: boolean;
  draft: boolean;
  targetCommitish: string;
}

export interface NewGitHubRelease {
  tag: string;
  /** The commit the tag is created at (GitHub creates the tag with the release). */
  targetSha: string;
  name: string;
  /** Markdown. */
  body: string;
  prerelease: boolean;
}

export interface NewGitHubDeployment {
  ref: string;
  environment: string;
  description: string;
  /** Free-form JSON handed to the deploying CI: who requested and approved it. */
  payload: Record<string, unknown>;
  productionEnvironment: boolean;
}

export interface GitHubDeploymentCreated {
  id: number;
  sha: string;
  /** The deployment's API URL (GitHub gives a deployment no web page of its own). */
  url: string;
}

/** A webhook's configured target, for listing and redelivering its deliveries. */
export type GitHubHookTarget = { repo: string; hookId: number } | { org: string; hookId: number };

export interface GitHubHookDelivery {
  /** GitHub's delivery record id (what redelivery takes). */
  id: number;
  /** The X-GitHub-Delivery header value. */
  guid: string;
  /** ISO 8601. */
  deliveredAt: string;
  redelivery: boolean;
  /** "OK" or the failure's description. */
  status: string;
  statusCode: number;
  event: string;
  action?: string;
}

export interface GitHubWorkflowRun {
  id: number;
  name: string;
  repo: string;
  headBranch: string;
  headSha: string;
  /** success | failure | cancelled | timed_out | ... ; undefined while running. */
  conclusion?: string;
  url: string;
  /** ISO 8601. */
  createdAt: string;
}

export interface GitHubApi {
  /** undefined when the repository does not exist or the credentials cannot see it. */
  getRepository(fullName: string): Promise<GitHubRepository | undefined>;
  /** undefined when no user or organization has this login. */
  getUser(login: string): Promise<GitHubUser | undefined>;
  /** undefined when the repository or pull request does not exist or cannot be seen. */
  getPullRequest(fullName: string, number: number): Promise<GitHubPullRequest | undefined>;
  /**
   * Open, non-draft pull requests not yet approved, oldest first, in one repository and/or by one author.
   * At least one of `repo` and `author` is required: "every repository the credentials can see" has no
   * single request behind it. NotFoundError when the repository or author cannot be searched.
   */
  listOpenPullRequests(filter: {
    repo?: string;
    author?: string;
    /** At most this many items (default 20, at most 100). */
    limit?: number;
  }): Promise<GitHubPullRequestList>;
  /**
   * One repository's pull requests in one state, least recently updated first, at most `limit` (default 100).
   * NotFoundError when the repository does not exist or cannot be seen.
   */
  listPullRequests(
    repo: string,
    filter: { state: "open" | "closed"; limit?: number },
  ): Promise<GitHubPullRequestSummary[]>;
  // --- releases and deployments (src/deploy). NotFoundError when the repository cannot be seen. ---
  /**
   * The full sha a branch, tag or (short) sha names; undefined when the ref does not exist, and also when
   * the repository is empty or cannot be seen (GitHub answers 404 for both).
   */
  resolveRef(repo: string, ref: string): Promise<string | undefined>;
  /** Tags, newest first as GitHub lists them, at most `limit` (default 100). */
  listTags(repo: string, limit?: number): Promise<GitHubTag[]>;
  /** Commits reachable from `sha`, newest first, optionally only those touching `path`; at most `limit`. */
  listCommits(repo: string, options: { sha: string; path?: string; limit?: number }): Promise<GitHubCommit[]>;
  compareCommits(repo: string, base: string, head: string): Promise<GitHubComparison>;
  /** undefined when no release has this tag. */
  getReleaseByTag(repo: string, tag: string): Promise<GitHubRelease | undefined>;
  /**
   * UserError `Tag <tag> already exists in <repo>: choose another version.` when the tag exists (GitHub itself
   * would quietly attach the release to the existing tag), or GitHub's reason for another 422.
   */
  createRelease(repo: string, release: NewGitHubRelease): Promise<GitHubRelease>;
  /**
   * UserError when GitHub refuses the deployment (409: required status checks failed, merge conflict; 422:
   * unknown ref), with GitHub's reason and the failing checks. Sent with auto_merge false,
   * transient_environment false and task "deploy"; required_contexts is left to GitHub (all must pass).
   */
  createDeployment(repo: string, deployment: NewGitHubDeployment): Promise<GitHubDeploymentCreated>;
  /**
   * Runs a workflow that has a `workflow_dispatch` trigger. `ref` must be a branch or tag: GitHub refuses a
   * commit sha (UserError, as for inputs the workflow does not declare); NotFoundError for an unknown file.
   */
  dispatchWorkflow(
    repo: string,
    workflow: string,
    ref: string,
    inputs: Record<string, string>,
  ): Promise<void>;

  // --- scheduled jobs (src/jobs) ---
  /** A hook's recent deliveries, newest first, back to `since` (ISO 8601) or at most `limit`. */
  listHookDeliveries(
    hook: GitHubHookTarget,
    options: { since?: string; limit?: number },
  ): Promise<GitHubHookDelivery[]>;
  redeliverHookDelivery(hook: GitHubHookTarget, deliveryId: number): Promise<void>;
  /** Completed workflow runs on a branch created since `since` (ISO 8601), newest first. */
  listWorkflowRuns(
    repo: string,
    options: {
      branch?: string;
      status?: "failure" | "success" | "completed";
      since?: string;
      limit?: number;
    },
  ): Promise<GitHubWorkflowRun[]>;
}

/** GitHub's login rules: 1-39 letters, digits or single hyphens, not starting or ending with a hyphen. */
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
/** `owner/name`: the owner is a login, the name letters, digits, `.`, `-` and `_`. */
export const GITHUB_REPO = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/[A-Za-z0-9._-]{1,100}$/;
