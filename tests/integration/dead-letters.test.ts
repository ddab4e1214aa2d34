/**
 * Dead letters, as an operator meets them: a message Discord will not take ends in the dead state, /readyz
 * says which one and why, /metrics counts it, and `switchboard outbox retry` (the real CLI, run against the
 * same database while the instance runs) sends it again, exactly once.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { ensureBuilt, runCli } from "../support/child-switchboard.js";
import {
  TEST_DISCORD_TOKEN,
  TEST_GITHUB_SECRET,
  startTestSwitchboard,
} from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const CHANNEL = "555555555555555555";
const FORBIDDEN = "666666666666666666";

interface OutboxReadiness {
  sink: string;
  pending: number;
  dead: number;
  latestDead?: Array<{ id: number; channel: string; error: string }>;
  fix?: string;
}

let discord: FakeDiscord;
let switchboard: TestSwitchboard;

beforeAll(ensureBuilt, 120_000);

afterEach(async () => {
  await switchboard?.close();
  await discord?.close();
});

async function start(options: { config: string; env?: Record<string, string>; forbidden?: string[] }) {
  discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN, forbiddenChannels: options.forbidden ?? [] });
  switchboard = await startTestSwitchboard({
    env: { DISCORD_TOKEN: TEST_DISCORD_TOKEN, DISCORD_API_URL: discord.url, ...options.env },
    config: options.config,
  });
}

async function sendComment(body: string): Promise<void> {
  const { event, payload } = loadGitHubFixture("issue_comment.created");
  const edited = structuredClone(payload) as { comment: { body: string } };
  edited.comment.body = body;
  const response = await switchboard.post(
    await signGitHubDelivery({ secret: TEST_GITHUB_SECRET, event, payload: edited }),
  );
  expect(response.status).toBe(202);
}

async function readiness(): Promise<{ status: number; outbox: OutboxReadiness }> {
  const response = await fetch(`${switchboard.url}/readyz`);
  const body = (await response.json()) as { checks: Array<{ name: string; detail: unknown }> };
  const outbox = body.checks.find((check) => check.name === "outbox")!.detail as OutboxReadiness;
  return { status: response.status, outbox };
}

async function deadGauge(): Promise<number> {
  const text = await (await fetch(`${switchboard.url}/metrics`)).text();
  const match = /^switchboard_outbox_messages\{status="dead"\} (\d+)$/m.exec(text);
  expect(match, "the dead-letter gauge in /metrics").not.toBeNull();
  return Number(match![1]);
}

function messageRequests(channel: string) {
  return discord.requests.filter(
    (request) => request.method === "POST" && request.path.endsWith(`/channels/${channel}/messages`),
  );
}

const route = (name: string, channel: string) =>
  `  - { name: ${name}, source: github, channel: "${channel}", threads: none }\n`;

describe("dead letters", () => {
  it("dead-letters at once what Discord refuses with 403 Missing Access, names it in /readyz and /metrics, and keeps the other channels posting", async () => {
    await start({
      config: `routes:\n${route("team", CHANNEL)}${route("locked", FORBIDDEN)}`,
      forbidden: [FORBIDDEN],
    });
    await sendComment("delivery 1");
    await switchboard.waitFor(
      async () => (await readiness()).outbox.dead === 1 && discord.messages.length === 1,
    );

    // A permanent refusal is not retried: one request, one 403.
    expect(messageRequests(FORBIDDEN).map((request) => request.status)).toEqual([403]);
    expect(discord.messages.map((message) => [message.channelId, message.embeds[0]?.description])).toEqual([
      [CHANNEL, "delivery 1"],
    ]);

    const { status, outbox } = await readiness();
    expect(status).toBe(200);
    expect(outbox).toMatchObject({ sink: "discord-bot", pending: 0, dead: 1 });
    expect(outbox.latestDead).toHaveLength(1);
    expect(outbox.latestDead![0]!.channel).toBe(FORBIDDEN);
    expect(outbox.latestDead![0]!.error).toContain(`403 Missing Access (50001) for channel ${FORBIDDEN}`);
    expect(outbox.latestDead![0]!.error).toContain("give the bot View Channel and Send Messages there");
    expect(outbox.fix).toContain("switchboard outbox retry");
    expect(await deadGauge()).toBe(1);

    // Retrying by id while the bot still lacks access: one more 403, dead again, and no second copy elsewhere.
    const retry = await runCli(["outbox", "retry", String(outbox.latestDead![0]!.id)], {
      DATABASE_URL: `sqlite:${switchboard.databasePath}`,
    });
    expect(retry.stdout).toContain("1 dead-lettered message(s) queued again");
    expect(retry.code).toBe(0);
    await switchboard.waitFor(() => messageRequests(FORBIDDEN).length === 2);
    await switchboard.waitFor(async () => (await readiness()).outbox.dead === 1);
    expect(messageRequests(FORBIDDEN).map((request) => request.status)).toEqual([403, 403]);
    expect(discord.messages).toHaveLength(1);
  });

  it("dead-letters a message after OUTBOX_MAX_ATTEMPTS failures, and `switchboard outbox retry` sends it exactly once once Discord recovers", async () => {
    await start({
      config: `routes:\n${route("team", CHANNEL)}`,
      env: { OUTBOX_MAX_ATTEMPTS: "3" },
    });
    discord.setFaults((request) => (request.method === "POST" ? { kind: "500" } : undefined));
    await sendComment("delivery 1");
    await switchboard.waitFor(async () => (await readiness()).outbox.dead === 1);

    expect(messageRequests(CHANNEL).map((request) => request.status)).toEqual([500, 500, 500]);
    const { status, outbox } = await readiness();
    expect(status).toBe(200);
    expect(outbox).toMatchObject({ pending: 0, dead: 1 });
    expect(outbox.latestDead![0]!.error).toContain(
      `Discord answered 500 Internal Server Error for channel ${CHANNEL}`,
    );
    expect(await deadGauge()).toBe(1);
    expect(discord.messages).toHaveLength(0);

    // Discord recovers; nothing is resent until the operator asks.
    discord.clearFaults();
    const retry = await runCli(["outbox", "retry"], { DATABASE_URL: `sqlite:${switchboard.databasePath}` });
    expect(retry).toMatchObject({ code: 0, stderr: "" });
    expect(retry.stdout).toContain("1 dead-lettered message(s) queued again");

    await switchboard.waitFor(
      async () => discord.messages.length === 1 && (await readiness()).outbox.pending === 0,
    );
    expect(discord.messages.map((message) => [message.channelId, message.embeds[0]?.description])).toEqual([
      [CHANNEL, "delivery 1"],
    ]);
    expect(messageRequests(CHANNEL).map((request) => request.status)).toEqual([500, 500, 500, 200]);
    const after = await readiness();
    expect(after.outbox).toMatchObject({ pending: 0, dead: 0 });
    expect(after.outbox.latestDead).toBeUndefined();
    expect(await deadGauge()).toBe(0);
  });
});
