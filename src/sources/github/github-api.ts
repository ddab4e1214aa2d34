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

export interface GitHubApi {
  /** undefined when the repository does not exist or the credentials cannot see it. */
  getRepository(fullName: string): Promise<GitHubRepository | undefined>;
}
