/**
 * Zero-loss deploys under PM2: the project's ecosystem (web in cluster mode, bot, worker) runs under the
 * project's own pm2 with a private PM2_HOME, on a temporary SQLite database and the fake Discord. Signed
 * deliveries keep arriving while `pm2 reload` replaces every process; anything not answered 2xx is sent
 * again, as GitHub's "Redeliver" would. Every delivery must end up as exactly one Discord message.
 *
 * The test owns its pm2 daemon and always kills it: in afterAll, and on process exit if afterAll never ran.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { REPO_ROOT, ensureBuilt, freePort } from "../support/child-switchboard.js";
import {
  acknowledged,
  buildNumberedDeliveries,
  messagesPerDelivery,
  postDelivery,
  redeliverUntilAcknowledged,
  waitUntil,
  writeSingleChannelConfig,
} from "../support/numbered-deliveries.js";
import type { Outcome } from "../support/numbered-deliveries.js";

const run = promisify(execFile);
const PM2_BIN = join(REPO_ROOT, "node_modules", "pm2", "bin", "pm2");
const CHANNEL = "333333333333333333";
const GITHUB_SECRET = "pm2-reload-github-secret-7c2e9a";
const DISCORD_TOKEN = "pm2-reload-discord-token.Zm9v.YmFyYmF6";
const SENDERS = 4;
/** Pause between one sender's deliveries: a steady stream that spans the whole reload. */
const PACE_MS = 40;

let directory: string;
let pm2Home: string;
let discord: FakeDiscord;
let pm2Env: NodeJS.ProcessEnv;

function pm2(args: string[], timeoutMs = 60_000) {
  return run(process.execPath, [PM2_BIN, ...args], { cwd: REPO_ROOT, env: pm2Env, timeout: timeoutMs });
}

/** Kills this test's daemon (and with it every app it started); harmless when it is not running. */
function killDaemonSync(): void {
  if (!pm2Home) return;
  try {
    execFileSync(process.execPath, [PM2_BIN, "kill"], { env: pm2Env, stdio: "ignore", timeout: 20_000 });
  } catch {
    // Last resort: the daemon's pid file.
    try {
      process.kill(Number(readFileSync(join(pm2Home, "pm2.pid"), "utf8")), "SIGKILL");
    } catch {
      // Not running.
    }
  }
}
const exitGuard = () => killDaemonSync();
process.once("exit", exitGuard);

async function pids(): Promise<Map<string, number[]>> {
  const { stdout } = await pm2(["jlist"]);
  const list = JSON.parse(stdout) as Array<{ name: string; pid: number; pm2_env: { status: string } }>;
  const byName = new Map<string, number[]>();
  for (const app of list) byName.set(app.name, [...(byName.get(app.name) ?? []), app.pid]);
  return byName;
}

beforeAll(async () => {
  await ensureBuilt();
  directory = mkdtempSync(join(tmpdir(), "switchboard-pm2-"));
  pm2Home = join(directory, "pm2");
  discord = await startFakeDiscord({ token: DISCORD_TOKEN });
}, 120_000);

afterAll(async () => {
  killDaemonSync();
  process.removeListener("exit", exitGuard);
  await discord?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
}, 30_000);

describe("pm2 reload", () => {
  it("loses and duplicates no delivery while pm2 reloads web, bot and worker", async () => {
    const configFile = join(directory, "switchboard.yaml");
    writeSingleChannelConfig(configFile, CHANNEL);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // Each process's metrics listener: web instances on metricsBase + 0 and + 1, the bot + 10, the worker + 20.
    const metricsBase = await freePort();
    pm2Env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: directory,
      PM2_HOME: pm2Home,
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(directory, "switchboard.db")}`,
      CONFIG_FILE: configFile,
      GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
      DISCORD_TOKEN,
      DISCORD_API_URL: discord.url,
      LOG_LEVEL: "warn",
      OUTBOX_RETRY_BASE_MS: "50",
      OUTBOX_RETRY_MAX_MS: "500",
      SWITCHBOARD_PM2_METRICS_PORT_BASE: String(metricsBase),
    };

    await pm2(["start", "ecosystem.config.js"]);
    const before = await pids();
    expect([...before.keys()].sort()).toEqual(["switchboard-bot", "switchboard-web", "switchboard-worker"]);
    expect(before.get("switchboard-web")).toHaveLength(2);
    await waitUntil(
      async () => acknowledged(await fetch(`${base}/healthz`).then((r) => ({ status: r.status }))),
      10_000,
    );

    // A steady stream of deliveries, before, during and just after the reload.
    const deliveries = await buildNumberedDeliveries(GITHUB_SECRET, 4000);
    const outcomes = new Map<number, Outcome>();
    let next = 0;
    let streaming = true;
    let duringReload = { sent: 0, acknowledged: 0 };
    let reloading = false;
    const sender = async () => {
      while (streaming && next < deliveries.length) {
        const index = next++;
        const outcome = await postDelivery(base, deliveries[index]!);
        outcomes.set(index, outcome);
        if (reloading) {
          duringReload.sent++;
          if (acknowledged(outcome)) duringReload.acknowledged++;
        }
        await new Promise((resolve) => setTimeout(resolve, PACE_MS));
      }
    };
    const stream = Promise.all(Array.from({ length: SENDERS }, sender));
    await waitUntil(() => discord.messages.length >= 10, 15_000);

    reloading = true;
    const reloadStarted = Date.now();
    await pm2(["reload", "ecosystem.config.js"]);
    const reloadMs = Date.now() - reloadStarted;
    reloading = false;
    await new Promise((resolve) => setTimeout(resolve, 500));
    streaming = false;
    await stream;

    const after = await pids();
    for (const [name, old] of before) {
      // Every process was replaced.
      expect(
        after.get(name)?.some((pid) => old.includes(pid)),
        name,
      ).toBe(false);
    }

    const sent = deliveries.slice(0, next);
    const refusedFirstTime = [...outcomes.values()].filter((outcome) => !acknowledged(outcome)).length;
    const resends = await redeliverUntilAcknowledged(base, sent, outcomes);

    await waitUntil(() => messagesPerDelivery(discord.messages).size >= sent.length, 30_000);
    // Give a duplicate, if there were one, the time to show up.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const perDelivery = messagesPerDelivery(discord.messages);
    const duplicated = [...perDelivery.entries()].filter(([, count]) => count > 1).map(([n]) => n);
    const missing = sent.map((_, index) => index + 1).filter((n) => !perDelivery.has(n));
    expect(duplicated).toEqual([]);
    expect(missing).toEqual([]);
    expect(discord.messages).toHaveLength(sent.length);
    expect(discord.messages.every((message) => message.channelId === CHANNEL)).toBe(true);
    // Deliveries really kept arriving while the processes were replaced.
    expect(duringReload.acknowledged).toBeGreaterThan(0);

    // Prometheus can reach every process, each with its own metrics: the worker posts, the bot is connected.
    const scrape = (offset: number) =>
      fetch(`http://127.0.0.1:${metricsBase + offset}/metrics`).then((response) => response.text());
    expect(await scrape(20)).toMatch(/^switchboard_notification_latency_seconds_count [1-9]/m);
    await waitUntil(async () => /^switchboard_gateway_connected 1$/m.test(await scrape(10)), 10_000);
    for (const offset of [0, 1])
      expect(await scrape(offset)).toContain("switchboard_webhook_deliveries_total");

    console.info(
      `pm2 reload: ${sent.length} deliveries, ${duringReload.sent} sent during the ${reloadMs} ms reload ` +
        `(${duringReload.acknowledged} acknowledged), ${refusedFirstTime} not acknowledged at first and ` +
        `${resends} resend(s); ${discord.messages.length} messages, ${duplicated.length} duplicated`,
    );
    duringReload = { sent: 0, acknowledged: 0 };
  }, 90_000);
});
