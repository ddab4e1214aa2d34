/**
 * The stale-prs job against the fake GitHub and the fake Discord: which pull requests it reminds about,
 * whom it pings, and that it reminds once per period.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addBusinessDays } from "../../src/jobs/stale-prs.js";
import { saveIdentityLink } from "../../src/store/identity-repository.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { startFakeGitHub } from "../fakes/github-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";
import { TEST_DISCORD_TOKEN, startTestSwitchboard } from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const CHANNEL = "300000000000000040";
const REVIEWER_DISCORD_ID = "200000000000000077";
const DAY = 24 * 60 * 60 * 1000;

let discord: FakeDiscord;
let github: FakeGitHub;
let switchboard: TestSwitchboard;

describe("stale-prs", () => {
  beforeEach(async () => {
    discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
    github = await startFakeGitHub();
    const old = new Date(Date.now() - 10 * DAY).toISOString();
    github.addPullRequest("acme/api", {
      number: 1,
      title: "Forgotten fix",
      author: "grace",
      updatedAt: old,
      requestedReviewers: ["linus"],
    });
    github.addPullRequest("acme/api", {
      number: 2,
      title: "Draft",
      author: "grace",
      updatedAt: old,
      draft: true,
    });
    github.addPullRequest("acme/api", {
      number: 3,
      title: "WIP",
      author: "grace",
      updatedAt: old,
      labels: ["WIP"],
    });
    github.addUser("dependabot[bot]", { type: "Bot" });
    github.addPullRequest("acme/api", {
      number: 4,
      title: "Bump lodash",
      author: "dependabot[bot]",
      updatedAt: old,
    });
    github.addPullRequest("acme/api", {
      number: 5,
      title: "Fresh",
      author: "grace",
      updatedAt: new Date().toISOString(),
    });
    switchboard = await startTestSwitchboard({
      env: {
        DISCORD_TOKEN: TEST_DISCORD_TOKEN,
        DISCORD_API_URL: discord.url,
        GITHUB_TOKEN: github.token,
        GITHUB_API_URL: github.url,
      },
      config: `jobs:\n  - name: stale-prs\n    channel: "${CHANNEL}"\n    options:\n      repos: ["acme/api"]\n`,
    });
    // Closing the fake while the bot is still logging in would reset its connection mid-handshake.
    await discord.gateway.waitForSession();
    await saveIdentityLink(switchboard.store.db, {
      discordUserId: REVIEWER_DISCORD_ID,
      githubLogin: "Linus",
      at: Date.now(),
    });
  });

  afterEach(async () => {
    await switchboard.close();
    await github.close();
    await discord.close();
  });

  it("reports in a dry run which pull requests it would remind about, and posts and records nothing", async () => {
    const report = await switchboard.scheduler!.run("stale-prs", { dryRun: true });

    expect(report).toMatchObject({
      outcome: "ok",
      items: 1,
      summary: "Would remind about 1 pull request: acme/api#1.",
    });
    expect(await switchboard.store.db.selectFrom("outbox").selectAll().execute()).toEqual([]);
    expect(await switchboard.store.db.selectFrom("pr_reminders").selectAll().execute()).toEqual([]);
  });

  it("posts one reminder per stale pull request, pinging only linked requested reviewers, once per period", async () => {
    const report = await switchboard.scheduler!.run("stale-prs");
    expect(report).toMatchObject({ outcome: "ok", items: 1 });
    await switchboard.waitFor(() => discord.messages.some((message) => message.channelId === CHANNEL));

    const [reminder, ...others] = discord.messages.filter((message) => message.channelId === CHANNEL);
    expect(others).toEqual([]);
    expect(reminder!.content).toBe(
      `<@${REVIEWER_DISCORD_ID}> ⏰ **acme/api#1** [Forgotten fix](<https://github.com/acme/api/pull/1>) by \`grace\` has had no activity for 2 business days. Waiting on \`linus\`.`,
    );
    expect(reminder!.allowed_mentions).toEqual({ parse: [], users: [REVIEWER_DISCORD_ID] });

    const again = await switchboard.scheduler!.run("stale-prs");
    expect(again).toMatchObject({
      outcome: "ok",
      items: 0,
      summary: "No stale pull requests to remind about in acme/api (1 already reminded this period).",
    });

    // A period (2 business days, so at least 4 calendar days back is always past) later, it is reminded again.
    await switchboard.store.db
      .updateTable("pr_reminders")
      .set({ reminded_at: Date.now() - 4 * DAY })
      .execute();
    const later = await switchboard.scheduler!.run("stale-prs");
    expect(later).toMatchObject({ outcome: "ok", items: 1 });
    await switchboard.waitFor(
      () => discord.messages.filter((message) => message.channelId === CHANNEL).length === 2,
    );
  });
});

describe("business days", () => {
  it("skips weekends", () => {
    const friday = Date.parse("2025-03-07T12:00:00Z");
    expect(new Date(addBusinessDays(friday, 2, "UTC")).toISOString()).toBe("2025-03-11T12:00:00.000Z");
    expect(new Date(addBusinessDays(friday, 1, "UTC")).toISOString()).toBe("2025-03-10T12:00:00.000Z");
  });
});
