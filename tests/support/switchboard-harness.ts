/**
 * Starts a real Switchboard in this process on a random loopback port with a throwaway SQLite file, and
 * collects what an operator would see: log lines and console-sink lines.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parseConfigFile } from "../../src/config/config-file.js";
import { loadEnvironment } from "../../src/config/environment.js";
import { startSwitchboard } from "../../src/main.js";
import type { Role, Switchboard } from "../../src/main.js";
import type { SignedDelivery } from "../../src/sources/signed-delivery.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { UNREACHABLE_API_URL } from "./child-switchboard.js";
import { waitUntil } from "./wait-until.js";

export const TEST_GITHUB_SECRET = "gh-webhook-secret-example-123";
export const TEST_LINEAR_SECRET = "lin-webhook-secret-example-456";
export const TEST_DISCORD_TOKEN = "discord-token-example.AAAA.bbbbbbbbbbbbbb";

export interface TestSwitchboard extends Switchboard {
  url: string;
  databasePath: string;
  /** Every JSON log line written so far. */
  logs: string[];
  consoleLines: string[];
  post(delivery: SignedDelivery): Promise<Response>;
  /** Resolve once `predicate` holds, polling every 20 ms, or fail after `timeoutMs`. */
  waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
}

/**
 * A test Switchboard that posts as the bot (TEST_DISCORD_TOKEN) to the fake Discord `discord`, with `channel`
 * as its default channel and `config` as its config file.
 */
export function startBotSwitchboard(
  discord: FakeDiscord,
  channel: string,
  config = "",
): Promise<TestSwitchboard> {
  return startTestSwitchboard({
    env: {
      DISCORD_TOKEN: TEST_DISCORD_TOKEN,
      DISCORD_API_URL: discord.url,
      DISCORD_DEFAULT_CHANNEL_ID: channel,
    },
    config,
  });
}

export async function startTestSwitchboard(
  options: {
    /** Environment variables on top of the test defaults (secrets set, port 0, debug logs, APIs unreachable). */
    env?: Record<string, string | undefined>;
    /** YAML text of the config file. */
    config?: string;
    role?: Role;
    /** Reuse a database file (restart scenarios). */
    databasePath?: string;
    /** Command modules instead of ALL_COMMANDS (tests add failing or slow ones). */
    commands?: readonly unknown[];
  } = {},
): Promise<TestSwitchboard> {
  const directory = options.databasePath ? undefined : mkdtempSync(join(tmpdir(), "switchboard-test-"));
  const databasePath = options.databasePath ?? join(directory!, "switchboard.db");
  const env = loadEnvironment({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: `sqlite:${databasePath}`,
    GITHUB_WEBHOOK_SECRET: TEST_GITHUB_SECRET,
    LINEAR_WEBHOOK_SECRET: TEST_LINEAR_SECRET,
    LOG_LEVEL: "debug",
    OUTBOX_RETRY_BASE_MS: "20",
    OUTBOX_RETRY_MAX_MS: "200",
    DISCORD_TIMEOUT_MS: "1000",
    DISCORD_API_URL: UNREACHABLE_API_URL,
    GITHUB_API_URL: UNREACHABLE_API_URL,
    LINEAR_API_URL: UNREACHABLE_API_URL,
    ...options.env,
  });
  const config = parseConfigFile(options.config ?? "", "test-config.yaml");
  const logs: string[] = [];
  const consoleLines: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      callback();
    },
  });
  const switchboard = await startSwitchboard({
    env,
    config,
    role: options.role ?? "all",
    logDestination,
    consoleWrite: (line) => consoleLines.push(line),
    ...(options.commands ? { commands: options.commands } : {}),
  });
  const url = switchboard.url!;
  return {
    ...switchboard,
    url,
    databasePath,
    logs,
    consoleLines,
    post: (delivery) =>
      fetch(new URL(delivery.path, url), { method: "POST", headers: delivery.headers, body: delivery.body }),
    waitFor: (predicate, timeoutMs = 10_000) => waitUntil(predicate, timeoutMs),
    async close() {
      await switchboard.close();
      if (directory) rmSync(directory, { recursive: true, force: true });
    },
  };
}
