/**
 * Sample GitHub deliveries, for tests, benchmarks and `switchboard simulate github`.
 *
 * Each file in `tests/fixtures/github/` is one real delivery body from `@octokit/webhooks-examples` (or one
 * derived from it, see that folder's README), named `<event>.<variant>.json`; the part before the first dot is
 * the `X-GitHub-Event` header it was delivered with.
 */
import { listFixtureNames, readFixtureFile } from "../fixture-files.js";

export interface GitHubFixture {
  /** The `X-GitHub-Event` header value: `pull_request` for `pull_request.closed.merged`. */
  event: string;
  /** The delivery body, parsed. */
  payload: unknown;
}

/** `pull_request.opened` (or `pull_request.opened.json`). Throws, naming the known fixtures, when it is absent. */
export function loadGitHubFixture(name: string): GitHubFixture {
  const bare = name.endsWith(".json") ? name.slice(0, -".json".length) : name;
  return { event: eventOfFixture(bare), payload: readFixtureFile("github", bare) };
}

/** Every fixture name, sorted, without `.json`. */
export function githubFixtureNames(): string[] {
  return listFixtureNames("github");
}

function eventOfFixture(name: string): string {
  const dot = name.indexOf(".");
  return dot === -1 ? name : name.slice(0, dot);
}
