/**
 * What Switchboard asks of the Linear GraphQL API. Commands and jobs depend on this interface; the
 * implementation (linear-client.ts) talks to LINEAR_API_URL, and tests point it at a local fake.
 * Failures are typed: AuthError (credentials), RateLimitedError, NotFoundError (see src/errors.ts).
 */
export interface LinearTeam {
  id: string;
  key: string;
  name: string;
}

export interface LinearApi {
  /** undefined when no team has this key. */
  findTeam(key: string): Promise<LinearTeam | undefined>;
  listTeams(): Promise<LinearTeam[]>;
}
