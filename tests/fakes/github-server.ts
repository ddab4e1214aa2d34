/**
 * A fake GitHub REST API on loopback, close enough that Octokit cannot tell: token auth (`Authorization:
 * token <t>` or `Bearer <t>`), GitHub's JSON shapes and error bodies, rate-limit headers on every answer,
 * Link-header pagination, and faults on demand (401, primary and secondary rate limits, any error).
 * Point GITHUB_API_URL at `fake.url`.
 *
 * Data lives in `fake.state` (plain maps and arrays, seeded through `addRepo`, `addUser`, `addPullRequest`,
 * `addReview`, `addCheckRun`, `addStatus`); `fake.requests` logs every request for assertions.
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
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

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

export interface FakeGitHubState {
  /** Keyed by `owner/name` lower-cased: GitHub's names are case-insensitive. */
  repos: Map<string, FakeRepo>;
  /** Keyed by login lower-cased. */
  users: Map<string, FakeUser>;
  pulls: FakePullRequest[];
  reviews: FakeReview[];
  checkRuns: FakeCheckRun[];
  statuses: FakeCommitStatus[];
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
  /** Answer every following request with this fault, until called with undefined. */
  fail(fault: FakeGitHubFault | undefined): void;
  /** Adds (or overrides) a route at run time. */
  route(method: string, pattern: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

export function route(method: string, pattern: string, handler: RouteHandler): Route {
  const names: string[] = [];
  const source = pattern
    .split("/")
    .map((segment) => {
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

const ROUTES: Route[] = [...REPO_ROUTES, ...PULL_ROUTES, ...CHECK_ROUTES, ...SEARCH_ROUTES];

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
    fake.requests.push({ method: req.method ?? "GET", url: parsed.pathname + parsed.search, authorization });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);

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
      const text = Buffer.concat(chunks).toString("utf8");
      const request: FakeRequest = {
        method,
        path: parsed.pathname,
        params,
        query: parsed.searchParams,
        body: text ? (JSON.parse(text) as unknown) : undefined,
        headers: req.headers,
        baseUrl: url,
      };
      return send(res, await candidate.handler(request, fake));
    }
    return send(res, notFound());
  }

  return fake;
}
