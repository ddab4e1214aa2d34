/**
 * /github pr and /github prs as a Discord member meets them: the real command, dispatcher and responder,
 * the real Octokit client against the fake GitHub REST API, answers read at the fake Discord
 * (see tests/support/command-invoker.ts for the one hop that is skipped).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { COLORS } from "../../src/discord/render/message.js";
import { createGitHubApi } from "../../src/sources/github/github-client.js";
import type { Store } from "../../src/store/database.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";
import { startCommandBackends } from "../support/command-backends.js";
import type { CommandBackends } from "../support/command-backends.js";
import { createCommandInvoker } from "../support/command-invoker.js";
import type { CommandInvoker } from "../support/command-invoker.js";
import { autocomplete, chatInput, createBotDriver } from "../support/discord-bot-driver.js";
import type { InvocationResult, OptionInput } from "../support/discord-bot-driver.js";
import { TEST_DISCORD_TOKEN, startTestSwitchboard } from "../support/switchboard-harness.js";

const CONFIG = `
routes:
  - name: api
    source: github
    match: { repos: ["acme/api", "acme/web", "acme/*"] }
    channel: "111111111111111111"
`;

/** An ordinary member: no roles, no permissions beyond using commands. */
const member = { user: { id: "200000000000000002", username: "grace" }, roles: [] };

let backends: CommandBackends;
let discord: FakeDiscord;
let github: FakeGitHub;
let store: Store;
let bot: CommandInvoker;

beforeEach(async () => {
  backends = await startCommandBackends("github-commands");
  ({ discord, github, store } = backends);
  bot = createCommandInvoker({
    discord,
    db: store.db,
    config: CONFIG,
    services: { github: createGitHubApi({ GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url }) },
  });
});

afterEach(() => backends.close());

function pr(options: Record<string, OptionInput>) {
  return bot.invoke(chatInput("github", { ...member, subcommand: "pr", options }));
}

function prs(options: Record<string, OptionInput> = {}) {
  return bot.invoke(chatInput("github", { ...member, subcommand: "prs", options }));
}

interface Embed {
  title?: string;
  description?: string;
  color?: number;
  fields?: Array<{ name: string; value: string }>;
  footer?: { text: string };
}

function embedOf(answer: InvocationResult): Embed {
  const embeds = answer.data.embeds as Embed[] | undefined;
  expect(embeds).toHaveLength(1);
  return embeds![0]!;
}

function field(embed: Embed, name: string): string | undefined {
  return embed.fields?.find((candidate) => candidate.name === name)?.value;
}

/** A PR with a bit of everything: reviews in every state, pending requests, checks and statuses. */
function seedBusyPullRequest() {
  const pull = github.addPullRequest("acme/api", {
    number: 12,
    title: "Fix the flux capacitor",
    author: "ada",
    head: { ref: "fix-flux", sha: "a".repeat(40) },
    labels: ["bug", "needs *review*"],
    requestedReviewers: ["dave"],
    requestedTeams: ["platform"],
    additions: 120,
    deletions: 7,
    changedFiles: 4,
  });
  github.addReview("acme/api", 12, { reviewer: "bob", state: "CHANGES_REQUESTED" });
  github.addReview("acme/api", 12, { reviewer: "carol", state: "COMMENTED" });
  github.addReview("acme/api", 12, { reviewer: "erin", state: "APPROVED" });
  // A later comment does not undo erin's approval; an unsubmitted draft review is nobody's business.
  github.addReview("acme/api", 12, { reviewer: "erin", state: "COMMENTED" });
  github.addReview("acme/api", 12, { reviewer: "frank", state: "PENDING" });
  github.addCheckRun("acme/api", pull.head.sha, { name: "build", conclusion: "success" });
  github.addCheckRun("acme/api", pull.head.sha, { name: "lint", conclusion: "failure" });
  github.addCheckRun("acme/api", pull.head.sha, { name: "e2e", status: "in_progress" });
  github.addStatus("acme/api", pull.head.sha, { context: "ci/jenkins", state: "success" });
  // Another commit's checks are not this PR's.
  github.addCheckRun("acme/api", "b".repeat(40), { name: "build", conclusion: "failure" });
  return pull;
}

describe("/github pr", () => {
  it("shows a public card with the state, checks (runs and statuses) and each reviewer's latest review", async () => {
    seedBusyPullRequest();

    const answer = await pr({ repo: "acme/api", number: 12 });

    expect(answer.ephemeral).toBe(false);
    expect(answer.data.allowed_mentions).toEqual({ parse: [] });
    const card = embedOf(answer);
    expect(card.title).toBe("#12 Fix the flux capacitor");
    expect(card.description).toContain("**ada** wants to merge `fix-flux` into `main`");
    expect(card.footer?.text).toBe("GitHub · acme/api");
    expect(field(card, "State")).toBe("🟢 Open");
    expect(field(card, "Checks")).toBe("❌ 1 failed · ⏳ 1 pending · ✅ 2 passed\nFailed: lint");
    expect(field(card, "Changes")).toBe("+120 −7 in 4 files");
    expect(field(card, "Reviews")).toBe(
      [
        "🟠 **bob** requested changes",
        "💬 **carol** commented",
        "✅ **erin** approved",
        "⏳ Waiting on **dave**, **@acme/platform**",
      ].join("\n"),
    );
    expect(field(card, "Labels")).toBe("bug, needs \\*review\\*");
  });

  it("authenticates with GITHUB_TOKEN as `token <value>`", async () => {
    seedBusyPullRequest();
    await pr({ repo: "acme/api", number: 12 });
    expect(github.requests.length).toBeGreaterThan(0);
    for (const request of github.requests) expect(request.authorization).toBe(`token ${github.token}`);
  });

  it("finds the repository whatever the case it is typed in, and shows merged and draft states", async () => {
    github.addPullRequest("acme/api", { number: 3, title: "Merged one", state: "closed", merged: true });
    github.addPullRequest("acme/api", { number: 4, title: "Draft one", draft: true });

    const merged = embedOf(await pr({ repo: "ACME/Api", number: 3 }));
    expect(field(merged, "State")).toBe("🟣 Merged");
    expect(field(merged, "Checks")).toBe("No checks");
    expect(field(merged, "Reviews")).toBe("No reviews yet");
    expect(field(embedOf(await pr({ repo: "acme/api", number: 4 })), "State")).toBe("📝 Draft");
  });

  it("reads every page of reviews: an approval on the second page still counts", async () => {
    github.addPullRequest("acme/api", { number: 7, title: "Popular" });
    for (let i = 0; i < 100; i++)
      github.addReview("acme/api", 7, { reviewer: `fan-${i}`, state: "COMMENTED" });
    github.addReview("acme/api", 7, { reviewer: "lead", state: "APPROVED" });

    const card = embedOf(await pr({ repo: "acme/api", number: 7 }));

    expect(card.color).toBe(COLORS.success);
    expect(github.requests.some((request) => /\/pulls\/7\/reviews\?.*page=2/.test(request.url))).toBe(true);
  });

  it("says the repository was not found, ephemerally, for an unknown repository", async () => {
    const answer = await pr({ repo: "acme/nope", number: 1 });
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe(
      "Repository acme/nope was not found, or the configured GitHub token cannot see it.",
    );
  });

  it("says the repository has no such pull request for an unknown number", async () => {
    github.addRepo("acme/api");
    const answer = await pr({ repo: "acme/api", number: 999 });
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain("acme/api has no pull request #999");
  });

  it("refuses a malformed repository without asking GitHub, echoing the input harmlessly", async () => {
    const answer = await pr({ repo: "not a repo <@123456789012345678>", number: 1 });
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe(
      "`not a repo <@123456789012345678>` is not a repository: give it as owner/name, e.g. acme/api.",
    );
    expect(answer.data.allowed_mentions).toEqual({ parse: [] });
    expect(github.requests).toEqual([]);
  });

  it("names GITHUB_TOKEN, ephemerally, when GitHub refuses the token (401), and logs it for the operator", async () => {
    seedBusyPullRequest();
    github.fail({ kind: "unauthorized" });

    const answer = await pr({ repo: "acme/api", number: 12 });

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe(
      "GitHub refused the credentials in GITHUB_TOKEN (401 Bad credentials): the operator should set a valid, unexpired token.",
    );
    expect(bot.logs.some((line) => line.includes("GitHub refused the configured credentials"))).toBe(true);
  });

  it("asks to retry later when GitHub's rate limit is used up (403, x-ratelimit-remaining 0)", async () => {
    seedBusyPullRequest();
    github.fail({ kind: "rate-limit", resetInSeconds: 600 });

    const answer = await pr({ repo: "acme/api", number: 12 });

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(
      /^GitHub is rate limiting Switchboard right now: try again in about (9|10) min\.$/,
    );
  });

  it("asks to retry after GitHub's retry-after on a 429 or a secondary rate limit", async () => {
    seedBusyPullRequest();
    github.fail({ kind: "secondary-rate-limit", retryAfterSeconds: 30 });
    expect((await pr({ repo: "acme/api", number: 12 })).content).toBe(
      "GitHub is rate limiting Switchboard right now: try again in 30 s.",
    );
    github.fail({ kind: "rate-limit", status: 429, resetInSeconds: 45 });
    expect((await pr({ repo: "acme/api", number: 12 })).content).toMatch(/try again in (4[4-6]) s\.$/);
  });

  it("tells the member which variable the operator must set when no GitHub API is configured", async () => {
    const answer = await bot.invoke(
      chatInput("github", { ...member, subcommand: "pr", options: { repo: "acme/api", number: 1 } }),
      { github: undefined },
    );
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe(
      "The GitHub API is not configured on this Switchboard: the operator needs to set GITHUB_TOKEN.",
    );
  });

  it("suggests the repositories named in the config file's routes", async () => {
    const answer = await bot.invoke(
      autocomplete("github", { ...member, subcommand: "pr", options: { repo: "we" }, focused: "repo" }),
    );
    expect(answer.data.choices).toEqual([{ name: "acme/web", value: "acme/web" }]);
  });
});

describe("/github prs", () => {
  function seedQueue() {
    const at = (day: number) => new Date(Date.UTC(2025, 2, day)).toISOString();
    github.addPullRequest("acme/api", { number: 1, title: "Newest open", author: "ada", createdAt: at(20) });
    github.addPullRequest("acme/api", {
      number: 2,
      title: "A draft",
      author: "ada",
      createdAt: at(2),
      draft: true,
    });
    github.addPullRequest("acme/api", { number: 3, title: "Approved", author: "bob", createdAt: at(3) });
    github.addReview("acme/api", 3, { reviewer: "carol", state: "APPROVED" });
    github.addPullRequest("acme/api", { number: 4, title: "Changes asked", author: "bob", createdAt: at(4) });
    github.addReview("acme/api", 4, { reviewer: "carol", state: "CHANGES_REQUESTED" });
    github.addPullRequest("acme/api", {
      number: 5,
      title: "Closed",
      author: "ada",
      createdAt: at(5),
      state: "closed",
    });
    github.addPullRequest("acme/api", {
      number: 6,
      title: "Oldest <@123456789012345678> @everyone [click](https://evil.example)",
      author: "ada",
      createdAt: at(1),
    });
    github.addPullRequest("acme/web", { number: 9, title: "Web work", author: "ada", createdAt: at(10) });
  }

  it("lists a repository's open, non-draft, unapproved pull requests, oldest first, publicly", async () => {
    seedQueue();

    const answer = await prs({ repo: "acme/api" });

    expect(answer.ephemeral).toBe(false);
    expect(answer.data.allowed_mentions).toEqual({ parse: [] });
    const list = embedOf(answer);
    expect(list.title).toBe("Awaiting review in acme/api");
    const lines = list.description!.split("\n");
    expect(lines.map((line) => /\[#(\d+)\]/.exec(line)?.[1])).toEqual(["6", "4", "1"]);
    expect(lines[0]).toMatch(
      /^1\. \[#6\]\(https:\/\/github\.com\/acme\/api\/pull\/6\) Oldest \\<@123456789012345678\\> @everyone \\\[click\\\]\\\(https:\/\/evil\.example\\\) by \*\*ada\*\*, opened <t:\d+:R>$/,
    );
    expect(list.footer?.text).toBe("Open, not draft, not yet approved · oldest first");
    const search = github.requests.find((request) => request.url.startsWith("/search/issues"));
    expect(new URL(search!.url, github.url).searchParams.get("q")).toBe(
      "is:pr is:open draft:false -review:approved repo:acme/api",
    );
  });

  it("lists one author's pull requests across repositories", async () => {
    seedQueue();
    const list = embedOf(await prs({ author: "@ada" }));
    expect(list.title).toBe("Awaiting review by ada");
    expect(list.description!.split("\n").map((line) => /\[([^\]]+)\]/.exec(line)?.[1])).toEqual([
      "acme/api#6",
      "acme/web#9",
      "acme/api#1",
    ]);
  });

  it("narrows to a repository and an author together", async () => {
    seedQueue();
    const list = embedOf(await prs({ repo: "acme/api", author: "bob" }));
    expect(list.title).toBe("Awaiting review in acme/api by bob");
    expect(list.description).toContain("[#4]");
    expect(list.description).not.toContain("[#1]");
  });

  it("says so when nothing is waiting", async () => {
    github.addRepo("acme/quiet");
    const answer = await prs({ repo: "acme/quiet" });
    expect(answer.content).toBe("No open pull requests are awaiting review in acme/quiet.");
  });

  it("asks for a repository or an author when given neither, without asking GitHub", async () => {
    const answer = await prs();
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain("Name a repository");
    expect(github.requests).toEqual([]);
  });

  it("says an unknown repository was not found, and refuses a malformed author", async () => {
    expect((await prs({ repo: "acme/nope" })).content).toBe(
      "Repository acme/nope was not found, or the configured GitHub token cannot see it.",
    );
    const malformed = await prs({ author: "not a login" });
    expect(malformed.ephemeral).toBe(true);
    expect(malformed.content).toContain("is not a GitHub login");
  });

  it("says an unknown author cannot be searched", async () => {
    github.addRepo("acme/api");
    const answer = await prs({ author: "nobody-here" });
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe(
      "GitHub cannot search nobody-here: it does not exist or GITHUB_TOKEN cannot see it.",
    );
  });

  it("names GITHUB_TOKEN on a 401 and asks to retry later when rate limited", async () => {
    seedQueue();
    github.fail({ kind: "unauthorized" });
    expect((await prs({ repo: "acme/api" })).content).toContain("GITHUB_TOKEN (401 Bad credentials)");
    github.fail({ kind: "secondary-rate-limit", retryAfterSeconds: 60 });
    expect((await prs({ repo: "acme/api" })).content).toBe(
      "GitHub is rate limiting Switchboard right now: try again in 60 s.",
    );
  });
});

describe("access", () => {
  it("lets any member view: /github needs no capability, even with roles mapped for others", async () => {
    seedBusyPullRequest();
    const gated = createCommandInvoker({
      discord,
      db: store.db,
      config: `discord:\n  roles:\n    admin: ["300000000000000001"]\n`,
      services: { github: createGitHubApi({ GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url }) },
    });
    const answer = await gated.invoke(
      chatInput("github", { ...member, subcommand: "pr", options: { repo: "acme/api", number: 12 } }),
    );
    expect(embedOf(answer).title).toBe("#12 Fix the flux capacitor");
  });
});

describe("through the real bot", () => {
  it("answers /github pr and /link over the fake gateway with GITHUB_TOKEN and GITHUB_API_URL from the environment", async () => {
    seedBusyPullRequest();
    github.addUser("octocat");
    const switchboard = await startTestSwitchboard({
      env: {
        DISCORD_TOKEN: TEST_DISCORD_TOKEN,
        DISCORD_API_URL: discord.url,
        GITHUB_TOKEN: github.token,
        GITHUB_API_URL: github.url,
      },
      role: "bot",
    });
    try {
      await switchboard.waitFor(() => switchboard.gateway?.state().status === "ready");
      const driver = createBotDriver(discord);

      const card = await driver.command("github", {
        ...member,
        subcommand: "pr",
        options: { repo: "acme/api", number: 12 },
      });
      expect(embedOf(card).title).toBe("#12 Fix the flux capacitor");

      const linked = await driver.command("link", { ...member, options: { github: "OCTOCAT" } });
      expect(linked.ephemeral).toBe(true);
      expect(linked.content).toContain("• GitHub: **octocat**");
    } finally {
      await switchboard.close();
    }
  });
});
