/**
 * A fake GitHub REST API on loopback, close enough that Octokit cannot tell: token auth (`Authorization:
 * token <t>` or `Bearer <t>`), GitHub's JSON shapes and error bodies, rate-limit headers on every answer,
 * Link-header pagination, and faults on demand (401, primary and secondary rate limits, any error).
 * Point GITHUB_API_URL at `fake.url`.
 *
 * Data lives in `fake.state` (plain maps and arrays, seeded through `addRepo`, `addUser`, `addPullRequest`,
 * `addReview`, `addCheckRun`, `addStatus`); `fake.requests` logs every request (with its JSON body).
 *
 * Releases, deployments, workflows and hooks (every helper creates the repository when missing):
 *   const [a, b] = fake.addCommits("acme/api", "main", [
 *     { message: "feat: login (#12)\n\nCloses ENG-7", author: "grace", files: ["packages/api/a.ts"] },
 *     { message: "fix!: drop v1 tokens", author: "linus" },
 *   ]);                                      // shas, oldest first; "main" now points at b
 *   fake.addCommits(repo, branch, [{ message, parents: [head, other] }])  // a merge commit; `parents: []` a root
 *   fake.setBranch(repo, "release", a);      fake.head(repo, branch?) -> sha | undefined (default branch)
 *   fake.tag(repo, "v1.0.0", sha?)           // lightweight tag (default: default branch head); throws if it exists
 *   fake.addRelease(repo, { tag, sha?, name?, body?, prerelease?, draft? })   // an existing release (+ its tag)
 *   fake.addWorkflow(repo, "deploy.yml", { inputs?: ["environment", "version"] })
 *       // once a repo declares workflows, dispatching an undeclared file is a 404; undeclared inputs a 422
 *   fake.addWorkflowRun(repo, { name?, headBranch?, headSha?, status?, conclusion?, createdAt?, event? })
 *   fake.addHookDelivery({ repo: "acme/api", hookId: 1 } | { org: "acme", hookId: 2 },
 *       { event: "push", action?, statusCode?: 503, status?, guid?, deliveredAt?, redelivery? })
 *   fake.addDeploymentStatus(deploymentId, { state, description?, environmentUrl?, logUrl? })
 *   Accessors (oldest first): fake.releases(repo?), fake.deployments(repo?) (each with .statuses, .payload,
 *   .request = the body as sent), fake.dispatches(repo?), fake.redeliveries().
 * Behaviour worth knowing, as on GitHub:
 *   - refs resolve from a branch, a tag, `heads/x`, `tags/x`, a full sha or a 7+ character prefix;
 *     GET /commits/{ref} answers 422 for an unknown ref, 409 "Git Repository is empty." with no commits.
 *   - compare lists the commits in head not in base, oldest first (at most 250), with ahead/behind/identical/
 *     diverged; unrelated histories or unknown refs are a 404. Tags list newest first (creation order).
 *   - POST /releases creates the tag at target_commitish unless the tag exists (then the release uses the
 *     existing tag, wherever it points); a second release for one tag is a 422 `already_exists`.
 *   - POST /deployments: 201 with the sha the ref resolved to; 422 "No ref found for: x"; 409 "Conflict:
 *     Commit status checks failed for <ref>." while any commit status / check run on the commit (or any of
 *     the `required_contexts` sent) is not success: seed a failure with `fake.addStatus(repo, sha, ...)`;
 *     without `auto_merge: false`, a branch behind the default branch answers 202 "Auto-merged ..." with no id.
 *     A success status marks earlier non-production, non-transient deployments to that environment inactive.
 *   - workflow dispatch takes a branch or tag only (a sha is a 422 "No ref found for: <sha>"), answers 204.
 *   - hook deliveries page with an opaque `cursor` in the Link header; a redelivery answers 202 and appears
 *     as a new delivery with the same guid and `redelivery: true`. A hook with no seeded delivery is a 404.
 *   - GET /actions/runs filters branch, status (a status or a conclusion), event and created (`>=ISO`).
 *
 * Routes are a table, one section per area (repos, users, pulls, checks and statuses, search). To add one
 * (deployments, releases, tags, compare, workflow dispatch, hook deliveries...):
 *   1. Keep its data in FakeGitHubState: add a field (a Map keyed by `owner/name` lower-cased, or an array),
 *      and a seed method on FakeGitHub if tests need to set it up.
 *   2. Write a handler `(request, fake) => FakeResponse` in a new section and list it in ROUTES with
 *      `route("POST", "/repos/:owner/:repo/deployments", handler)`. `request.params` holds the decoded
 *      path parameters, `request.query` the query, `request.body` the parsed JSON body (or undefined);
 *      `findRepo(fake, request)` answers the repository or undefined.
 *   3. Answer with `json(status, body)`, `notFound()`, `validationFailed(message)` or
 *      `paginated(request, items)`; GitHub's error shapes and headers are then right without effort.
 *   Tests can also add a route at run time with `fake.route(method, pattern, handler)`; it wins over the
 *   table, so a test can override one answer.
 * Auth, faults, rate-limit headers and the request log apply to every route without code in the handler.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { text as readBody } from "node:stream/consumers";

export const FAKE_GITHUB_TOKEN = "ghp_fakeGitHubTokenForTests0000000000";
const WEB = "https://github.com";
const RATE_LIMIT = 5000;

// --- state -------------------------------------------------------------------------------------------

export interface FakeRepo {
  id: number;
  owner: string;
  name: string;
  defaultBranch: string;
  private: boolean;
}

export interface FakeUser {
  id: number;
  login: string;
  name?: string;
  type: "User" | "Organization" | "Bot";
}

export interface FakePullRequest {
  id: number;
  /** owner/name as the repository spells it. */
  repo: string;
  number: number;
  title: string;
  body: string;
  author: string;
  state: "open" | "closed";
  draft: boolean;
  merged: boolean;
  head: { ref: string; sha: string };
  base: { ref: string };
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
  additions: number;
  deletions: number;
  changedFiles: number;
  labels: string[];
  requestedReviewers: string[];
  /** Team slugs. */
  requestedTeams: string[];
}

export type FakeReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

export interface FakeReview {
  id: number;
  repo: string;
  number: number;
  reviewer: string;
  state: FakeReviewState;
  submittedAt: string;
}

export interface FakeCheckRun {
  id: number;
  repo: string;
  sha: string;
  name: string;
  status: "queued" | "in_progress" | "completed";
  /** success, failure, neutral, cancelled, skipped, timed_out, action_required; null until completed. */
  conclusion: string | null;
}

export interface FakeCommitStatus {
  id: number;
  repo: string;
  sha: string;
  context: string;
  state: "success" | "failure" | "error" | "pending";
}

export interface FakeCommit {
  sha: string;
  /** owner/name as the repository spells it. */
  repo: string;
  message: string;
  /** The GitHub login GitHub matched the commit's email to; undefined = an unmatched email (`author: null`). */
  author?: string;
  /** The name in the commit itself. */
  authorName: string;
  authorEmail: string;
  /** ISO 8601 author date. */
  date: string;
  /** Parent shas: none for a root commit, two for a merge. */
  parents: string[];
  /** Paths the commit touches (for `GET /commits?path=`). */
  files: string[];
}

export interface FakeTag {
  repo: string;
  name: string;
  sha: string;
}

export interface FakeRelease {
  id: number;
  repo: string;
  tag: string;
  name: string;
  body: string;
  prerelease: boolean;
  draft: boolean;
  /** As sent: a sha or a branch. */
  targetCommitish: string;
  author: string;
  /** ISO 8601. */
  createdAt: string;
}

export type FakeDeploymentState =
  "error" | "failure" | "inactive" | "in_progress" | "queued" | "pending" | "success";

export interface FakeDeploymentStatus {
  id: number;
  deploymentId: number;
  state: FakeDeploymentState;
  description: string;
  environment: string;
  environmentUrl: string;
  logUrl: string;
  creator: string;
  createdAt: string;
}

export interface FakeDeployment {
  id: number;
  repo: string;
  /** The commit the ref resolved to when the deployment was created. */
  sha: string;
  /** As sent: a branch, tag or sha. */
  ref: string;
  task: string;
  environment: string;
  description: string;
  /** As sent (GitHub answers an object, or a string if one was sent). */
  payload: unknown;
  productionEnvironment: boolean;
  transientEnvironment: boolean;
  /** The request body exactly as received, to assert on fields such as `auto_merge`. */
  request: Record<string, unknown>;
  creator: string;
  createdAt: string;
  /** Oldest first. */
  statuses: FakeDeploymentStatus[];
}

export interface FakeWorkflow {
  id: number;
  /** `deploy.yml`: the file under .github/workflows. */
  file: string;
  name: string;
  /** Declared `workflow_dispatch` inputs; undefined accepts any. */
  inputs?: string[];
}

export interface FakeWorkflowDispatch {
  repo: string;
  /** As sent in the URL: a file name or a numeric id. */
  workflow: string;
  ref: string;
  inputs: Record<string, unknown>;
  /** ISO 8601. */
  at: string;
}

/** Where a webhook is configured: a repository's or an organization's hook. */
export type FakeHookTarget = { repo: string; hookId: number } | { org: string; hookId: number };

export interface FakeHookDelivery {
  id: number;
  hook: FakeHookTarget;
  guid: string;
  /** ISO 8601. */
  deliveredAt: string;
  redelivery: boolean;
  /** "OK", or the failure's description ("Invalid HTTP Response: 503", "timed out"). */
  status: string;
  statusCode: number;
  event: string;
  action?: string;
  duration: number;
}

export interface FakeRedelivery {
  hook: FakeHookTarget;
  deliveryId: number;
  /** The delivery record the redelivery created. */
  created: FakeHookDelivery;
}

export interface FakeWorkflowRun {
  id: number;
  repo: string;
  name: string;
  /** `.github/workflows/<file>`. */
  path: string;
  event: string;
  headBranch: string;
  headSha: string;
  status: "queued" | "in_progress" | "completed";
  /** success, failure, cancelled, timed_out, ...; null until completed. */
  conclusion: string | null;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
}

export interface FakeGitHubState {
  /** Keyed by `owner/name` lower-cased: GitHub's names are case-insensitive. */
  repos: Map<string, FakeRepo>;
  /** Keyed by login lower-cased. */
  users: Map<string, FakeUser>;
  pulls: FakePullRequest[];
  reviews: FakeReview[];
  checkRuns: FakeCheckRun[];
  statuses: FakeCommitStatus[];
  /** Per repository (key lower-cased), in creation order: a parent always comes before its children. */
  commits: Map<string, FakeCommit[]>;
  /** Per repository (key lower-cased): branch name -> sha. */
  branches: Map<string, Map<string, string>>;
  /** In creation order (the API lists them newest first). */
  tags: FakeTag[];
  releases: FakeRelease[];
  deployments: FakeDeployment[];
  /** Per repository (key lower-cased). A repository without an entry accepts any workflow file. */
  workflows: Map<string, FakeWorkflow[]>;
  dispatches: FakeWorkflowDispatch[];
  /** In delivery order (the API lists them newest first). */
  hookDeliveries: FakeHookDelivery[];
  redeliveries: FakeRedelivery[];
  workflowRuns: FakeWorkflowRun[];
}

// --- requests, responses, routes ---------------------------------------------------------------------

export interface FakeRequest {
  method: string;
  /** Path without the query, e.g. `/repos/acme/api/pulls/12`. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  headers: IncomingMessage["headers"];
  /** The fake's own URL, for absolute links (`Link` headers, `url` fields). */
  baseUrl: string;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = (request: FakeRequest, fake: FakeGitHub) => FakeResponse | Promise<FakeResponse>;

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  names: string[];
  handler: RouteHandler;
}

export type FakeGitHubFault =
  /** 401 Bad credentials, as for a revoked or mistyped token. */
  | { kind: "unauthorized" }
  /** The primary limit used up: `x-ratelimit-remaining: 0` with a reset time; 403 as GitHub mostly answers, or 429. */
  | { kind: "rate-limit"; resetInSeconds?: number; status?: 403 | 429 }
  /** A secondary (abuse) limit: 403 with `retry-after`. */
  | { kind: "secondary-rate-limit"; retryAfterSeconds: number }
  | { kind: "error"; status: number; message: string };

export interface FakeGitHubRequestLog {
  method: string;
  /** Path and query as sent. */
  url: string;
  authorization: string | undefined;
  /** The parsed JSON body, when there was one. */
  body?: unknown;
}

export interface FakeGitHub {
  url: string;
  token: string;
  state: FakeGitHubState;
  requests: FakeGitHubRequestLog[];
  addRepo(fullName: string, options?: Partial<Omit<FakeRepo, "id" | "owner" | "name">>): FakeRepo;
  addUser(login: string, options?: Partial<Omit<FakeUser, "id" | "login">>): FakeUser;
  /** Adds the repository and author when missing. Numbers count up per repository unless given. */
  addPullRequest(
    fullName: string,
    pull: Partial<Omit<FakePullRequest, "id" | "repo">> & { title: string },
  ): FakePullRequest;
  addReview(
    fullName: string,
    number: number,
    review: { reviewer: string; state: FakeReviewState; submittedAt?: string },
  ): FakeReview;
  addCheckRun(
    fullName: string,
    sha: string,
    run: { name: string; status?: FakeCheckRun["status"]; conclusion?: string | null },
  ): FakeCheckRun;
  addStatus(
    fullName: string,
    sha: string,
    status: { context: string; state: FakeCommitStatus["state"] },
  ): FakeCommitStatus;

  // --- git data, releases, deployments, actions, hooks (see the guide at the top of this file) ---
  /**
   * Commits `commits` on top of `branch` (created, with the repository, when missing), oldest first, and
   * moves the branch to the last one. Answers the new shas in the same order. A commit's parents default to
   * the branch head; give `parents` for a merge commit (e.g. `[head, otherBranchHead]`) or a root commit (`[]`).
   */
  addCommits(fullName: string, branch: string, commits: FakeCommitInput[]): string[];
  /** Points `branch` at `sha` (creates or moves it). */
  setBranch(fullName: string, branch: string, sha: string): void;
  /** The sha a branch points at (default: the repository's default branch); undefined when it does not exist. */
  head(fullName: string, branch?: string): string | undefined;
  /** Creates a lightweight tag at `sha` (default: the default branch's head). Throws if the tag exists. */
  tag(fullName: string, name: string, sha?: string): FakeTag;
  /** A release that already exists (and its tag, when missing, at `sha` or the default branch's head). */
  addRelease(
    fullName: string,
    release: {
      tag: string;
      sha?: string;
      name?: string;
      body?: string;
      prerelease?: boolean;
      draft?: boolean;
    },
  ): FakeRelease;
  /** Declares the repository's workflows: dispatching any other file then answers 404, as on GitHub. */
  addWorkflow(fullName: string, file: string, options?: { name?: string; inputs?: string[] }): FakeWorkflow;
  addWorkflowRun(
    fullName: string,
    run: Partial<Omit<FakeWorkflowRun, "id" | "repo">> & { headSha?: string },
  ): FakeWorkflowRun;
  addHookDelivery(
    hook: FakeHookTarget,
    delivery: Partial<Omit<FakeHookDelivery, "id" | "hook">> & { event: string },
  ): FakeHookDelivery;
  /** Records a status on a deployment, as the deploying CI would (`POST .../statuses` does the same over HTTP). */
  addDeploymentStatus(
    deploymentId: number,
    status: { state: FakeDeploymentState; description?: string; environmentUrl?: string; logUrl?: string },
  ): FakeDeploymentStatus;
  /** Releases created so far (seeded ones included), oldest first; only `fullName`'s when given. */
  releases(fullName?: string): FakeRelease[];
  deployments(fullName?: string): FakeDeployment[];
  dispatches(fullName?: string): FakeWorkflowDispatch[];
  redeliveries(): FakeRedelivery[];

  /** Answer every following request with this fault, until called with undefined. */
  fail(fault: FakeGitHubFault | undefined): void;
  /** Adds (or overrides) a route at run time. */
  route(method: string, pattern: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

export interface FakeCommitInput {
  message: string;
  /** A GitHub login; the commit's `author` is null in the API when omitted (an email GitHub cannot match). */
  author?: string;
  /** Default: the login, or "A Contributor". */
  authorName?: string;
  /** ISO 8601; default: one minute after the previous commit of the fake. */
  date?: string;
  /** Default: the branch head (none for the first commit). */
  parents?: string[];
  /** Paths touched, for `GET /commits?path=`. Default: none. */
  files?: string[];
}

/**
 * `:name` matches one path segment; a final `*name` matches the rest of the path, slashes included (git
 * refs such as `tags/api/v1.2.0` arrive either way, depending on how the client encodes them).
 */
export function route(method: string, pattern: string, handler: RouteHandler): Route {
  const names: string[] = [];
  const source = pattern
    .split("/")
    .map((segment) => {
      if (segment.startsWith("*")) {
        names.push(segment.slice(1));
        return "(.+)";
      }
      if (!segment.startsWith(":")) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(segment.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { method, pattern, regex: new RegExp(`^${source}/?$`), names, handler };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse {
  return { status, body, headers };
}

export function notFound(): FakeResponse {
  return json(404, {
    message: "Not Found",
    documentation_url: "https://docs.github.com/rest",
    status: "404",
  });
}

export function validationFailed(message: string): FakeResponse {
  return json(422, {
    message: "Validation Failed",
    errors: [{ message, resource: "Search", field: "q", code: "invalid" }],
    documentation_url: "https://docs.github.com/v3/search/",
    status: "422",
  });
}

/** One page of `items` per `per_page` (default 30, at most 100) and `page`, with GitHub's Link header. */
export function paginated<T>(request: FakeRequest, items: T[], wrap?: (page: T[]) => unknown): FakeResponse {
  const perPage = Math.min(100, Math.max(1, Number(request.query.get("per_page") ?? 30)));
  const page = Math.max(1, Number(request.query.get("page") ?? 1));
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const headers: Record<string, string> = {};
  if (page < last) {
    const link = (n: number) => {
      const query = new URLSearchParams(request.query);
      query.set("page", String(n));
      return `<${request.baseUrl}${request.path}?${query}>`;
    };
    headers.link = `${link(page + 1)}; rel="next", ${link(last)}; rel="last"`;
  }
  return json(200, wrap ? wrap(slice) : slice, headers);
}

export function findRepo(fake: FakeGitHub, request: FakeRequest): FakeRepo | undefined {
  return fake.state.repos.get(`${request.params.owner}/${request.params.repo}`.toLowerCase());
}

const fullNameOf = (repo: FakeRepo) => `${repo.owner}/${repo.name}`;
const sameRepo = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

// --- repos and users ---------------------------------------------------------------------------------

function repoJson(fake: FakeGitHub, repo: FakeRepo) {
  const fullName = fullNameOf(repo);
  return {
    id: repo.id,
    name: repo.name,
    full_name: fullName,
    owner: userJson(fake.state.users.get(repo.owner.toLowerCase()) ?? placeholderUser(repo.owner)),
    private: repo.private,
    html_url: `${WEB}/${fullName}`,
    url: `${fake.url}/repos/${fullName}`,
    default_branch: repo.defaultBranch,
    archived: false,
    visibility: repo.private ? "private" : "public",
  };
}

function userJson(user: FakeUser) {
  return {
    login: user.login,
    id: user.id,
    type: user.type,
    name: user.name ?? null,
    html_url: `${WEB}/${user.login}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    site_admin: false,
  };
}

function placeholderUser(login: string): FakeUser {
  return { id: 0, login, type: "User" };
}

const REPO_ROUTES = [
  route("GET", "/repos/:owner/:repo", (request, fake) => {
    const repo = findRepo(fake, request);
    return repo ? json(200, repoJson(fake, repo)) : notFound();
  }),
  route("GET", "/users/:username", (request, fake) => {
    const user = fake.state.users.get(request.params.username!.toLowerCase());
    return user ? json(200, userJson(user)) : notFound();
  }),
  route("GET", "/rate_limit", () =>
    json(200, { resources: { core: { limit: RATE_LIMIT, remaining: RATE_LIMIT, used: 0 } } }),
  ),
];

// --- pull requests -----------------------------------------------------------------------------------

function pullJson(fake: FakeGitHub, pull: FakePullRequest) {
  const user = (login: string) =>
    userJson(fake.state.users.get(login.toLowerCase()) ?? placeholderUser(login));
  return {
    id: pull.id,
    number: pull.number,
    title: pull.title,
    body: pull.body,
    state: pull.state,
    draft: pull.draft,
    merged: pull.merged,
    merged_at: pull.merged ? pull.updatedAt : null,
    html_url: `${WEB}/${pull.repo}/pull/${pull.number}`,
    url: `${fake.url}/repos/${pull.repo}/pulls/${pull.number}`,
    user: user(pull.author),
    head: { ref: pull.head.ref, sha: pull.head.sha, label: `${pull.repo.split("/")[0]}:${pull.head.ref}` },
    base: { ref: pull.base.ref, label: `${pull.repo.split("/")[0]}:${pull.base.ref}` },
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    additions: pull.additions,
    deletions: pull.deletions,
    changed_files: pull.changedFiles,
    labels: pull.labels.map((name, index) => ({ id: index + 1, name, color: "ededed" })),
    requested_reviewers: pull.requestedReviewers.map(user),
    requested_teams: pull.requestedTeams.map((slug, index) => ({ id: index + 1, slug, name: slug })),
  };
}

function findPull(fake: FakeGitHub, request: FakeRequest): FakePullRequest | undefined {
  const repo = findRepo(fake, request);
  if (!repo) return undefined;
  const number = Number(request.params.number);
  return fake.state.pulls.find((pull) => sameRepo(pull.repo, fullNameOf(repo)) && pull.number === number);
}

const PULL_ROUTES = [
  route("GET", "/repos/:owner/:repo/pulls", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const state = request.query.get("state") ?? "open";
    const direction = request.query.get("direction") ?? "desc";
    const pulls = fake.state.pulls
      .filter((pull) => sameRepo(pull.repo, fullNameOf(repo)))
      .filter((pull) => state === "all" || pull.state === state)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) * (direction === "asc" ? 1 : -1));
    return paginated(
      request,
      pulls.map((pull) => pullJson(fake, pull)),
    );
  }),
  route("GET", "/repos/:owner/:repo/pulls/:number", (request, fake) => {
    const pull = findPull(fake, request);
    return pull ? json(200, pullJson(fake, pull)) : notFound();
  }),
  route("GET", "/repos/:owner/:repo/pulls/:number/reviews", (request, fake) => {
    const pull = findPull(fake, request);
    if (!pull) return notFound();
    const reviews = fake.state.reviews
      .filter((review) => sameRepo(review.repo, pull.repo) && review.number === pull.number)
      .map((review) => ({
        id: review.id,
        user: userJson(
          fake.state.users.get(review.reviewer.toLowerCase()) ?? placeholderUser(review.reviewer),
        ),
        state: review.state,
        body: "",
        html_url: `${WEB}/${pull.repo}/pull/${pull.number}#pullrequestreview-${review.id}`,
        ...(review.state === "PENDING" ? {} : { submitted_at: review.submittedAt }),
        commit_id: pull.head.sha,
      }));
    return paginated(request, reviews);
  }),
];

// --- checks and statuses -----------------------------------------------------------------------------

const CHECK_ROUTES = [
  route("GET", "/repos/:owner/:repo/commits/:ref/check-runs", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const runs = fake.state.checkRuns.filter(
      (run) => sameRepo(run.repo, fullNameOf(repo)) && run.sha === request.params.ref,
    );
    return paginated(
      request,
      runs.map((run) => ({
        id: run.id,
        name: run.name,
        head_sha: run.sha,
        status: run.status,
        conclusion: run.conclusion,
        html_url: `${WEB}/${run.repo}/runs/${run.id}`,
      })),
      (page) => ({ total_count: runs.length, check_runs: page }),
    );
  }),
  route("GET", "/repos/:owner/:repo/commits/:ref/status", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    // The combined status holds the latest status per context.
    const latest = new Map<string, FakeCommitStatus>();
    for (const status of fake.state.statuses) {
      if (sameRepo(status.repo, fullNameOf(repo)) && status.sha === request.params.ref)
        latest.set(status.context, status);
    }
    const statuses = [...latest.values()];
    const states = new Set(statuses.map((status) => status.state));
    const state =
      states.has("failure") || states.has("error")
        ? "failure"
        : states.has("pending") || statuses.length === 0
          ? "pending"
          : "success";
    return json(200, {
      state,
      sha: request.params.ref,
      total_count: statuses.length,
      statuses: statuses.map((status) => ({
        id: status.id,
        context: status.context,
        state: status.state,
        target_url: null,
        description: null,
      })),
    });
  }),
];

// --- search ------------------------------------------------------------------------------------------

/** The review decision search's `review:` qualifier sees: from each reviewer's latest deciding review. */
function reviewDecision(fake: FakeGitHub, pull: FakePullRequest): "approved" | "changes_requested" | "none" {
  const latest = new Map<string, FakeReviewState>();
  for (const review of fake.state.reviews) {
    if (!sameRepo(review.repo, pull.repo) || review.number !== pull.number) continue;
    if (review.state === "APPROVED" || review.state === "CHANGES_REQUESTED" || review.state === "DISMISSED")
      latest.set(review.reviewer.toLowerCase(), review.state);
  }
  const states = new Set(latest.values());
  if (states.has("CHANGES_REQUESTED")) return "changes_requested";
  if (states.has("APPROVED")) return "approved";
  return "none";
}

/**
 * `GET /search/issues` over pull requests, understanding the qualifiers Switchboard uses: `is:pr`,
 * `is:open|closed`, `draft:true|false`, `repo:`, `author:`, `review:none|approved|changes_requested` and
 * their negations with `-`. An unknown repository or author is a 422, as on GitHub.
 */
const SEARCH_ROUTES = [
  route("GET", "/search/issues", (request, fake) => {
    const terms = (request.query.get("q") ?? "").split(/\s+/).filter(Boolean);
    let pulls = [...fake.state.pulls];
    for (const term of terms) {
      const negated = term.startsWith("-");
      const [key, value = ""] = (negated ? term.slice(1) : term).split(/:(.*)/s) as [string, string?];
      const keep = (test: (pull: FakePullRequest) => boolean) => {
        pulls = pulls.filter((pull) => test(pull) !== negated);
      };
      switch (key) {
        case "is":
          if (value === "open" || value === "closed") keep((pull) => pull.state === value);
          else if (value !== "pr") return validationFailed(`Unsupported qualifier is:${value}`);
          break;
        case "draft":
          keep((pull) => pull.draft === (value === "true"));
          break;
        case "repo":
          if (!fake.state.repos.has(value.toLowerCase())) {
            return validationFailed(
              "The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them.",
            );
          }
          keep((pull) => sameRepo(pull.repo, value));
          break;
        case "author":
          if (!fake.state.users.has(value.toLowerCase())) {
            return validationFailed(
              "The listed users cannot be searched either because the users do not exist or you do not have permission to view the users.",
            );
          }
          keep((pull) => pull.author.toLowerCase() === value.toLowerCase());
          break;
        case "review":
          keep((pull) => reviewDecision(fake, pull) === value.replace("-", "_"));
          break;
        default:
          return validationFailed(`The fake GitHub does not understand the search term ${term}`);
      }
    }
    if (request.query.get("sort") === "created") {
      const order = request.query.get("order") === "asc" ? 1 : -1;
      pulls.sort((a, b) => a.createdAt.localeCompare(b.createdAt) * order);
    }
    const items = pulls.map((pull) => {
      const full = pullJson(fake, pull);
      return {
        id: full.id,
        number: full.number,
        title: full.title,
        html_url: full.html_url,
        user: full.user,
        state: full.state,
        draft: full.draft,
        created_at: full.created_at,
        updated_at: full.updated_at,
        repository_url: `${fake.url}/repos/${pull.repo}`,
        pull_request: { url: full.url, html_url: full.html_url },
      };
    });
    return paginated(request, items, (page) => ({
      total_count: items.length,
      incomplete_results: false,
      items: page,
    }));
  }),
];

// --- commits, branches, tags, compare ----------------------------------------------------------------

/** Who the fake's token belongs to: the creator of releases, deployments and statuses made over HTTP. */
export const FAKE_GITHUB_ACTOR = "switchboard-bot";

const repoKey = (fullName: string) => fullName.toLowerCase();

function commitsOf(fake: FakeGitHub, repo: FakeRepo): FakeCommit[] {
  return fake.state.commits.get(repoKey(fullNameOf(repo))) ?? [];
}

function tagsOf(fake: FakeGitHub, repo: FakeRepo): FakeTag[] {
  return fake.state.tags.filter((tag) => sameRepo(tag.repo, fullNameOf(repo)));
}

function branchesOf(fake: FakeGitHub, repo: FakeRepo): Map<string, string> {
  return fake.state.branches.get(repoKey(fullNameOf(repo))) ?? new Map();
}

/** A branch name, tag name, `heads/x`, `tags/x`, `refs/...`, a full sha or a sha prefix of 7+ characters. */
export function resolveFakeRef(fake: FakeGitHub, repo: FakeRepo, ref: string): FakeCommit | undefined {
  const commits = commitsOf(fake, repo);
  const bySha = (sha: string | undefined) => commits.find((commit) => commit.sha === sha);
  const name = ref.replace(/^refs\//, "");
  const branch = branchesOf(fake, repo).get(name.replace(/^heads\//, ""));
  if (branch) return bySha(branch);
  const tag = tagsOf(fake, repo).find((candidate) => candidate.name === name.replace(/^tags\//, ""));
  if (tag) return bySha(tag.sha);
  if (/^[0-9a-f]{7,40}$/i.test(ref))
    return commits.find((commit) => commit.sha.startsWith(ref.toLowerCase()));
  return undefined;
}

/** Every commit reachable from `sha` through parents, the commit itself included. */
function ancestors(fake: FakeGitHub, repo: FakeRepo, sha: string): Set<string> {
  const bySha = new Map(commitsOf(fake, repo).map((commit) => [commit.sha, commit]));
  const seen = new Set<string>();
  const queue = [sha];
  while (queue.length > 0) {
    const next = queue.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...(bySha.get(next)?.parents ?? []));
  }
  return seen;
}

function commitJson(fake: FakeGitHub, commit: FakeCommit, options: { files?: boolean } = {}) {
  const person = { name: commit.authorName, email: commit.authorEmail, date: commit.date };
  const account = commit.author
    ? userJson(fake.state.users.get(commit.author.toLowerCase()) ?? placeholderUser(commit.author))
    : null;
  return {
    sha: commit.sha,
    node_id: `C_${commit.sha.slice(0, 12)}`,
    url: `${fake.url}/repos/${commit.repo}/commits/${commit.sha}`,
    html_url: `${WEB}/${commit.repo}/commit/${commit.sha}`,
    commit: {
      author: person,
      committer: person,
      message: commit.message,
      tree: { sha: commit.sha.split("").reverse().join("") },
      comment_count: 0,
      verification: { verified: false, reason: "unsigned" },
    },
    author: account,
    committer: account,
    parents: commit.parents.map((sha) => ({
      sha,
      url: `${fake.url}/repos/${commit.repo}/commits/${sha}`,
      html_url: `${WEB}/${commit.repo}/commit/${sha}`,
    })),
    ...(options.files
      ? {
          stats: { total: commit.files.length, additions: commit.files.length, deletions: 0 },
          files: commit.files.map((filename) => ({
            filename,
            status: "modified",
            additions: 1,
            deletions: 0,
            changes: 1,
          })),
        }
      : {}),
  };
}

const emptyRepository = () => json(409, { message: "Git Repository is empty.", status: "409" });

/** Compare answers at most this many commits, as GitHub does. */
const COMPARE_COMMIT_LIMIT = 250;

const GIT_ROUTES = [
  route("GET", "/repos/:owner/:repo/commits", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    if (commitsOf(fake, repo).length === 0) return emptyRepository();
    const ref = request.query.get("sha") ?? repo.defaultBranch;
    const start = resolveFakeRef(fake, repo, ref);
    if (!start) return json(404, { message: `No commit found for SHA: ${ref}`, status: "404" });
    const reachable = ancestors(fake, repo, start.sha);
    const path = request.query.get("path")?.replace(/\/+$/, "");
    const touches = (commit: FakeCommit) =>
      !path || commit.files.some((file) => file === path || file.startsWith(`${path}/`));
    const commits = commitsOf(fake, repo)
      .filter((commit) => reachable.has(commit.sha) && touches(commit))
      .reverse();
    return paginated(
      request,
      commits.map((commit) => commitJson(fake, commit)),
    );
  }),
  route("GET", "/repos/:owner/:repo/commits/:ref", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    if (commitsOf(fake, repo).length === 0) return emptyRepository();
    const commit = resolveFakeRef(fake, repo, request.params.ref!);
    return commit
      ? json(200, commitJson(fake, commit, { files: true }))
      : json(422, { message: `No commit found for SHA: ${request.params.ref}`, status: "422" });
  }),
  route("GET", "/repos/:owner/:repo/compare/:basehead", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const [baseRef = "", headRef = ""] = request.params.basehead!.split(/\.{3}(.*)/s);
    const base = resolveFakeRef(fake, repo, baseRef);
    const head = resolveFakeRef(fake, repo, headRef);
    if (!base || !head) return notFound();
    const inBase = ancestors(fake, repo, base.sha);
    const inHead = ancestors(fake, repo, head.sha);
    const all = commitsOf(fake, repo);
    const mergeBase = all.filter((commit) => inBase.has(commit.sha) && inHead.has(commit.sha)).at(-1);
    if (!mergeBase) return notFound();
    const ahead = all.filter((commit) => inHead.has(commit.sha) && !inBase.has(commit.sha));
    const behindBy = all.filter((commit) => inBase.has(commit.sha) && !inHead.has(commit.sha)).length;
    const status =
      ahead.length === 0 && behindBy === 0
        ? "identical"
        : behindBy === 0
          ? "ahead"
          : ahead.length === 0
            ? "behind"
            : "diverged";
    const fullName = fullNameOf(repo);
    return json(200, {
      url: `${fake.url}/repos/${fullName}/compare/${request.params.basehead}`,
      html_url: `${WEB}/${fullName}/compare/${request.params.basehead}`,
      permalink_url: `${WEB}/${fullName}/compare/${base.sha}...${head.sha}`,
      base_commit: commitJson(fake, base),
      merge_base_commit: commitJson(fake, mergeBase),
      status,
      ahead_by: ahead.length,
      behind_by: behindBy,
      total_commits: ahead.length,
      commits: ahead.slice(0, COMPARE_COMMIT_LIMIT).map((commit) => commitJson(fake, commit)),
      files: [],
    });
  }),
  route("GET", "/repos/:owner/:repo/tags", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const fullName = fullNameOf(repo);
    return paginated(
      request,
      tagsOf(fake, repo)
        .reverse()
        .map((tag) => ({
          name: tag.name,
          commit: { sha: tag.sha, url: `${fake.url}/repos/${fullName}/commits/${tag.sha}` },
          zipball_url: `${fake.url}/repos/${fullName}/zipball/refs/tags/${tag.name}`,
          tarball_url: `${fake.url}/repos/${fullName}/tarball/refs/tags/${tag.name}`,
          node_id: `REF_${tag.name}`,
        })),
    );
  }),
  route("GET", "/repos/:owner/:repo/git/ref/*ref", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const ref = request.params.ref!;
    const sha = ref.startsWith("heads/")
      ? branchesOf(fake, repo).get(ref.slice("heads/".length))
      : ref.startsWith("tags/")
        ? tagsOf(fake, repo).find((tag) => tag.name === ref.slice("tags/".length))?.sha
        : undefined;
    if (!sha) return notFound();
    return json(200, {
      ref: `refs/${ref}`,
      node_id: `REF_${ref}`,
      url: `${fake.url}/repos/${fullNameOf(repo)}/git/refs/${ref}`,
      object: { sha, type: "commit", url: `${fake.url}/repos/${fullNameOf(repo)}/git/commits/${sha}` },
    });
  }),
];

// --- releases ----------------------------------------------------------------------------------------

function releaseJson(fake: FakeGitHub, release: FakeRelease) {
  const author = fake.state.users.get(release.author.toLowerCase()) ?? placeholderUser(release.author);
  return {
    id: release.id,
    node_id: `RE_${release.id}`,
    url: `${fake.url}/repos/${release.repo}/releases/${release.id}`,
    html_url: release.draft
      ? `${WEB}/${release.repo}/releases/tag/untagged-${release.id}`
      : `${WEB}/${release.repo}/releases/tag/${release.tag}`,
    tag_name: release.tag,
    target_commitish: release.targetCommitish,
    name: release.name,
    body: release.body,
    draft: release.draft,
    prerelease: release.prerelease,
    created_at: release.createdAt,
    published_at: release.draft ? null : release.createdAt,
    author: userJson(author),
    assets: [],
    tarball_url: `${fake.url}/repos/${release.repo}/tarball/${release.tag}`,
    zipball_url: `${fake.url}/repos/${release.repo}/zipball/${release.tag}`,
  };
}

function releaseValidationFailed(field: string, code: string): FakeResponse {
  return json(422, {
    message: "Validation Failed",
    errors: [{ resource: "Release", code, field }],
    documentation_url: "https://docs.github.com/rest/releases/releases#create-a-release",
    status: "422",
  });
}

const RELEASE_ROUTES = [
  route("GET", "/repos/:owner/:repo/releases", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    return paginated(
      request,
      fake
        .releases(fullNameOf(repo))
        .reverse()
        .map((release) => releaseJson(fake, release)),
    );
  }),
  route("GET", "/repos/:owner/:repo/releases/tags/*tag", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    // A draft has no tag yet, so GitHub does not find it by tag.
    const release = fake
      .releases(fullNameOf(repo))
      .find((candidate) => candidate.tag === request.params.tag && !candidate.draft);
    return release ? json(200, releaseJson(fake, release)) : notFound();
  }),
  route("GET", "/repos/:owner/:repo/releases/:id", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const releases = fake.releases(fullNameOf(repo));
    const release =
      request.params.id === "latest"
        ? releases.filter((candidate) => !candidate.draft && !candidate.prerelease).at(-1)
        : releases.find((candidate) => candidate.id === Number(request.params.id));
    return release ? json(200, releaseJson(fake, release)) : notFound();
  }),
  /**
   * GitHub creates the tag at `target_commitish` (default: the default branch) unless it exists, in which
   * case the release uses the existing tag wherever it points; a second release of one tag is a 422.
   */
  route("POST", "/repos/:owner/:repo/releases", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const body = (request.body ?? {}) as Record<string, unknown>;
    const tagName = typeof body.tag_name === "string" ? body.tag_name : "";
    if (!tagName) return releaseValidationFailed("tag_name", "missing_field");
    const fullName = fullNameOf(repo);
    if (fake.releases(fullName).some((release) => release.tag === tagName)) {
      return releaseValidationFailed("tag_name", "already_exists");
    }
    const targetCommitish =
      typeof body.target_commitish === "string" ? body.target_commitish : repo.defaultBranch;
    const existingTag = tagsOf(fake, repo).find((tag) => tag.name === tagName);
    const target = existingTag ? undefined : resolveFakeRef(fake, repo, targetCommitish);
    if (!existingTag && !target) return releaseValidationFailed("target_commitish", "invalid");
    const draft = body.draft === true;
    // The tag of a draft is only created when the draft is published.
    if (!existingTag && !draft) fake.tag(fullName, tagName, target!.sha);
    const release: FakeRelease = {
      id: fake.state.releases.length + 1,
      repo: fullName,
      tag: tagName,
      name: typeof body.name === "string" ? body.name : tagName,
      body: typeof body.body === "string" ? body.body : "",
      prerelease: body.prerelease === true,
      draft,
      targetCommitish,
      author: FAKE_GITHUB_ACTOR,
      createdAt: new Date().toISOString(),
    };
    fake.state.releases.push(release);
    return json(201, releaseJson(fake, release), {
      location: `${fake.url}/repos/${fullName}/releases/${release.id}`,
    });
  }),
];

// --- deployments -------------------------------------------------------------------------------------

const DEPLOYMENT_STATES: FakeDeploymentState[] = [
  "error",
  "failure",
  "inactive",
  "in_progress",
  "queued",
  "pending",
  "success",
];

function deploymentJson(fake: FakeGitHub, deployment: FakeDeployment) {
  const creator =
    fake.state.users.get(deployment.creator.toLowerCase()) ?? placeholderUser(deployment.creator);
  const url = `${fake.url}/repos/${deployment.repo}/deployments/${deployment.id}`;
  return {
    url,
    id: deployment.id,
    node_id: `DE_${deployment.id}`,
    sha: deployment.sha,
    ref: deployment.ref,
    task: deployment.task,
    payload: deployment.payload,
    original_environment: deployment.environment,
    environment: deployment.environment,
    description: deployment.description,
    creator: userJson(creator),
    created_at: deployment.createdAt,
    updated_at: deployment.statuses.at(-1)?.createdAt ?? deployment.createdAt,
    statuses_url: `${url}/statuses`,
    repository_url: `${fake.url}/repos/${deployment.repo}`,
    transient_environment: deployment.transientEnvironment,
    production_environment: deployment.productionEnvironment,
  };
}

function deploymentStatusJson(fake: FakeGitHub, deployment: FakeDeployment, status: FakeDeploymentStatus) {
  const creator = fake.state.users.get(status.creator.toLowerCase()) ?? placeholderUser(status.creator);
  const deploymentUrl = `${fake.url}/repos/${deployment.repo}/deployments/${deployment.id}`;
  return {
    url: `${deploymentUrl}/statuses/${status.id}`,
    id: status.id,
    node_id: `DES_${status.id}`,
    state: status.state,
    creator: userJson(creator),
    description: status.description,
    environment: status.environment,
    target_url: status.logUrl,
    log_url: status.logUrl,
    environment_url: status.environmentUrl,
    created_at: status.createdAt,
    updated_at: status.createdAt,
    deployment_url: deploymentUrl,
    repository_url: `${fake.url}/repos/${deployment.repo}`,
  };
}

/**
 * The contexts whose latest state is not success on `sha`: GitHub refuses a deployment while any of them
 * (all contexts by default, or the `required_contexts` sent) is failing, pending or missing.
 */
function failingContexts(
  fake: FakeGitHub,
  repo: FakeRepo,
  sha: string,
  required: string[] | undefined,
): { context: string; state: string }[] {
  const latest = new Map<string, string>();
  for (const status of fake.state.statuses) {
    if (sameRepo(status.repo, fullNameOf(repo)) && status.sha === sha)
      latest.set(status.context, status.state);
  }
  for (const run of fake.state.checkRuns) {
    if (!sameRepo(run.repo, fullNameOf(repo)) || run.sha !== sha) continue;
    const passed =
      run.status === "completed" && ["success", "neutral", "skipped"].includes(run.conclusion ?? "");
    latest.set(run.name, passed ? "success" : run.status === "completed" ? "failure" : "pending");
  }
  const contexts = required ?? [...latest.keys()];
  return contexts
    .map((context) => ({ context, state: latest.get(context) ?? "missing" }))
    .filter((context) => context.state !== "success");
}

function findDeployment(fake: FakeGitHub, request: FakeRequest): FakeDeployment | undefined {
  const repo = findRepo(fake, request);
  const id = Number(request.params.id);
  return repo ? fake.deployments(fullNameOf(repo)).find((deployment) => deployment.id === id) : undefined;
}

const DEPLOYMENT_ROUTES = [
  route("POST", "/repos/:owner/:repo/deployments", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const body = (request.body ?? {}) as Record<string, unknown>;
    const ref = typeof body.ref === "string" ? body.ref : "";
    if (!ref) {
      return json(422, {
        message: 'Invalid request.\n\n"ref" wasn\'t supplied.',
        documentation_url: "https://docs.github.com/rest/deployments/deployments#create-a-deployment",
        status: "422",
      });
    }
    const target = resolveFakeRef(fake, repo, ref);
    if (!target) return json(422, { message: `No ref found for: ${ref}`, status: "422" });
    const fullName = fullNameOf(repo);
    // auto_merge (on unless sent false) merges the default branch into a branch that is behind it, and
    // answers 202 with a message and no deployment.
    const defaultHead = branchesOf(fake, repo).get(repo.defaultBranch);
    const isOtherBranch = branchesOf(fake, repo).has(ref) && ref !== repo.defaultBranch;
    if (
      body.auto_merge !== false &&
      isOtherBranch &&
      defaultHead &&
      !ancestors(fake, repo, target.sha).has(defaultHead)
    ) {
      return json(202, { message: `Auto-merged ${repo.defaultBranch} into ${ref} on deployment.` });
    }
    const required = Array.isArray(body.required_contexts) ? body.required_contexts.map(String) : undefined;
    const failing = failingContexts(fake, repo, target.sha, required);
    if (failing.length > 0) {
      return json(409, {
        message: `Conflict: Commit status checks failed for ${ref}.`,
        errors: [{ contexts: failing, resource: "Deployment", field: "required_contexts", code: "invalid" }],
        documentation_url: "https://docs.github.com/rest/deployments/deployments#create-a-deployment",
        status: "409",
      });
    }
    const environment = typeof body.environment === "string" ? body.environment : "production";
    const deployment: FakeDeployment = {
      id: fake.state.deployments.length + 1,
      repo: fullName,
      sha: target.sha,
      ref,
      task: typeof body.task === "string" ? body.task : "deploy",
      environment,
      description: typeof body.description === "string" ? body.description : "",
      payload: body.payload ?? {},
      productionEnvironment:
        typeof body.production_environment === "boolean"
          ? body.production_environment
          : environment === "production",
      transientEnvironment: body.transient_environment === true,
      request: body,
      creator: FAKE_GITHUB_ACTOR,
      createdAt: new Date().toISOString(),
      statuses: [],
    };
    fake.state.deployments.push(deployment);
    return json(201, deploymentJson(fake, deployment));
  }),
  route("GET", "/repos/:owner/:repo/deployments", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const filters = ["sha", "ref", "task", "environment"] as const;
    const deployments = fake
      .deployments(fullNameOf(repo))
      .filter((deployment) =>
        filters.every((filter) => {
          const wanted = request.query.get(filter);
          return wanted === null || String(deployment[filter]) === wanted;
        }),
      )
      .reverse();
    return paginated(
      request,
      deployments.map((deployment) => deploymentJson(fake, deployment)),
    );
  }),
  route("GET", "/repos/:owner/:repo/deployments/:id", (request, fake) => {
    const deployment = findDeployment(fake, request);
    return deployment ? json(200, deploymentJson(fake, deployment)) : notFound();
  }),
  route("GET", "/repos/:owner/:repo/deployments/:id/statuses", (request, fake) => {
    const deployment = findDeployment(fake, request);
    if (!deployment) return notFound();
    return paginated(
      request,
      [...deployment.statuses].reverse().map((status) => deploymentStatusJson(fake, deployment, status)),
    );
  }),
  route("POST", "/repos/:owner/:repo/deployments/:id/statuses", (request, fake) => {
    const deployment = findDeployment(fake, request);
    if (!deployment) return notFound();
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (!DEPLOYMENT_STATES.includes(body.state as FakeDeploymentState)) {
      return json(422, {
        message: "Validation Failed",
        errors: [
          {
            resource: "DeploymentStatus",
            code: "custom",
            field: "state",
            message: "state is not included in the list",
          },
        ],
        status: "422",
      });
    }
    const status = fake.addDeploymentStatus(deployment.id, {
      state: body.state as FakeDeploymentState,
      ...(typeof body.description === "string" ? { description: body.description } : {}),
      ...(typeof body.environment_url === "string" ? { environmentUrl: body.environment_url } : {}),
      ...(typeof body.log_url === "string" ? { logUrl: body.log_url } : {}),
    });
    return json(201, deploymentStatusJson(fake, deployment, status));
  }),
];

// --- actions: workflow dispatch and runs -------------------------------------------------------------

function workflowRunJson(fake: FakeGitHub, run: FakeWorkflowRun) {
  return {
    id: run.id,
    name: run.name,
    display_title: run.name,
    node_id: `WFR_${run.id}`,
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: run.path,
    run_number: run.id,
    event: run.event,
    status: run.status,
    conclusion: run.conclusion,
    html_url: `${WEB}/${run.repo}/actions/runs/${run.id}`,
    url: `${fake.url}/repos/${run.repo}/actions/runs/${run.id}`,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    run_started_at: run.createdAt,
    repository: { full_name: run.repo },
  };
}

/** GitHub's `created` qualifier: `>=T`, `>T`, `<=T`, `<T`, `A..B`, or one day/time. */
function matchesCreated(createdAt: string, qualifier: string): boolean {
  const time = Date.parse(createdAt);
  const range = /^(.+)\.\.(.+)$/.exec(qualifier);
  if (range) return time >= Date.parse(range[1]!) && time <= Date.parse(range[2]!);
  const compare = /^(>=|<=|>|<)(.+)$/.exec(qualifier);
  if (!compare) return createdAt.startsWith(qualifier);
  const bound = Date.parse(compare[2]!);
  switch (compare[1]) {
    case ">=":
      return time >= bound;
    case ">":
      return time > bound;
    case "<=":
      return time <= bound;
    default:
      return time < bound;
  }
}

const ACTIONS_ROUTES = [
  route("GET", "/repos/:owner/:repo/actions/workflows", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const workflows = fake.state.workflows.get(repoKey(fullNameOf(repo))) ?? [];
    return paginated(
      request,
      workflows.map((workflow) => ({
        id: workflow.id,
        name: workflow.name,
        path: `.github/workflows/${workflow.file}`,
        state: "active",
      })),
      (page) => ({ total_count: workflows.length, workflows: page }),
    );
  }),
  /**
   * 204 and recorded. Like GitHub: the ref must be a branch or tag (a sha is a 422), a declared workflow
   * must exist (404), and inputs the workflow does not declare are a 422.
   */
  route("POST", "/repos/:owner/:repo/actions/workflows/:workflow/dispatches", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const fullName = fullNameOf(repo);
    const declared = fake.state.workflows.get(repoKey(fullName));
    const name = request.params.workflow!;
    const workflow = declared?.find((candidate) => candidate.file === name || String(candidate.id) === name);
    if (declared && !workflow) return notFound();
    const body = (request.body ?? {}) as Record<string, unknown>;
    const ref = typeof body.ref === "string" ? body.ref : "";
    const refName = ref.replace(/^refs\/(heads|tags)\//, "");
    const known =
      branchesOf(fake, repo).has(refName) || tagsOf(fake, repo).some((tag) => tag.name === refName);
    if (!known) return json(422, { message: `No ref found for: ${ref}`, status: "422" });
    const inputs = (body.inputs ?? {}) as Record<string, unknown>;
    const unexpected = Object.keys(inputs).filter(
      (input) => workflow?.inputs && !workflow.inputs.includes(input),
    );
    if (unexpected.length > 0) {
      return json(422, {
        message: `Unexpected inputs provided: ${JSON.stringify(unexpected)}`,
        status: "422",
      });
    }
    fake.state.dispatches.push({ repo: fullName, workflow: name, ref, inputs, at: new Date().toISOString() });
    return { status: 204 };
  }),
  route("GET", "/repos/:owner/:repo/actions/runs", (request, fake) => {
    const repo = findRepo(fake, request);
    if (!repo) return notFound();
    const branch = request.query.get("branch");
    const status = request.query.get("status");
    const created = request.query.get("created");
    const event = request.query.get("event");
    const runs = fake.state.workflowRuns
      .filter((run) => sameRepo(run.repo, fullNameOf(repo)))
      .filter((run) => !branch || run.headBranch === branch)
      .filter((run) => !status || run.status === status || run.conclusion === status)
      .filter((run) => !created || matchesCreated(run.createdAt, created))
      .filter((run) => !event || run.event === event)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return paginated(
      request,
      runs.map((run) => workflowRunJson(fake, run)),
      (page) => ({ total_count: runs.length, workflow_runs: page }),
    );
  }),
];

// --- webhook deliveries ------------------------------------------------------------------------------

const sameHook = (a: FakeHookTarget, b: FakeHookTarget) =>
  a.hookId === b.hookId &&
  ("repo" in a && "repo" in b
    ? sameRepo(a.repo, b.repo)
    : "org" in a && "org" in b && a.org.toLowerCase() === b.org.toLowerCase());

function hookOf(request: FakeRequest): FakeHookTarget {
  const hookId = Number(request.params.hook_id);
  return request.params.org !== undefined
    ? { org: request.params.org, hookId }
    : { repo: `${request.params.owner}/${request.params.repo}`, hookId };
}

/** Newest first; undefined when no delivery was ever seeded for the hook (an unknown hook: 404). */
function deliveriesOf(fake: FakeGitHub, hook: FakeHookTarget): FakeHookDelivery[] | undefined {
  const deliveries = fake.state.hookDeliveries.filter((delivery) => sameHook(delivery.hook, hook));
  if (deliveries.length === 0) return undefined;
  return deliveries.sort((a, b) => b.deliveredAt.localeCompare(a.deliveredAt) || b.id - a.id);
}

/** GitHub's wording: status code 0 means the receiver could not be reached at all. */
function hookDeliveryStatus(statusCode: number): string {
  if (statusCode >= 200 && statusCode < 300) return "OK";
  if (statusCode === 0) return "failed to connect to host";
  return `Invalid HTTP Response: ${statusCode}`;
}

function hookDeliveryJson(delivery: FakeHookDelivery) {
  return {
    id: delivery.id,
    guid: delivery.guid,
    delivered_at: delivery.deliveredAt,
    redelivery: delivery.redelivery,
    duration: delivery.duration,
    status: delivery.status,
    status_code: delivery.statusCode,
    event: delivery.event,
    action: delivery.action ?? null,
    installation_id: null,
    repository_id: null,
    throttled_at: null,
  };
}

/** GitHub pages hook deliveries with an opaque `cursor` (not `page`), linked from the Link header. */
function listDeliveries(request: FakeRequest, fake: FakeGitHub): FakeResponse {
  const deliveries = deliveriesOf(fake, hookOf(request));
  if (!deliveries) return notFound();
  const perPage = Math.min(100, Math.max(1, Number(request.query.get("per_page") ?? 30)));
  const offset = Number(/^v1_(\d+)$/.exec(request.query.get("cursor") ?? "")?.[1] ?? 0);
  const page = deliveries.slice(offset, offset + perPage);
  const headers: Record<string, string> = {};
  if (offset + perPage < deliveries.length) {
    const query = new URLSearchParams(request.query);
    query.set("cursor", `v1_${offset + perPage}`);
    headers.link = `<${request.baseUrl}${request.path}?${query}>; rel="next"`;
  }
  return json(200, page.map(hookDeliveryJson), headers);
}

function getDelivery(request: FakeRequest, fake: FakeGitHub): FakeResponse {
  const delivery = deliveriesOf(fake, hookOf(request))?.find(
    (candidate) => candidate.id === Number(request.params.delivery_id),
  );
  if (!delivery) return notFound();
  return json(200, {
    ...hookDeliveryJson(delivery),
    request: {
      headers: { "X-GitHub-Delivery": delivery.guid, "X-GitHub-Event": delivery.event },
      payload: {},
    },
    response: { headers: {}, payload: "" },
  });
}

/** Accepted with 202; the redelivery shows up in the list as a new delivery with the same guid. */
function redeliver(request: FakeRequest, fake: FakeGitHub): FakeResponse {
  const hook = hookOf(request);
  const deliveryId = Number(request.params.delivery_id);
  const original = deliveriesOf(fake, hook)?.find((candidate) => candidate.id === deliveryId);
  if (!original) return notFound();
  const created = fake.addHookDelivery(original.hook, {
    guid: original.guid,
    event: original.event,
    ...(original.action !== undefined ? { action: original.action } : {}),
    redelivery: true,
  });
  fake.state.redeliveries.push({ hook: original.hook, deliveryId, created });
  return json(202, {});
}

const HOOK_ROUTES = [
  route("GET", "/repos/:owner/:repo/hooks/:hook_id/deliveries", listDeliveries),
  route("GET", "/orgs/:org/hooks/:hook_id/deliveries", listDeliveries),
  route("GET", "/repos/:owner/:repo/hooks/:hook_id/deliveries/:delivery_id", getDelivery),
  route("GET", "/orgs/:org/hooks/:hook_id/deliveries/:delivery_id", getDelivery),
  route("POST", "/repos/:owner/:repo/hooks/:hook_id/deliveries/:delivery_id/attempts", redeliver),
  route("POST", "/orgs/:org/hooks/:hook_id/deliveries/:delivery_id/attempts", redeliver),
];

const ROUTES: Route[] = [
  ...REPO_ROUTES,
  ...PULL_ROUTES,
  ...CHECK_ROUTES,
  ...SEARCH_ROUTES,
  ...GIT_ROUTES,
  ...RELEASE_ROUTES,
  ...DEPLOYMENT_ROUTES,
  ...ACTIONS_ROUTES,
  ...HOOK_ROUTES,
];

// --- the server --------------------------------------------------------------------------------------

export async function startFakeGitHub(options: { token?: string } = {}): Promise<FakeGitHub> {
  const token = options.token ?? FAKE_GITHUB_TOKEN;
  const extraRoutes: Route[] = [];
  let fault: FakeGitHubFault | undefined;
  let nextId = 1000;
  let remaining = RATE_LIMIT;
  const state: FakeGitHubState = {
    repos: new Map(),
    users: new Map(),
    pulls: [],
    reviews: [],
    checkRuns: [],
    statuses: [],
    commits: new Map(),
    branches: new Map(),
    tags: [],
    releases: [],
    deployments: [],
    workflows: new Map(),
    dispatches: [],
    hookDeliveries: [],
    redeliveries: [],
    workflowRuns: [],
  };
  /** Commit and delivery times count up from here, so ordering by time is stable and deterministic. */
  let commitClock = Date.UTC(2026, 0, 1);
  let deliveryClock = Date.UTC(2026, 0, 1);
  const repoOf = (fullName: string) => state.repos.get(fullName.toLowerCase()) ?? fake.addRepo(fullName);
  const branchesOfRepo = (repo: FakeRepo) => {
    const key = repoKey(fullNameOf(repo));
    let branches = state.branches.get(key);
    if (!branches) state.branches.set(key, (branches = new Map()));
    return branches;
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, json(500, { message: `Fake GitHub failed: ${String(error)}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeGitHub = {
    url,
    token,
    state,
    requests: [],
    addRepo(fullName, repoOptions = {}) {
      const [owner, name] = fullName.split("/") as [string, string];
      const repo: FakeRepo = {
        id: nextId++,
        owner,
        name,
        defaultBranch: repoOptions.defaultBranch ?? "main",
        private: repoOptions.private ?? false,
      };
      state.repos.set(fullName.toLowerCase(), repo);
      if (!state.users.has(owner.toLowerCase())) fake.addUser(owner, { type: "Organization" });
      return repo;
    },
    addUser(login, userOptions = {}) {
      const user: FakeUser = { id: nextId++, login, type: userOptions.type ?? "User", ...userOptions };
      state.users.set(login.toLowerCase(), user);
      return user;
    },
    addPullRequest(fullName, pull) {
      const repo = state.repos.get(fullName.toLowerCase()) ?? fake.addRepo(fullName);
      const repoName = fullNameOf(repo);
      const author = pull.author ?? "octocat";
      if (!state.users.has(author.toLowerCase())) fake.addUser(author);
      const number =
        pull.number ??
        1 + Math.max(0, ...state.pulls.filter((p) => sameRepo(p.repo, repoName)).map((p) => p.number));
      const createdAt = pull.createdAt ?? new Date(Date.UTC(2025, 0, 1) + number * 3_600_000).toISOString();
      const created: FakePullRequest = {
        id: nextId++,
        repo: repoName,
        number,
        title: pull.title,
        body: pull.body ?? "",
        author,
        state: pull.state ?? "open",
        draft: pull.draft ?? false,
        merged: pull.merged ?? false,
        head: pull.head ?? { ref: `feature-${number}`, sha: randomUUID().replace(/-/g, "").padEnd(40, "0") },
        base: pull.base ?? { ref: repo.defaultBranch },
        createdAt,
        updatedAt: pull.updatedAt ?? createdAt,
        additions: pull.additions ?? 10,
        deletions: pull.deletions ?? 2,
        changedFiles: pull.changedFiles ?? 1,
        labels: pull.labels ?? [],
        requestedReviewers: pull.requestedReviewers ?? [],
        requestedTeams: pull.requestedTeams ?? [],
      };
      for (const login of created.requestedReviewers)
        if (!state.users.has(login.toLowerCase())) fake.addUser(login);
      state.pulls.push(created);
      return created;
    },
    addReview(fullName, number, review) {
      if (!state.users.has(review.reviewer.toLowerCase())) fake.addUser(review.reviewer);
      const created: FakeReview = {
        id: nextId++,
        repo: fullName,
        number,
        reviewer: review.reviewer,
        state: review.state,
        submittedAt: review.submittedAt ?? new Date(Date.UTC(2025, 1, 1) + nextId * 60_000).toISOString(),
      };
      state.reviews.push(created);
      return created;
    },
    addCheckRun(fullName, sha, run) {
      const status = run.status ?? "completed";
      const created: FakeCheckRun = {
        id: nextId++,
        repo: fullName,
        sha,
        name: run.name,
        status,
        conclusion: run.conclusion !== undefined ? run.conclusion : status === "completed" ? "success" : null,
      };
      state.checkRuns.push(created);
      return created;
    },
    addStatus(fullName, sha, status) {
      const created: FakeCommitStatus = { id: nextId++, repo: fullName, sha, ...status };
      state.statuses.push(created);
      return created;
    },
    addCommits(fullName, branch, commits) {
      const repo = repoOf(fullName);
      const repoName = fullNameOf(repo);
      const branches = branchesOfRepo(repo);
      const key = repoKey(repoName);
      const list = state.commits.get(key) ?? [];
      state.commits.set(key, list);
      const shas: string[] = [];
      for (const input of commits) {
        const head = branches.get(branch);
        const parents = input.parents ?? (head ? [head] : []);
        commitClock = input.date ? Math.max(commitClock, Date.parse(input.date)) : commitClock + 60_000;
        const date = input.date ?? new Date(commitClock).toISOString();
        const sha = createHash("sha1")
          .update(`${repoName}\n${parents.join(",")}\n${input.message}\n${date}\n${list.length}`)
          .digest("hex");
        if (input.author && !state.users.has(input.author.toLowerCase())) fake.addUser(input.author);
        const authorName = input.authorName ?? input.author ?? "A Contributor";
        list.push({
          sha,
          repo: repoName,
          message: input.message,
          ...(input.author ? { author: input.author } : {}),
          authorName,
          authorEmail: `${authorName.toLowerCase().replace(/[^a-z0-9]+/g, ".")}@example.com`,
          date,
          parents,
          files: input.files ?? [],
        });
        branches.set(branch, sha);
        shas.push(sha);
      }
      return shas;
    },
    setBranch(fullName, branch, sha) {
      branchesOfRepo(repoOf(fullName)).set(branch, sha);
    },
    head(fullName, branch) {
      const repo = state.repos.get(fullName.toLowerCase());
      return repo
        ? state.branches.get(repoKey(fullNameOf(repo)))?.get(branch ?? repo.defaultBranch)
        : undefined;
    },
    tag(fullName, name, sha) {
      const repo = repoOf(fullName);
      const repoName = fullNameOf(repo);
      if (state.tags.some((tag) => sameRepo(tag.repo, repoName) && tag.name === name)) {
        throw new Error(`fake GitHub: tag ${name} already exists in ${repoName}`);
      }
      const target = sha ?? fake.head(repoName);
      if (!target) throw new Error(`fake GitHub: ${repoName} has no commits to tag; add commits first`);
      const tag: FakeTag = { repo: repoName, name, sha: target };
      state.tags.push(tag);
      return tag;
    },
    addRelease(fullName, release) {
      const repo = repoOf(fullName);
      const repoName = fullNameOf(repo);
      const existing = state.tags.find((tag) => sameRepo(tag.repo, repoName) && tag.name === release.tag);
      const tag = existing ?? fake.tag(repoName, release.tag, release.sha);
      const created: FakeRelease = {
        id: state.releases.length + 1,
        repo: repoName,
        tag: release.tag,
        name: release.name ?? release.tag,
        body: release.body ?? "",
        prerelease: release.prerelease ?? false,
        draft: release.draft ?? false,
        targetCommitish: tag.sha,
        author: FAKE_GITHUB_ACTOR,
        createdAt: new Date(commitClock).toISOString(),
      };
      state.releases.push(created);
      return created;
    },
    addWorkflow(fullName, file, workflowOptions = {}) {
      const repo = repoOf(fullName);
      const key = repoKey(fullNameOf(repo));
      const workflow: FakeWorkflow = {
        id: nextId++,
        file,
        name: workflowOptions.name ?? file.replace(/\.ya?ml$/, ""),
        ...(workflowOptions.inputs ? { inputs: workflowOptions.inputs } : {}),
      };
      state.workflows.set(key, [...(state.workflows.get(key) ?? []), workflow]);
      return workflow;
    },
    addWorkflowRun(fullName, run) {
      const repo = repoOf(fullName);
      const headBranch = run.headBranch ?? repo.defaultBranch;
      const status = run.status ?? "completed";
      const createdAt = run.createdAt ?? new Date().toISOString();
      const created: FakeWorkflowRun = {
        id: nextId++,
        repo: fullNameOf(repo),
        name: run.name ?? "CI",
        path: run.path ?? ".github/workflows/ci.yml",
        event: run.event ?? "push",
        headBranch,
        headSha: run.headSha ?? fake.head(fullNameOf(repo), headBranch) ?? "0".repeat(40),
        status,
        conclusion: run.conclusion !== undefined ? run.conclusion : status === "completed" ? "success" : null,
        createdAt,
        updatedAt: run.updatedAt ?? createdAt,
      };
      state.workflowRuns.push(created);
      return created;
    },
    addHookDelivery(hook, delivery) {
      deliveryClock = delivery.deliveredAt
        ? Math.max(deliveryClock, Date.parse(delivery.deliveredAt))
        : deliveryClock + 60_000;
      const statusCode = delivery.statusCode ?? 200;
      const created: FakeHookDelivery = {
        id: nextId++,
        hook,
        guid: delivery.guid ?? randomUUID(),
        deliveredAt: delivery.deliveredAt ?? new Date(deliveryClock).toISOString(),
        redelivery: delivery.redelivery ?? false,
        status: delivery.status ?? hookDeliveryStatus(statusCode),
        statusCode,
        event: delivery.event,
        ...(delivery.action !== undefined ? { action: delivery.action } : {}),
        duration: delivery.duration ?? 0.12,
      };
      state.hookDeliveries.push(created);
      return created;
    },
    addDeploymentStatus(deploymentId, status) {
      const deployment = state.deployments.find((candidate) => candidate.id === deploymentId);
      if (!deployment) throw new Error(`fake GitHub: no deployment ${deploymentId}`);
      const created: FakeDeploymentStatus = {
        id: nextId++,
        deploymentId,
        state: status.state,
        description: status.description ?? "",
        environment: deployment.environment,
        environmentUrl: status.environmentUrl ?? "",
        logUrl: status.logUrl ?? "",
        creator: FAKE_GITHUB_ACTOR,
        createdAt: new Date().toISOString(),
      };
      deployment.statuses.push(created);
      // auto_inactive: a success marks earlier non-transient, non-production deployments to the same
      // environment inactive, as GitHub does.
      if (status.state === "success") {
        for (const earlier of state.deployments) {
          if (
            earlier.id < deploymentId &&
            sameRepo(earlier.repo, deployment.repo) &&
            earlier.environment === deployment.environment &&
            !earlier.transientEnvironment &&
            !earlier.productionEnvironment &&
            earlier.statuses.at(-1)?.state !== "inactive"
          ) {
            earlier.statuses.push({ ...created, id: nextId++, deploymentId: earlier.id, state: "inactive" });
          }
        }
      }
      return created;
    },
    releases: (fullName) => state.releases.filter((release) => !fullName || sameRepo(release.repo, fullName)),
    deployments: (fullName) =>
      state.deployments.filter((deployment) => !fullName || sameRepo(deployment.repo, fullName)),
    dispatches: (fullName) =>
      state.dispatches.filter((dispatch) => !fullName || sameRepo(dispatch.repo, fullName)),
    redeliveries: () => [...state.redeliveries],
    fail(next) {
      fault = next;
    },
    route(method, pattern, handler) {
      extraRoutes.unshift(route(method, pattern, handler));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  function rateLimitHeaders(): Record<string, string> {
    return {
      "x-ratelimit-limit": String(RATE_LIMIT),
      "x-ratelimit-remaining": String(remaining),
      "x-ratelimit-used": String(RATE_LIMIT - remaining),
      "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
      "x-ratelimit-resource": "core",
    };
  }

  function send(res: ServerResponse, response: FakeResponse) {
    const body = response.body === undefined ? "" : JSON.stringify(response.body);
    res.writeHead(response.status, {
      "content-type": "application/json; charset=utf-8",
      "x-github-api-version-selected": "2022-11-28",
      "x-github-request-id": randomUUID(),
      ...rateLimitHeaders(),
      ...response.headers,
    });
    res.end(body);
  }

  function faultResponse(current: FakeGitHubFault): FakeResponse {
    switch (current.kind) {
      case "unauthorized":
        return json(401, {
          message: "Bad credentials",
          documentation_url: "https://docs.github.com/rest",
          status: "401",
        });
      case "rate-limit": {
        const reset = Math.floor(Date.now() / 1000) + (current.resetInSeconds ?? 600);
        return json(
          current.status ?? 403,
          {
            message:
              "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
            documentation_url:
              "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-rate-limit",
            status: String(current.status ?? 403),
          },
          {
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": String(RATE_LIMIT),
            "x-ratelimit-reset": String(reset),
          },
        );
      }
      case "secondary-rate-limit":
        return json(
          403,
          {
            message:
              "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            documentation_url:
              "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            status: "403",
          },
          { "retry-after": String(current.retryAfterSeconds) },
        );
      case "error":
        return json(current.status, { message: current.message, status: String(current.status) });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const parsed = new URL(req.url ?? "/", url);
    const authorization = req.headers.authorization;
    const text = await readBody(req);
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    fake.requests.push({
      method: req.method ?? "GET",
      url: parsed.pathname + parsed.search,
      authorization,
      ...(body === undefined ? {} : { body }),
    });

    const presented = /^(?:token|bearer)\s+(.+)$/i.exec(authorization ?? "")?.[1];
    if (presented === undefined) {
      return send(res, json(401, { message: "Requires authentication", status: "401" }));
    }
    if (fault) return send(res, faultResponse(fault));
    if (presented !== token) return send(res, faultResponse({ kind: "unauthorized" }));
    remaining = Math.max(0, remaining - 1);

    const method = req.method ?? "GET";
    for (const candidate of [...extraRoutes, ...ROUTES]) {
      if (candidate.method !== method) continue;
      const match = candidate.regex.exec(parsed.pathname);
      if (!match) continue;
      const params: Record<string, string> = {};
      candidate.names.forEach((name, index) => {
        params[name] = decodeURIComponent(match[index + 1]!);
      });
      const request: FakeRequest = {
        method,
        path: parsed.pathname,
        params,
        query: parsed.searchParams,
        body,
        headers: req.headers,
        baseUrl: url,
      };
      return send(res, await candidate.handler(request, fake));
    }
    return send(res, notFound());
  }

  return fake;
}
