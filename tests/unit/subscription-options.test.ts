import { describe, expect, it } from "vitest";
import {
  describeRule,
  describeSubscription,
  excludeAuthor,
  parseSubscribeOptions,
  parseSubscriptionId,
  requireGuild,
  splitList,
} from "../../src/discord/subscription-options.js";
import type { OptionValue } from "../../src/discord/interaction.js";
import { UserError } from "../../src/errors.js";

const HERE = "111111111111111111";
const THERE = "222222222222222222";

function github(options: Record<string, OptionValue>) {
  return parseSubscribeOptions("github", new Map(Object.entries(options)), HERE);
}
function linear(options: Record<string, OptionValue>) {
  return parseSubscribeOptions("linear", new Map(Object.entries(options)), HERE);
}
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error("expected a UserError");
}

describe("splitList", () => {
  it("trims entries, drops empty ones and keeps the first of entries that differ only in case", () => {
    expect(splitList(" acme/api, ,acme/web,ACME/API ,")).toEqual(["acme/api", "acme/web"]);
  });
});

describe("/subscribe github options", () => {
  it("turns a repository and event globs into the config file's match shape, posting here by default", () => {
    expect(github({ repo: "acme/api", events: "pull_request.*" })).toEqual({
      source: "github",
      channel: HERE,
      rule: {
        match: { repos: ["acme/api"], events: ["pull_request.*"] },
        style: "full",
        threads: "per-item",
      },
      muteOwn: false,
      namesToVerify: ["acme/api"],
    });
  });

  it("reads every filter, and checks only exact repositories with the API, not globs", () => {
    const request = github({
      repo: "acme/api, acme/*, https://github.com/acme/web.git",
      events: "pull_request.opened, push, release.*",
      branch: "main, release/*",
      labels: "bug, needs review",
      "exclude-labels": "wontfix",
      "exclude-authors": "dependabot[bot], Bots",
      drafts: false,
      style: "compact",
      threads: "none",
      channel: THERE,
      "mute-own": true,
    });
    expect(request).toEqual({
      source: "github",
      channel: THERE,
      rule: {
        match: {
          repos: ["acme/api", "acme/*", "acme/web"],
          events: ["pull_request.opened", "push", "release.*"],
          branches: ["main", "release/*"],
          labels: { any: ["bug", "needs review"], all: [], none: ["wontfix"] },
          authors: { include: [], exclude: ["dependabot[bot]", "bots"] },
          drafts: false,
        },
        style: "compact",
        threads: "none",
      },
      muteOwn: true,
      namesToVerify: ["acme/api", "acme/web"],
    });
  });

  it("leaves drafts unfiltered unless drafts is False", () => {
    expect(github({ repo: "acme/api", drafts: true }).rule.match).toEqual({ repos: ["acme/api"] });
  });

  it("refuses a repository without its owner, saying what to type", () => {
    expect(refusal(() => github({ repo: "api" }))).toBe(
      "`api` is not a repository: type owner/name (acme/api) or a glob such as acme/*, several separated by commas.",
    );
  });

  it("refuses an empty list", () => {
    expect(refusal(() => github({ repo: " , " }))).toBe(
      "repo is empty: type owner/name such as acme/api, or a glob such as acme/*.",
    );
  });

  it("refuses an event GitHub does not send", () => {
    expect(refusal(() => github({ repo: "acme/api", events: "pull_requests.*" }))).toBe(
      "`pull_requests.*` is not a GitHub event: type an event such as pull_request.*, issues.opened, push or release.published.",
    );
  });

  it("refuses an action the event does not have, listing the ones it has", () => {
    const message = refusal(() => github({ repo: "acme/api", events: "pull_request.merged" }));
    expect(message).toContain(
      "`pull_request.merged` is not a pull_request action: type `pull_request.*` or one of",
    );
    expect(message).toContain("closed");
    expect(message).toContain("opened");
  });

  it("refuses an action on an event that has none", () => {
    expect(refusal(() => github({ repo: "acme/api", events: "push.created" }))).toBe(
      "GitHub's `push` event has no actions: type just `push`.",
    );
  });

  it("accepts globs in events and lower-cases GitHub event names", () => {
    expect(github({ repo: "acme/api", events: "Pull_Request.*, *.created" }).rule.match.events).toEqual([
      "pull_request.*",
      "*.created",
    ]);
  });

  it("refuses a branch with a space and an author that is not a login", () => {
    expect(refusal(() => github({ repo: "acme/api", branch: "my branch" }))).toContain(
      "`my branch` is not a branch name: type a branch such as main",
    );
    expect(refusal(() => github({ repo: "acme/api", "exclude-authors": "Ada Lovelace" }))).toContain(
      "`Ada Lovelace` is not a GitHub login: type logins such as octocat or dependabot[bot], or `bots` for every bot.",
    );
  });

  it("refuses a channel that is not a channel id, and asks for one when there is no current channel", () => {
    expect(refusal(() => github({ repo: "acme/api", channel: "general" }))).toBe(
      "channel must be a Discord channel: pick one from the list Discord offers.",
    );
    expect(refusal(() => parseSubscribeOptions("github", new Map([["repo", "acme/api"]]), undefined))).toBe(
      "Pick the channel to post in with the `channel` option.",
    );
  });

  it("refuses a style or threads value outside the choices", () => {
    expect(refusal(() => github({ repo: "acme/api", style: "fancy" }))).toBe("style is full or compact.");
    expect(refusal(() => github({ repo: "acme/api", threads: "always" }))).toBe(
      "threads is per-item or none.",
    );
  });

  it("keeps backticks in user text from breaking out of the code span it is quoted in", () => {
    expect(refusal(() => github({ repo: "a`b" }))).toMatch(/^`a'b` is not a repository/);
  });
});

describe("/subscribe linear options", () => {
  it("upper-cases team keys and checks exact ones with the API", () => {
    expect(linear({ team: "eng, ops*", project: "Mobile app", events: "issue.create, Comment.*" })).toEqual({
      source: "linear",
      channel: HERE,
      rule: {
        match: {
          teams: ["ENG", "OPS*"],
          projects: ["Mobile app"],
          events: ["Issue.create", "Comment.*"],
        },
        style: "full",
        threads: "per-item",
      },
      muteOwn: false,
      namesToVerify: ["ENG"],
    });
  });

  it("refuses an issue id typed as a team key", () => {
    expect(refusal(() => linear({ team: "ENG-123" }))).toBe(
      "`ENG-123` is not a Linear team key: type the key that starts the team's issue ids (ENG for ENG-123), several separated by commas.",
    );
  });

  it("refuses an unknown model and an unknown action", () => {
    expect(refusal(() => linear({ team: "ENG", events: "Isue.create" }))).toContain(
      "`Isue.create` is not a Linear event: type Model.action, such as Issue.create",
    );
    expect(refusal(() => linear({ team: "ENG", events: "Issue.created" }))).toBe(
      "`Issue.created` is not a Linear action: type Issue.create, Issue.update, Issue.remove or Issue.*.",
    );
  });

  it("ignores GitHub-only options", () => {
    expect(linear({ team: "ENG", repo: "acme/api", drafts: false }).rule.match).toEqual({ teams: ["ENG"] });
  });
});

describe("other subscription inputs", () => {
  it("asks for a subcommand when there is none", () => {
    expect(refusal(() => parseSubscribeOptions(undefined, new Map(), HERE))).toBe(
      "Choose what to subscribe to: `/subscribe github` or `/subscribe linear`.",
    );
  });

  it("adds the subscriber to the excluded authors once (mute-own)", () => {
    const rule = github({ repo: "acme/api", "exclude-authors": "bots" }).rule;
    const muted = excludeAuthor(rule, "octocat");
    expect(muted.match.authors).toEqual({ include: [], exclude: ["bots", "octocat"] });
    expect(excludeAuthor(muted, "OctoCat")).toBe(muted);
    expect(rule.match.authors).toEqual({ include: [], exclude: ["bots"] });
  });

  it("reads a subscription id typed with or without #, and refuses anything else", () => {
    expect(parseSubscriptionId("12")).toBe(12);
    expect(parseSubscriptionId(" #7 ")).toBe(7);
    expect(parseSubscriptionId(3)).toBe(3);
    expect(refusal(() => parseSubscriptionId("api-prs"))).toBe(
      "`api-prs` is not a subscription number: pick one from the list, or type the number /subscriptions shows (such as 12). Routes from the config file are changed in the file.",
    );
  });

  it("refuses outside a server", () => {
    expect(requireGuild("333333333333333333")).toBe("333333333333333333");
    expect(refusal(() => requireGuild(undefined))).toContain("run this in a server, not a direct message");
  });
});

describe("describeRule", () => {
  it("says what a rule posts in the words a user types", () => {
    expect(describeRule("github", github({ repo: "acme/api", events: "pull_request.*" }).rule)).toBe(
      "github acme/api pull_request.*",
    );
    const everything = github({
      repo: "acme/*",
      branch: "main",
      labels: "bug",
      "exclude-labels": "wontfix",
      "exclude-authors": "bots",
      drafts: false,
      style: "compact",
      threads: "none",
    }).rule;
    expect(describeRule("github", everything)).toBe(
      "github acme/* all events branch:main labels:bug -labels:wontfix -authors:bots no drafts compact no threads",
    );
    expect(describeRule("linear", linear({ team: "ENG", project: "Web" }).rule)).toBe(
      "linear ENG project:Web all events",
    );
  });

  it("contains no backticks, so it can be shown in a code span", () => {
    expect(describeRule("github", github({ repo: "acme/api", labels: "`x`" }).rule)).toBe(
      "github acme/api all events labels:'x'",
    );
  });

  it("shows a stored subscription whose rule cannot be read, with the reason", () => {
    expect(describeSubscription({ source: "linear", rule: undefined, ruleProblem: "match: bad" })).toBe(
      "linear (unreadable rule: match: bad)",
    );
  });
});
