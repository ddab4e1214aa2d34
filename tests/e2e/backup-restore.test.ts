/**
 * Backup and restore as an operator runs them: `switchboard backup` while the service runs and writes, stop,
 * lose the database, `switchboard restore`, start again. Every delivery is still recorded (GitHub's
 * redelivery is answered 200 and posts nothing), every message was posted exactly once, and processing
 * resumes (a new delivery is posted).
 */
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, startChildSwitchboard } from "../support/child-switchboard.js";
import type { ChildEnv } from "../support/child-switchboard.js";
import { useChildSwitchboardWorkspace } from "../support/child-switchboard-workspace.js";
import {
  buildNumberedDeliveries,
  messagesPerDelivery,
  postDelivery,
  waitUntil,
  writeSingleChannelConfig,
} from "../support/numbered-deliveries.js";

const CHANNEL = "444444444444444444";
const GITHUB_SECRET = "backup-test-github-secret-91b3d2";
const DISCORD_TOKEN = "backup-test-discord-token.Zm9v.YmFyYmF6";
const BEFORE_BACKUP = 40;

const workspace = useChildSwitchboardWorkspace("switchboard-backup-", DISCORD_TOKEN);

describe("backup and restore", () => {
  it("restores every delivery and message from a backup taken while running, and resumes processing", async () => {
    const { directory, discord, children } = workspace;
    const configFile = join(directory, "switchboard.yaml");
    writeSingleChannelConfig(configFile, CHANNEL);
    const database = join(directory, "data", "switchboard.db");
    const backupFile = join(directory, "backups", "switchboard-backup.db");
    const env: ChildEnv = {
      DATABASE_URL: `sqlite:${database}`,
      GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
      DISCORD_TOKEN,
      DISCORD_API_URL: discord.url,
      CONFIG_FILE: configFile,
      LOG_LEVEL: "warn",
      OUTBOX_RETRY_BASE_MS: "50",
    };
    const deliveries = await buildNumberedDeliveries(GITHUB_SECRET, BEFORE_BACKUP + 1);
    const later = deliveries.pop()!;

    const first = await startChildSwitchboard({ env });
    children.push(first);
    const answers = await Promise.all(deliveries.map((delivery) => postDelivery(first.url, delivery)));
    expect(answers.every((answer) => "status" in answer && answer.status === 202)).toBe(true);
    await waitUntil(() => discord.messages.length >= BEFORE_BACKUP, 20_000);

    // Online backup while the instance runs (and its workers poll the same file).
    const backup = await runCli(["backup", backupFile], env);
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/^Backed up .* \(\d+ pages\)\.$/m);
    expect(statSync(backupFile).size).toBeGreaterThan(0);
    expect(await first.stop()).toEqual({ code: 0, signal: null });

    // Disaster: the database and its write-ahead log are gone.
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${database}${suffix}`, { force: true });
    expect(existsSync(database)).toBe(false);

    const restore = await runCli(["restore", backupFile], env);
    expect(restore.stderr).toBe("");
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain("Restored");

    const second = await startChildSwitchboard({ env });
    children.push(second);
    // Every delivery is recorded: GitHub's redelivery of each is a duplicate and posts nothing.
    const redelivered = await Promise.all(deliveries.map((delivery) => postDelivery(second.url, delivery)));
    expect(redelivered.map((answer) => ("status" in answer ? answer.status : 0))).toEqual(
      deliveries.map(() => 200),
    );
    // Processing resumed: a new delivery is posted.
    expect(await postDelivery(second.url, later)).toEqual({ status: 202 });
    await waitUntil(() => messagesPerDelivery(discord.messages).has(BEFORE_BACKUP + 1), 20_000);
    expect(await second.stop()).toEqual({ code: 0, signal: null });

    const perDelivery = messagesPerDelivery(discord.messages);
    for (let n = 1; n <= BEFORE_BACKUP + 1; n++) expect(perDelivery.get(n), `delivery ${n}`).toBe(1);
    expect(discord.messages).toHaveLength(BEFORE_BACKUP + 1);
  }, 60_000);

  it("refuses to restore a file that is not a Switchboard database, and says why", async () => {
    const { directory } = workspace;
    const env: ChildEnv = { DATABASE_URL: `sqlite:${join(directory, "other", "switchboard.db")}` };
    const result = await runCli(["restore", join(directory, "switchboard.yaml")], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /Restore failed: .* (is not an SQLite database|is not a Switchboard database)/,
    );
  });

  it("explains that Postgres deployments back up with pg_dump", async () => {
    const { directory } = workspace;
    const result = await runCli(["backup", join(directory, "x.db")], {
      DATABASE_URL: "postgres://switchboard@127.0.0.1:1/switchboard",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("pg_dump");
  });
});
