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
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
  mergedAt?: string;
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
   * Optional while other implementations (test doubles) catch up; the Octokit client has it.
   * NotFoundError when the repository does not exist or cannot be seen.
   */
  listPullRequests?(
    repo: string,
    filter: { state: "open" | "closed"; limit?: number },
  ): Promise<GitHubPullRequestSummary[]>;
}
