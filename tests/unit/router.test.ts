import { describe, expect, it } from "vitest";
import type { DomainEvent, GitHubEvent, LinearEvent } from "../../src/events/domain-event.js";
import { routeEvent, ruleMatches } from "../../src/pipeline/router.js";
import type { RouteRule } from "../../src/pipeline/router.js";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { normalizeGitHub } from "../../src/sources/github/normalize.js";
import { loadLinearFixture } from "../../src/sources/linear/fixtures.js";
import { normalizeLinear } from "../../src/sources/linear/normalize.js";

const CHANNEL_A = "100000000000000001";
const CHANNEL_B = "100000000000000002";
const DEFAULT_CHANNEL = "100000000000000009";
const RECEIVED_AT = new Date("2025-03-04T12:00:00.000Z");
/** The repository every octokit example delivery comes from. */
const FIXTURE_REPO = "Codertocat/Hello-World";

// --- hand-built events ---------------------------------------------------------------------------------

type Facets = Partial<
  Pick<DomainEvent, "name" | "repo" | "team" | "branch" | "labels" | "draft" | "actor" | "project">
>;

function pullRequest(facets: Facets = {}): GitHubEvent {
  return {
    source: "github",
    kind: "github.pull_request",
    action: "opened",
    name: "pull_request.opened",
    deliveryId: "delivery-1",
    occurredAt: "2025-03-04T12:00:00.000Z",
    actor: { name: "octocat", isBot: false },
    repo: "acme/api",
    branch: "main",
    labels: [],
    draft: false,
    pullRequest: {
      number: 12,
      title: "Fix the flux capacitor",
      url: "https://github.com/acme/api/pull/12",
      body: "",
      author: "octocat",
      state: "open",
      draft: false,
      merged: false,
      headBranch: "fix-flux",
      baseBranch: "main",
    },
    ...facets,
  } as GitHubEvent;
}

function release(facets: Facets = {}): GitHubEvent {
  return {
    source: "github",
    kind: "github.release",
    action: "published",
    name: "release.published",
    deliveryId: "delivery-2",
    occurredAt: "2025-03-04T12:00:00.000Z",
    actor: { name: "octocat", isBot: false },
    repo: "acme/api",
    labels: [],
    release: {
      tag: "v1.0.0",
      name: "v1.0.0",
      url: "https://github.com/acme/api/releases/v1.0.0",
      body: "",
      prerelease: false,
    },
    ...facets,
  } as GitHubEvent;
}

function linearIssue(facets: Facets = {}): LinearEvent {
  return {
    source: "linear",
    kind: "linear.issue",
    action: "create",
    name: "Issue.create",
    deliveryId: "delivery-3",
    occurredAt: "2025-03-04T12:00:00.000Z",
    actor: { name: "Ada Lovelace", isBot: false },
    team: "ENG",
    labels: ["Bug"],
    issue: {
      id: "issue-1",
      identifier: "ENG-1",
      title: "Login fails on Safari",
      url: "https://linear.app/acme/issue/ENG-1",
      description: "",
      state: "Todo",
      priority: 2,
      priorityLabel: "High",
      labels: ["Bug"],
      teamKey: "ENG",
    },
    changes: [],
    ...facets,
  } as LinearEvent;
}

// --- events from real deliveries -----------------------------------------------------------------------

function githubFixtureEvent(name: string, edit?: (payload: Record<string, unknown>) => void): DomainEvent {
  const fixture = loadGitHubFixture(name);
  const payload = structuredClone(fixture.payload) as Record<string, unknown>;
  edit?.(payload);
  const result = normalizeGitHub({
    event: fixture.event,
    deliveryId: name,
    payload,
    receivedAt: RECEIVED_AT,
  });
  if (result.outcome !== "event") throw new Error(`${name} was ignored: ${result.reason}`);
  return result.event;
}

function linearFixtureEvent(name: string): DomainEvent {
  const result = normalizeLinear({
    deliveryId: name,
    payload: loadLinearFixture(name).payload,
    receivedAt: RECEIVED_AT,
  });
  if (result.outcome !== "event") throw new Error(`${name} was ignored: ${result.reason}`);
  return result.event;
}

/** The octokit example PR, opened by dependabot instead of Codertocat. */
function openedByDependabot(): DomainEvent {
  return githubFixtureEvent("pull_request.opened", (payload) => {
    payload.sender = { ...(payload.sender as object), login: "dependabot[bot]", type: "Bot" };
  });
}

// --- rules ---------------------------------------------------------------------------------------------

type MatchInput = Omit<RouteRule["match"], "labels" | "authors"> & {
  labels?: Partial<NonNullable<RouteRule["match"]["labels"]>>;
  authors?: Partial<NonNullable<RouteRule["match"]["authors"]>>;
};

/** A rule as the config schema would produce it: omitted label and author lists are empty. */
function rule(match: MatchInput = {}, overrides: Partial<Omit<RouteRule, "match">> = {}): RouteRule {
  const { labels, authors, ...rest } = match;
  return {
    name: "route",
    source: "github",
    channel: CHANNEL_A,
    style: "full",
    threads: "per-item",
    origin: "config",
    ...overrides,
    match: {
      ...rest,
      ...(labels ? { labels: { any: [], all: [], none: [], ...labels } } : {}),
      ...(authors ? { authors: { include: [], exclude: [], ...authors } } : {}),
    },
  };
}

describe("ruleMatches: source", () => {
  it("matches every event of its source when the match is empty", () => {
    expect(ruleMatches(rule(), pullRequest())).toBe(true);
    expect(ruleMatches(rule({}, { source: "linear" }), linearIssue())).toBe(true);
  });

  it("never matches an event from the other source", () => {
    expect(ruleMatches(rule({}, { source: "linear" }), pullRequest())).toBe(false);
    expect(ruleMatches(rule(), linearIssue())).toBe(false);
  });
});

describe("ruleMatches: repos", () => {
  it("matches an owner/* glob and exact names, ignoring case", () => {
    expect(ruleMatches(rule({ repos: ["acme/*"] }), pullRequest({ repo: "acme/web" }))).toBe(true);
    expect(ruleMatches(rule({ repos: ["acme/api"] }), pullRequest({ repo: "Acme/API" }))).toBe(true);
  });

  it("skips repositories of another owner, even one whose name starts alike", () => {
    expect(ruleMatches(rule({ repos: ["acme/*"] }), pullRequest({ repo: "other/api" }))).toBe(false);
    expect(ruleMatches(rule({ repos: ["acme/*"] }), pullRequest({ repo: "acme-labs/api" }))).toBe(false);
    expect(ruleMatches(rule({ repos: ["acme/api"] }), pullRequest({ repo: "acme/api-docs" }))).toBe(false);
  });

  it("matches a real delivery by its repository's full name", () => {
    const event = githubFixtureEvent("pull_request.opened");
    expect(ruleMatches(rule({ repos: ["Codertocat/*"] }), event)).toBe(true);
    expect(ruleMatches(rule({ repos: [FIXTURE_REPO] }), event)).toBe(true);
    expect(ruleMatches(rule({ repos: ["acme/*"] }), event)).toBe(false);
  });
});

describe("ruleMatches: teams (Linear)", () => {
  it("matches the team key of a real Linear issue and comment", () => {
    const linearRule = (teams: string[]) => rule({ teams }, { source: "linear" });
    expect(ruleMatches(linearRule(["ENG"]), linearFixtureEvent("Issue.create"))).toBe(true);
    expect(ruleMatches(linearRule(["eng"]), linearFixtureEvent("Comment.create"))).toBe(true);
    expect(ruleMatches(linearRule(["OPS"]), linearFixtureEvent("Issue.create"))).toBe(false);
  });

  it("skips events that belong to no team when teams are listed", () => {
    expect(
      ruleMatches(rule({ teams: ["ENG"] }, { source: "linear" }), linearFixtureEvent("Project.create")),
    ).toBe(false);
  });
});

describe("ruleMatches: projects (Linear)", () => {
  it("matches the project of a real issue and project update, by glob", () => {
    const launch = rule({ projects: ["mobile *"] }, { source: "linear" });
    expect(ruleMatches(launch, linearFixtureEvent("Issue.create"))).toBe(true);
    expect(ruleMatches(launch, linearFixtureEvent("ProjectUpdate.create"))).toBe(true);
    expect(
      ruleMatches(rule({ projects: ["Billing"] }, { source: "linear" }), linearFixtureEvent("Issue.create")),
    ).toBe(false);
  });

  it("skips events outside any project when projects are listed", () => {
    expect(
      ruleMatches(rule({ projects: ["*"] }, { source: "linear" }), linearFixtureEvent("Comment.create")),
    ).toBe(false);
  });
});

describe("ruleMatches: events", () => {
  it("matches `pull_request.*` against every pull request action and nothing else", () => {
    const prs = rule({ events: ["pull_request.*"] });
    expect(ruleMatches(prs, pullRequest())).toBe(true);
    expect(ruleMatches(prs, pullRequest({ name: "pull_request.closed" }))).toBe(true);
    expect(ruleMatches(prs, githubFixtureEvent("pull_request_review.submitted.approved"))).toBe(false);
    expect(ruleMatches(prs, release())).toBe(false);
  });

  it("reads a bare `pull_request` as every pull request action", () => {
    const prs = rule({ events: ["pull_request"] });
    expect(ruleMatches(prs, githubFixtureEvent("pull_request.closed.merged"))).toBe(true);
    expect(ruleMatches(prs, githubFixtureEvent("pull_request.labeled"))).toBe(true);
    expect(ruleMatches(prs, githubFixtureEvent("pull_request_review.submitted.approved"))).toBe(false);
    expect(ruleMatches(prs, githubFixtureEvent("issues.opened"))).toBe(false);
  });

  it("matches one exact `<event>.<action>` among several", () => {
    const published = rule({ events: ["issues.opened", "release.published"] });
    expect(ruleMatches(published, githubFixtureEvent("release.published"))).toBe(true);
    expect(ruleMatches(published, githubFixtureEvent("release.prereleased"))).toBe(false);
    expect(ruleMatches(published, githubFixtureEvent("issues.opened"))).toBe(true);
    expect(ruleMatches(published, githubFixtureEvent("issues.closed"))).toBe(false);
  });

  it("matches events that have no action (push, create) by their bare name and by `<event>.*`", () => {
    const push = githubFixtureEvent("push.branch");
    expect(push.name).toBe("push");
    expect(ruleMatches(rule({ events: ["push"] }), push)).toBe(true);
    expect(ruleMatches(rule({ events: ["push.*"] }), push)).toBe(true);
    expect(ruleMatches(rule({ events: ["pull_request.*"] }), push)).toBe(false);
  });

  it("matches Linear `Issue.create` / `Issue.*` names", () => {
    const linear = (events: string[]) => rule({ events }, { source: "linear" });
    expect(ruleMatches(linear(["Issue.create"]), linearFixtureEvent("Issue.create"))).toBe(true);
    expect(ruleMatches(linear(["Issue.create"]), linearFixtureEvent("Issue.update.state"))).toBe(false);
    expect(ruleMatches(linear(["Issue.*"]), linearFixtureEvent("Issue.update.state"))).toBe(true);
    expect(ruleMatches(linear(["Issue"]), linearFixtureEvent("Issue.remove"))).toBe(true);
    expect(ruleMatches(linear(["Issue.*"]), linearFixtureEvent("Comment.create"))).toBe(false);
  });
});

describe("ruleMatches: branches", () => {
  it("matches the base branch of a pull request and the target of a push", () => {
    const master = rule({ branches: ["master"] });
    expect(ruleMatches(master, githubFixtureEvent("pull_request.opened"))).toBe(true);
    expect(ruleMatches(master, githubFixtureEvent("push.branch"))).toBe(true);
    expect(
      ruleMatches(rule({ branches: ["main", "release/*"] }), pullRequest({ branch: "release/1.2" })),
    ).toBe(true);
  });

  it("skips events on other branches", () => {
    expect(ruleMatches(rule({ branches: ["main"] }), githubFixtureEvent("pull_request.opened"))).toBe(false);
    expect(ruleMatches(rule({ branches: ["main"] }), pullRequest({ branch: "develop" }))).toBe(false);
  });

  it("does not filter out events that are about no branch (issues, releases)", () => {
    const main = rule({ branches: ["main"] });
    expect(ruleMatches(main, githubFixtureEvent("issues.opened"))).toBe(true);
    expect(ruleMatches(main, githubFixtureEvent("release.published"))).toBe(true);
  });

  it("leaves out tag pushes and tag creation when a route lists branches", () => {
    const master = rule({ branches: ["master"] });
    expect(ruleMatches(master, githubFixtureEvent("push.tag"))).toBe(false);
    expect(ruleMatches(master, githubFixtureEvent("create.tag"))).toBe(false);
    expect(ruleMatches(rule({}), githubFixtureEvent("push.tag"))).toBe(true);
  });
});

describe("ruleMatches: labels", () => {
  it("any: needs one of the labels, ignoring case", () => {
    const any = rule({ labels: { any: ["security", "BUG"] } });
    expect(ruleMatches(any, pullRequest({ labels: ["bug"] }))).toBe(true);
    expect(ruleMatches(any, pullRequest({ labels: ["docs"] }))).toBe(false);
    expect(ruleMatches(any, pullRequest({ labels: [] }))).toBe(false);
  });

  it("all: needs every label", () => {
    const all = rule({ labels: { all: ["bug", "backend"] } });
    expect(ruleMatches(all, pullRequest({ labels: ["backend", "bug", "p1"] }))).toBe(true);
    expect(ruleMatches(all, pullRequest({ labels: ["bug"] }))).toBe(false);
  });

  it("none: refuses any of the labels", () => {
    const none = rule({ labels: { none: ["wip"] } });
    expect(ruleMatches(none, pullRequest({ labels: ["bug"] }))).toBe(true);
    expect(ruleMatches(none, pullRequest({ labels: [] }))).toBe(true);
    expect(ruleMatches(none, pullRequest({ labels: ["bug", "WIP"] }))).toBe(false);
  });

  it("combines any, all and none", () => {
    const combined = rule({ labels: { any: ["bug", "security"], all: ["backend"], none: ["wip"] } });
    expect(ruleMatches(combined, pullRequest({ labels: ["security", "backend"] }))).toBe(true);
    expect(ruleMatches(combined, pullRequest({ labels: ["security", "backend", "wip"] }))).toBe(false);
    expect(ruleMatches(combined, pullRequest({ labels: ["security"] }))).toBe(false);
  });

  it("matches a label added after the pull request opened on the labeled event", () => {
    const bugs = rule({ labels: { any: ["bug"] } });
    const opened = githubFixtureEvent("pull_request.opened");
    const labeled = githubFixtureEvent("pull_request.labeled");
    expect(opened.labels).toEqual([]);
    expect(ruleMatches(bugs, opened)).toBe(false);
    expect(labeled.labels).toContain("bug");
    expect(ruleMatches(bugs, labeled)).toBe(true);
  });

  it("stops matching `none` once the excluded label is added, and matches again once it is removed", () => {
    const notBugs = rule({ labels: { none: ["bug"] } });
    expect(ruleMatches(notBugs, githubFixtureEvent("pull_request.labeled"))).toBe(false);
    expect(ruleMatches(notBugs, githubFixtureEvent("pull_request.unlabeled"))).toBe(true);
  });

  it("matches Linear labels of a real issue", () => {
    const frontend = rule({ labels: { any: ["frontend"] } }, { source: "linear" });
    expect(ruleMatches(frontend, linearFixtureEvent("Issue.update.labels"))).toBe(true);
    expect(ruleMatches(frontend, linearFixtureEvent("Issue.create"))).toBe(false);
  });
});

describe("ruleMatches: authors", () => {
  const dependabot = { name: "dependabot[bot]", isBot: true };

  it("include: only the listed authors, by login glob", () => {
    expect(ruleMatches(rule({ authors: { include: ["octocat"] } }), pullRequest())).toBe(true);
    expect(ruleMatches(rule({ authors: { include: ["octo*"] } }), pullRequest())).toBe(true);
    expect(ruleMatches(rule({ authors: { include: ["hubot"] } }), pullRequest())).toBe(false);
  });

  it("exclude: drops a login written with its literal [bot] suffix", () => {
    const noDependabot = rule({ authors: { exclude: ["dependabot[bot]"] } });
    expect(ruleMatches(noDependabot, pullRequest({ actor: dependabot }))).toBe(false);
    expect(ruleMatches(noDependabot, pullRequest())).toBe(true);
    expect(ruleMatches(noDependabot, openedByDependabot())).toBe(false);
  });

  it("exclude `bots`: drops every bot sender and keeps people", () => {
    const noBots = rule({ authors: { exclude: ["bots"] } });
    expect(ruleMatches(noBots, openedByDependabot())).toBe(false);
    expect(ruleMatches(noBots, pullRequest({ actor: { name: "renovate[bot]", isBot: true } }))).toBe(false);
    expect(ruleMatches(noBots, githubFixtureEvent("pull_request.opened"))).toBe(true);
  });

  it("include `bots`: keeps only bot senders", () => {
    const onlyBots = rule({ authors: { include: ["bots"] } });
    expect(ruleMatches(onlyBots, openedByDependabot())).toBe(true);
    expect(ruleMatches(onlyBots, githubFixtureEvent("pull_request.opened"))).toBe(false);
  });

  it("exclude wins over include", () => {
    const both = rule({ authors: { include: ["bots"], exclude: ["dependabot[bot]"] } });
    expect(ruleMatches(both, openedByDependabot())).toBe(false);
    expect(ruleMatches(both, pullRequest({ actor: { name: "renovate[bot]", isBot: true } }))).toBe(true);
  });

  it("treats Linear's automation actor as a bot", () => {
    const noBots = rule({ authors: { exclude: ["bots"] } }, { source: "linear" });
    expect(ruleMatches(noBots, linearFixtureEvent("Cycle.create"))).toBe(false);
    expect(ruleMatches(noBots, linearFixtureEvent("Issue.create"))).toBe(true);
  });
});

describe("ruleMatches: drafts", () => {
  it("drafts: false skips draft pull requests and keeps ready ones", () => {
    const noDrafts = rule({ drafts: false });
    expect(ruleMatches(noDrafts, githubFixtureEvent("pull_request.converted_to_draft"))).toBe(false);
    expect(ruleMatches(noDrafts, githubFixtureEvent("pull_request.ready_for_review"))).toBe(true);
    expect(ruleMatches(noDrafts, pullRequest({ draft: true }))).toBe(false);
  });

  it("drafts: false keeps events that are not about a pull request", () => {
    expect(ruleMatches(rule({ drafts: false }), githubFixtureEvent("push.branch"))).toBe(true);
  });

  it("drafts unset or true keeps drafts", () => {
    expect(ruleMatches(rule(), pullRequest({ draft: true }))).toBe(true);
    expect(ruleMatches(rule({ drafts: true }), pullRequest({ draft: true }))).toBe(true);
  });
});

describe("ruleMatches: every filter at once", () => {
  const apiPrs = rule({
    repos: ["Codertocat/*"],
    events: ["pull_request.*"],
    branches: ["master"],
    labels: { any: ["bug"], none: ["wip"] },
    authors: { exclude: ["bots"] },
    drafts: false,
  });

  it("matches a real delivery that passes them all", () => {
    expect(ruleMatches(apiPrs, githubFixtureEvent("pull_request.labeled"))).toBe(true);
  });

  it("refuses it when any single filter fails", () => {
    expect(ruleMatches(apiPrs, githubFixtureEvent("pull_request.opened"))).toBe(false); // no label yet
    expect(ruleMatches(apiPrs, githubFixtureEvent("pull_request.converted_to_draft"))).toBe(false);
    expect(ruleMatches(apiPrs, githubFixtureEvent("issues.labeled"))).toBe(false);
  });
});

describe("routeEvent", () => {
  it("delivers once per channel, with the style and threads of the first matching route", () => {
    const rules = [
      rule({ repos: ["other/*"] }, { name: "other", channel: CHANNEL_A, style: "compact" }),
      rule({ repos: ["acme/*"] }, { name: "acme", channel: CHANNEL_A, style: "full", threads: "none" }),
      rule({}, { name: "all-github", channel: CHANNEL_B, style: "compact" }),
      rule({ events: ["pull_request"] }, { name: "prs", channel: CHANNEL_A, style: "compact" }),
    ];
    expect(routeEvent(pullRequest(), rules, DEFAULT_CHANNEL)).toEqual([
      { route: "acme", channel: CHANNEL_A, style: "full", threads: "none" },
      { route: "all-github", channel: CHANNEL_B, style: "compact", threads: "per-item" },
    ]);
  });

  it("matches config routes and chat subscriptions alike", () => {
    const rules = [
      rule({ events: ["release.*"] }, { name: "releases", channel: CHANNEL_A }),
      rule({}, { name: "sub-1", channel: CHANNEL_B, origin: "subscription" }),
    ];
    expect(routeEvent(githubFixtureEvent("release.published"), rules, undefined).map((d) => d.route)).toEqual(
      ["releases", "sub-1"],
    );
  });

  it("delivers nothing when routes exist and none matches, not even to the default channel", () => {
    const rules = [rule({ repos: ["acme/*"] })];
    expect(routeEvent(githubFixtureEvent("pull_request.opened"), rules, DEFAULT_CHANNEL)).toEqual([]);
  });

  it("sends everything to the default channel when there are no routes", () => {
    expect(routeEvent(linearFixtureEvent("Issue.create"), [], DEFAULT_CHANNEL)).toEqual([
      { route: "default", channel: DEFAULT_CHANNEL, style: "full", threads: "per-item" },
    ]);
    expect(routeEvent(githubFixtureEvent("push.branch"), [], DEFAULT_CHANNEL)).toHaveLength(1);
  });

  it("delivers nothing with no routes and no default channel", () => {
    expect(routeEvent(githubFixtureEvent("pull_request.opened"), [], undefined)).toEqual([]);
  });
});
