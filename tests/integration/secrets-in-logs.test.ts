/**
 * No secret ever reaches a log line or the console. Every credential is configured with a distinctive value,
 * logging is at trace, and the flows that are most likely to quote one are driven: deliveries from both
 * sources, bad signatures, Discord refusing the bot token (401), a channel (403), failing (500), hanging and
 * resetting; and the channel-webhook sink, whose URL is itself a credential. Then every collected log line,
 * every console-sink line and everything written to this process's stdout, stderr and console is searched
 * for each secret value. (The child-process stdout/stderr is checked in tests/e2e/exactly-once-crash.test.ts.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { loadLinearFixture } from "../../src/sources/linear/fixtures.js";
import { signGitHubDelivery, signLinearDelivery } from "../../src/sources/signed-delivery.js";
import { listPendingDeliveries } from "../../src/store/inbox-repository.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { startFakeGitHub } from "../fakes/github-server.js";
import { ADMINISTRATOR, createBotDriver } from "../support/discord-bot-driver.js";
import { waitUntil } from "../support/wait-until.js";
import { startTestSwitchboard } from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const CHANNEL = "777777777777777777";
const FORBIDDEN = "888888888888888888";
const WEBHOOK = { id: "999999999999999999", token: "webhook-token-S3CR3T-7a1c9e4f0b2d", channelId: CHANNEL };

const SECRETS = {
  DISCORD_TOKEN: "MTE5OTk5OTk5OTk5OTk5OTk5.S3CR3T.bot-token-q8w7e6r5t4",
  GITHUB_WEBHOOK_SECRET: "github-webhook-S3CR3T-4f3e2d1c",
  LINEAR_WEBHOOK_SECRET: "linear-webhook-S3CR3T-9b8a7f6e",
  GITHUB_TOKEN: "ghp_S3CR3TgithubToken0123456789abcdefXYZ",
  LINEAR_API_KEY: "lin_api_S3CR3TlinearKey9876543210zyxwv",
};

let discord: FakeDiscord | undefined;
let switchboard: TestSwitchboard | undefined;
let output: ReturnType<typeof captureProcessOutput>;

beforeEach(() => {
  output = captureProcessOutput();
});

afterEach(async () => {
  output.restore();
  await switchboard?.close();
  switchboard = undefined;
  await discord?.close();
  discord = undefined;
});

/** Everything this process writes to stdout, stderr or the console while a test runs (still passed through). */
function captureProcessOutput() {
  const chunks: string[] = [];
  const tap = (stream: NodeJS.WriteStream) => {
    const original = stream.write;
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
      return (original as (...args: unknown[]) => boolean).apply(this, [chunk, ...rest]);
    } as typeof stream.write;
    return () => {
      stream.write = original;
    };
  };
  const untap = [tap(process.stdout), tap(process.stderr)];
  const spies = (["log", "info", "warn", "error", "debug", "trace"] as const).map((method) =>
    vi.spyOn(console, method),
  );
  return {
    text: () =>
      chunks.join("") +
      spies.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(" "))).join("\n"),
    restore() {
      for (const undo of untap) undo();
      for (const spy of spies) spy.mockRestore();
    },
  };
}

async function start(env: Record<string, string | undefined>, config: string): Promise<TestSwitchboard> {
  switchboard = await startTestSwitchboard({
    env: {
      ...SECRETS,
      LOG_LEVEL: "trace",
      DISCORD_TIMEOUT_MS: "300",
      OUTBOX_MAX_ATTEMPTS: "3",
      ...env,
    },
    config,
  });
  return switchboard;
}

async function sendGitHub(fixture: string, secret = SECRETS.GITHUB_WEBHOOK_SECRET): Promise<number> {
  const { event, payload } = loadGitHubFixture(fixture);
  return (await switchboard!.post(await signGitHubDelivery({ secret, event, payload }))).status;
}

async function sendLinear(fixture: string, secret = SECRETS.LINEAR_WEBHOOK_SECRET): Promise<number> {
  return (
    await switchboard!.post(signLinearDelivery({ secret, payload: loadLinearFixture(fixture).payload }))
  ).status;
}

async function outbox(): Promise<{ pending: number; dead: number }> {
  const body = (await (await fetch(`${switchboard!.url}/readyz`)).json()) as {
    checks: Array<{ name: string; detail?: { pending: number; dead: number } }>;
  };
  return body.checks.find((check) => check.name === "outbox")!.detail!;
}

/**
 * Every accepted delivery processed and every message posted or dead-lettered. The outbox alone is empty
 * too before the inbox worker has queued anything, so waiting on it alone could check the logs too early.
 */
async function settled(): Promise<boolean> {
  const unprocessed = await listPendingDeliveries(switchboard!.store.db, 1);
  return unprocessed.length === 0 && (await outbox()).pending === 0;
}

/** Every secret value in force, and the forms a careless line could quote them in. */
function secretValues(webhookUrl?: string): string[] {
  const values: string[] = [...Object.values(SECRETS), `Bot ${SECRETS.DISCORD_TOKEN}`];
  if (webhookUrl) values.push(webhookUrl, WEBHOOK.token, encodeURIComponent(webhookUrl));
  return values;
}

function expectNoSecretsIn(text: string, secrets: string[]): void {
  expect(text.length).toBeGreaterThan(0);
  for (const secret of secrets) {
    expect(text.includes(secret), `a secret (${secret.slice(0, 6)}...) appears in the output`).toBe(false);
  }
}

const allOutput = () => [...switchboard!.logs, ...switchboard!.consoleLines, output.text()].join("\n");
const logged = (pattern: RegExp) => switchboard!.logs.some((line) => pattern.test(line));

describe("secrets never reach logs or the console", () => {
  it("with the bot sink, through deliveries, bad signatures and Discord's 401, 403, 500, hang and reset answers", async () => {
    discord = await startFakeDiscord({
      token: SECRETS.DISCORD_TOKEN,
      forbiddenChannels: [FORBIDDEN],
      webhook: WEBHOOK,
    });
    await start(
      { DISCORD_API_URL: discord.url, DISCORD_WEBHOOK_URL: discord.webhookUrl },
      "routes:\n" +
        `  - { name: prs, source: github, channel: "${CHANNEL}" }\n` +
        `  - { name: locked, source: github, channel: "${FORBIDDEN}", threads: none }\n` +
        `  - { name: linear, source: linear, channel: "${CHANNEL}" }\n`,
    );
    discord.failEvery(3, ["500", "reset", "hang", "502"]);

    expect(await sendGitHub("pull_request.opened")).toBe(202);
    expect(await sendGitHub("issue_comment.created")).toBe(202);
    expect(await sendLinear("Issue.create")).toBe(202);
    expect(await sendLinear("Comment.create")).toBe(202);
    expect(await sendGitHub("pull_request.closed.merged", "not-the-secret")).toBe(401);
    expect(await sendLinear("Issue.update.state", "not-the-secret")).toBe(401);
    await switchboard!.waitFor(settled, 20_000);
    expect(discord.messages.length).toBeGreaterThan(0);

    // Then Discord stops accepting the token: the next posts fail with 401 and are dead-lettered.
    discord.setFaults(() => ({ kind: "error", status: 401, code: 0, message: "401: Unauthorized" }));
    expect(await sendGitHub("pull_request.closed.merged")).toBe(202);
    expect(await sendLinear("Issue.update.state")).toBe(202);
    await switchboard!.waitFor(settled, 20_000);

    // The flows that could leak really ran and were logged.
    expect(logged(/403 Missing Access/)).toBe(true);
    expect(logged(/Discord answered 50[02]/)).toBe(true);
    expect(logged(/did not answer within 300 ms/)).toBe(true);
    expect(logged(/401 Unauthorized|rejected the bot token/)).toBe(true);
    expect(logged(/"source":"github".*Delivery rejected|Delivery rejected.*"source":"github"/)).toBe(true);
    expect(logged(/"source":"linear".*Delivery rejected|Delivery rejected.*"source":"linear"/)).toBe(true);
    // LOG_LEVEL=trace let the most detailed lines through too.
    expect(logged(/"level":20/)).toBe(true);

    expectNoSecretsIn(allOutput(), secretValues(discord.webhookUrl));
  });

  it("with the channel-webhook sink, whose URL holds a token, through failures and an invalid-token answer", async () => {
    discord = await startFakeDiscord({ token: SECRETS.DISCORD_TOKEN, webhook: WEBHOOK });
    await start(
      { DISCORD_TOKEN: undefined, DISCORD_WEBHOOK_URL: discord.webhookUrl },
      "routes:\n" +
        `  - { name: github, source: github, channel: "${CHANNEL}" }\n` +
        `  - { name: linear, source: linear, channel: "${CHANNEL}" }\n`,
    );
    expect(discord.webhookUrl).toContain(WEBHOOK.token);
    discord.failEvery(2, ["hang", "500", "reset", "502"]);

    expect(await sendGitHub("pull_request.opened")).toBe(202);
    expect(await sendGitHub("issue_comment.created")).toBe(202);
    expect(await sendLinear("Issue.create")).toBe(202);
    expect(await sendLinear("Comment.create")).toBe(202);
    expect(await sendGitHub("issue_comment.created", "not-the-secret")).toBe(401);
    await switchboard!.waitFor(settled, 20_000);
    expect(discord.messages.some((message) => message.webhookId === WEBHOOK.id)).toBe(true);

    discord.setFaults(() => ({ kind: "error", status: 401, code: 50027, message: "Invalid Webhook Token" }));
    expect(await sendGitHub("pull_request.closed.merged")).toBe(202);
    await switchboard!.waitFor(async () => (await outbox()).dead >= 1, 20_000);

    expect(logged(/Invalid Webhook Token/)).toBe(true);
    expect(logged(/did not answer within 300 ms/)).toBe(true);
    expect(logged(/Discord answered 50[02]/)).toBe(true);
    expectNoSecretsIn(allOutput(), secretValues(discord.webhookUrl));
    // The dead letter's reason is shown on /readyz and on the status page, which anyone who reaches it reads.
    const pages = await Promise.all(
      ["/readyz", "/status", "/api/deployments"].map(async (path) => {
        const response = await fetch(`${switchboard!.url}${path}`);
        expect(response.status, path).toBe(200);
        return response.text();
      }),
    );
    expect(pages.join("\n")).toContain("Invalid Webhook Token");
    expectNoSecretsIn(pages.join("\n"), secretValues(discord.webhookUrl));
  });

  it("with the console sink, printing notifications but no credential", async () => {
    await start({ DISCORD_TOKEN: undefined, DISCORD_WEBHOOK_URL: undefined }, "");
    expect(await sendGitHub("pull_request.opened")).toBe(202);
    expect(await sendLinear("Issue.create")).toBe(202);
    expect(await sendLinear("Comment.create", "not-the-secret")).toBe(401);
    await switchboard!.waitFor(() => switchboard!.consoleLines.length >= 2);

    expectNoSecretsIn(allOutput(), secretValues());
  });

  it("across the web, bot and worker roles on one database, through a deploy and a job that GitHub refuses", async () => {
    discord = await startFakeDiscord({ token: SECRETS.DISCORD_TOKEN });
    // GitHub knows another token: every API call with ours is answered 401 Bad credentials.
    const github = await startFakeGitHub({ token: "ghp_theOneGitHubReallyKnows000000000000" });
    const directory = mkdtempSync(join(tmpdir(), "switchboard-secrets-roles-"));
    const databasePath = join(directory, "switchboard.db");
    const env = {
      ...SECRETS,
      LOG_LEVEL: "trace",
      DISCORD_API_URL: discord.url,
      DISCORD_DEFAULT_CHANNEL_ID: CHANNEL,
      GITHUB_API_URL: github.url,
      DISCORD_TIMEOUT_MS: "300",
    };
    const config =
      `routes:\n  - { name: prs, source: github, channel: "${CHANNEL}" }\n` +
      `environments:\n  - { name: staging, repo: acme/api }\n` +
      `jobs:\n  - { name: stale-prs, options: { repos: ["acme/api"] } }\n`;
    const roles: TestSwitchboard[] = [];
    try {
      // The PM2 layout: three processes' worth of Switchboard on one database (in this process, so that
      // everything they print is captured).
      for (const role of ["web", "bot", "worker"] as const) {
        roles.push(await startTestSwitchboard({ env, config, role, databasePath }));
      }
      const [web] = roles;
      switchboard = web;
      await discord.gateway.waitForSession();

      expect(await sendGitHub("pull_request.opened")).toBe(202);
      expect(await sendGitHub("pull_request.opened", "not-the-secret")).toBe(401);
      await waitUntil(() => discord!.messages.length > 0, 10_000);

      // The bot role: a deploy that GitHub refuses (401), and a job run on demand that GitHub refuses too.
      const driver = createBotDriver(discord);
      const admin = {
        user: { id: "500000000000000009", username: "root" },
        roles: [],
        permissions: ADMINISTRATOR,
      };
      const deploy = await driver.command("deploy", {
        ...admin,
        subcommand: "to",
        options: { env: "staging", ref: "v1.0.0" },
      });
      expect(deploy.content).toMatch(/GitHub|token/i);
      const job = await driver.command("jobs", {
        ...admin,
        subcommand: "run",
        options: { name: "stale-prs" },
      });
      expect(job.content.length).toBeGreaterThan(0);

      const everything = [
        ...roles.flatMap((role) => [...role.logs, ...role.consoleLines]),
        output.text(),
      ].join("\n");
      // Each role logged what it did, and the refusals were logged with GitHub's answer.
      const [webLogs, botLogs, workerLogs] = roles.map((role) => role.logs.join("\n"));
      expect(webLogs).toContain("Delivery rejected");
      expect(workerLogs).toMatch(/"component":"outbox"/);
      expect(botLogs).toMatch(/"level":50.*401|401.*"level":50/);
      expectNoSecretsIn(everything, secretValues());
    } finally {
      switchboard = undefined;
      for (const role of roles.reverse()) await role.close();
      await github.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
