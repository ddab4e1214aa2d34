/**
 * The digest job against the fake Linear, GitHub and Discord: what a team reads on a weekday morning, and
 * silence on a quiet day. The splitting of long digests into messages is tested on the pure renderer.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderDigest } from "../../src/jobs/digest.js";
import { insertDeployment } from "../../src/store/deployment-repository.js";
import { insertRelease } from "../../src/store/release-repository.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { startFakeGitHub } from "../fakes/github-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";
import { startFakeLinear } from "../fakes/linear-server.js";
import type { FakeLinear } from "../fakes/linear-server.js";
import { TEST_DISCORD_TOKEN, startTestSwitchboard } from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";
import { newDeployment } from "../support/deployment-rows.js";

const CHANNEL = "300000000000000060";
const FEEDBACK_CHANNEL = "300000000000000061";
const DAY = 24 * 60 * 60 * 1000;

let discord: FakeDiscord;
let github: FakeGitHub;
let linear: FakeLinear;
let switchboard: TestSwitchboard;

const digestMessages = () => discord.messages.filter((message) => message.channelId === CHANNEL);

async function seedActivity(): Promise<void> {
  linear.addIssue({ teamKey: "ENG", title: "Login fails on Safari", stateType: "completed" }); // ENG-1
  linear.addIssue({
    teamKey: "ENG",
    title: "Faster search",
    stateType: "started",
    assigneeEmail: "ada@example.com",
  }); // ENG-2
  linear.addIssue({ teamKey: "ENG", title: "Waiting on vendor", labels: ["Blocked"] }); // ENG-3
  linear.addIssue({ teamKey: "DES", title: "Not started", stateType: "backlog" }); // DES-1

  const now = new Date().toISOString();
  const threeDaysAgo = new Date(Date.now() - 3 * DAY).toISOString();
  github.addRepo("acme/api");
  github.addPullRequest("acme/api", {
    number: 10,
    title: "Fix login",
    author: "grace",
    state: "closed",
    merged: true,
    updatedAt: now,
  });
  github.addPullRequest("acme/api", {
    number: 11,
    title: "Add search index",
    author: "grace",
    createdAt: threeDaysAgo,
    updatedAt: threeDaysAgo,
    requestedReviewers: ["linus"],
  });
  github.addPullRequest("acme/api", {
    number: 12,
    title: "Just opened",
    createdAt: now,
    updatedAt: now,
    requestedReviewers: ["linus"],
  });
  github.addWorkflowRun("acme/api", {
    name: "CI",
    headBranch: "main",
    status: "completed",
    conclusion: "failure",
    createdAt: now,
  });
  github.addWorkflowRun("acme/api", {
    name: "CI",
    headBranch: "feature",
    status: "completed",
    conclusion: "failure",
    createdAt: now,
  });

  const db = switchboard.store.db;
  await db
    .insertInto("feedback_captures")
    .values({
      message_id: "500000000000000001",
      channel_id: FEEDBACK_CHANNEL,
      guild_id: null,
      issue_id: "feedback-issue",
      issue_identifier: "ENG-42",
      issue_url: "https://linear.app/acme/issue/ENG-42/crash",
      status: "created",
      created_by: "200000000000000001",
      created_at: Date.now(),
    })
    .execute();
  await insertRelease(db, {
    release_name: "acme/api",
    repo: "acme/api",
    version: "1.4.0",
    tag: "v1.4.0",
    target_sha: "a".repeat(40),
    prerelease: 0,
    notes: "",
    url: "https://github.com/acme/api/releases/tag/v1.4.0",
    linear_keys: "[]",
    created_by: null,
    created_by_name: null,
    created_at: Date.now(),
  });
  const at = Date.now();
  await insertDeployment(
    db,
    newDeployment({
      ref: "v1.4.0",
      version: "v1.4.0",
      github_deployment_id: "1",
      announced_state: "success",
      requested_by: "200000000000000001",
      requested_by_name: "Ada",
      created_at: at,
      updated_at: at,
      started_at: at,
      finished_at: at,
    }),
  );
}

describe("digest", () => {
  beforeEach(async () => {
    discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
    github = await startFakeGitHub();
    linear = await startFakeLinear();
    await startSwitchboard(
      `jobs:\n  - name: digest\n    channel: "${CHANNEL}"\n    options:\n      repos: ["acme/api"]\n`,
    );
  });

  /** (Re)start Switchboard with this config file, against the fakes. */
  async function startSwitchboard(config: string): Promise<void> {
    await switchboard?.close();
    switchboard = await startTestSwitchboard({
      env: {
        DISCORD_TOKEN: TEST_DISCORD_TOKEN,
        DISCORD_API_URL: discord.url,
        GITHUB_TOKEN: github.token,
        GITHUB_API_URL: github.url,
        LINEAR_API_KEY: linear.apiKey,
        LINEAR_API_URL: linear.url,
      },
      config,
    });
    await discord.gateway.waitForSession();
  }

  afterEach(async () => {
    await switchboard.close();
    await linear.close();
    await github.close();
    await discord.close();
  });

  it("reports in a dry run what the digest would hold, and posts nothing", async () => {
    await seedActivity();

    const report = await switchboard.scheduler!.run("digest", { dryRun: true });

    expect(report).toMatchObject({ outcome: "ok", items: 9 });
    expect(report.summary).toBe(
      "Would post a digest in 1 message (1 completed, 1 in progress, 1 blocked, 1 new feedback from chat, " +
        "1 pull requests merged, 1 waiting for review over 24 h, 1 failed workflow runs on default branches, " +
        "1 deployments, 1 releases).",
    );
    expect(await switchboard.store.db.selectFrom("outbox").selectAll().execute()).toEqual([]);
  });

  it("posts one readable message with every section, pinging no one", async () => {
    await seedActivity();

    const report = await switchboard.scheduler!.run("digest");
    expect(report).toMatchObject({ outcome: "ok", items: 9 });
    await switchboard.waitFor(() => digestMessages().length > 0);

    const [message, ...others] = digestMessages();
    expect(others).toEqual([]);
    expect(message!.allowed_mentions).toEqual({ parse: [] });
    const text = message!.content;
    expect(text).toMatch(/^\*\*📰 Digest\*\* since <t:\d+:f>/);
    expect(text).toContain("**✅ Completed** (1)\n• [ENG-1](<https://linear.app/acme/issue/ENG-1/");
    expect(text).toContain("Faster search · ada");
    expect(text).toContain("**⛔ Blocked** (1)\n• [ENG-3]");
    expect(text).toContain(
      "[ENG-42](<https://linear.app/acme/issue/ENG-42/crash>) filed from <#300000000000000061>",
    );
    expect(text).toContain("[acme/api#10](<https://github.com/acme/api/pull/10>) Fix login · grace");
    expect(text).toContain("[acme/api#11](<https://github.com/acme/api/pull/11>) Add search index");
    expect(text).not.toContain("acme/api#12");
    expect(text).toContain("acme/api CI](<");
    expect(text).not.toContain("on `feature`");
    expect(text).toContain("`v1.4.0` → **production** (acme/api) · success by Ada");
    expect(text).toContain("[acme/api v1.4.0](<https://github.com/acme/api/releases/tag/v1.4.0>)");
    expect(text).not.toContain("DES-1");
  });

  it("posts nothing when nothing happened since the last digest, unless asked to", async () => {
    linear.addIssue({ teamKey: "ENG", title: "Still going", stateType: "started" });
    github.addRepo("acme/api");
    const quiet = await switchboard.scheduler!.run("digest");
    expect(quiet.outcome).toBe("ok");
    expect(quiet.summary).toMatch(/^Nothing to report since .*; posted nothing\.$/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(digestMessages()).toEqual([]);

    await startSwitchboard(
      `jobs:\n  - name: digest\n    channel: "${CHANNEL}"\n    options:\n      post_when_empty: true\n`,
    );
    const told = await switchboard.scheduler!.run("digest");
    expect(told.summary).toMatch(/^Posted a digest in 1 message \(1 in progress\)/);
    await switchboard.waitFor(() => digestMessages().length > 0);
    expect(digestMessages()[0]!.content).toContain("**🚧 In progress** (1)");
  });

  it("lists as completed only what was completed in the period, not old work updated since", async () => {
    const old = linear.addIssue({ teamKey: "ENG", title: "Finished last month", stateType: "completed" });
    old.completedAt = new Date(Date.now() - 30 * DAY).toISOString();
    linear.updateIssue(old.identifier, { title: "Finished last month (renamed today)" });
    linear.addIssue({ teamKey: "ENG", title: "Finished today", stateType: "completed" });
    github.addRepo("acme/api");

    const report = await switchboard.scheduler!.run("digest", { dryRun: true });

    expect(report.summary).toMatch(/^Would post a digest in 1 message \(1 completed\)/);
  });

  it("posts each configured channel its own repositories and teams, one digest each", async () => {
    const WEB_CHANNEL = "300000000000000062";
    await startSwitchboard(
      [
        "jobs:",
        "  - name: digest",
        "    options:",
        "      channels:",
        `        - { channel: "${CHANNEL}", repos: ["acme/api"], teams: ["ENG"] }`,
        `        - { channel: "${WEB_CHANNEL}", repos: ["acme/web"], teams: ["DES"] }`,
        "",
      ].join("\n"),
    );
    linear.addIssue({ teamKey: "ENG", title: "API work done", stateType: "completed" });
    linear.addIssue({ teamKey: "DES", title: "Design work done", stateType: "completed" });
    for (const [repo, number] of [
      ["acme/api", 10],
      ["acme/web", 20],
    ] as const) {
      github.addRepo(repo);
      github.addPullRequest(repo, {
        number,
        title: `Merged in ${repo}`,
        state: "closed",
        merged: true,
        updatedAt: new Date().toISOString(),
      });
    }

    const report = await switchboard.scheduler!.run("digest");
    expect(report.summary).toBe(
      `<#${CHANNEL}>: posted a digest in 1 message (1 completed, 1 pull requests merged); ` +
        `<#${WEB_CHANNEL}>: posted a digest in 1 message (1 completed, 1 pull requests merged).`,
    );
    const webMessages = () => discord.messages.filter((message) => message.channelId === WEB_CHANNEL);
    await switchboard.waitFor(() => digestMessages().length > 0 && webMessages().length > 0);
    const [api] = digestMessages();
    const [web, ...more] = webMessages();
    expect([digestMessages().length, more.length]).toEqual([1, 0]);
    expect(api!.content).toContain("API work done");
    expect(api!.content).toContain("acme/api#10");
    expect(api!.content).not.toMatch(/Design work done|acme\/web/);
    expect(web!.content).toContain("Design work done");
    expect(web!.content).toContain("acme/web#20");
    expect(web!.content).not.toMatch(/API work done|acme\/api/);
  });
});

describe("splitting a long digest", () => {
  it("keeps sections whole where they fit, continues a long one, and never exceeds 2,000 characters", () => {
    const line = (n: number) => `[ENG-${n}](<https://linear.app/acme/issue/ENG-${n}>) ${"x".repeat(80)}`;
    const messages = renderDigest(
      "**📰 Digest**",
      [
        { title: "✅ Completed", lines: Array.from({ length: 10 }, (_, n) => line(n)) },
        { title: "🚧 In progress", lines: Array.from({ length: 60 }, (_, n) => line(100 + n)) },
        { title: "🏷️ Releases", lines: ["acme/api `v1.0.0`"] },
      ],
      60,
    );
    const contents = messages.map((message) => message.content!);
    expect(contents.every((content) => content.length <= 2000)).toBe(true);
    expect(contents[0]).toMatch(/^\*\*📰 Digest\*\*\n\n\*\*✅ Completed\*\* \(10\)\n/);
    // A section longer than a message starts where there is room and goes on in the next messages.
    expect(contents[0]).toContain("\n\n**🚧 In progress** (60)\n• ");
    expect(contents[1]).toMatch(/^\*\*🚧 In progress\*\* \(60\) \(continued\)\n• /);
    expect(contents.at(-1)).toContain("**🏷️ Releases** (1)\n• acme/api `v1.0.0`");
    // Every line shows up exactly once.
    const all = contents.join("\n");
    for (const n of [0, 9, 100, 159]) expect(all.split(`[ENG-${n}]`).length - 1).toBe(1);
    expect(messages.every((message) => message.allowed_mentions.parse.length === 0)).toBe(true);
  });

  it("shows at most the configured lines per section and counts the rest", () => {
    const [message] = renderDigest(
      "**📰 Digest**",
      [{ title: "✅ Completed", lines: ["a", "b", "c", "d"] }],
      2,
    );
    expect(message!.content).toBe("**📰 Digest**\n\n**✅ Completed** (4)\n• a\n• b\n…and 2 more");
  });
});
