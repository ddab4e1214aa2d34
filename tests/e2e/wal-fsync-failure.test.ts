/**
 * A disk that stops syncing, as the webhook sender and the operator meet it. The real server runs as a child
 * process with tests/support/failing-fsync.c preloaded: while a flag file exists, every fsync of SQLite's WAL
 * fails with EIO, the inbox writer thread's included. A delivery received then must not be acknowledged (503,
 * so GitHub's "Redeliver" or Linear's retry sends it again), the log must say what failed, and once the disk
 * syncs again the redelivery is accepted and the delivery reaches Discord exactly once, like every other.
 *
 * The redelivery is answered 200 or 202, as after a crash. Usually the row was committed and only the fsync
 * after it failed: the redelivery finds it (200), and the next fsync that works makes it durable. But when
 * the commit starts the WAL over after a checkpoint, SQLite syncs the WAL's header inside the commit, the
 * commit fails and rolls back, and the redelivery stores the delivery anew (202).
 */
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, startChildSwitchboard } from "../support/child-switchboard.js";
import { useChildSwitchboardWorkspace } from "../support/child-switchboard-workspace.js";
import {
  buildNumberedDeliveries,
  messagesPerDelivery,
  postDelivery,
  waitUntil,
  writeSingleChannelConfig,
} from "../support/numbered-deliveries.js";

const CHANNEL = "333333333333333333";
const GITHUB_SECRET = "fsync-test-github-secret-2b7e41";
const DISCORD_TOKEN = "fsync-test-discord-token.Zm9v.YmFyYmF6cXV4";

const workspace = useChildSwitchboardWorkspace("switchboard-fsync-", DISCORD_TOKEN);

/**
 * The preload library is built with the C compiler node-gyp builds better-sqlite3 with where no prebuilt
 * binary is reachable. Without one this test is skipped and says why; CI must run it (.ci/run installs one).
 */
const compiler = compilerOnPath();
if (!compiler) {
  if (process.env.CI) throw new Error("No C compiler (cc): the disk-failure test cannot run.");
  console.warn("No C compiler (cc): the disk-failure test is skipped.");
}

function compilerOnPath(): boolean {
  try {
    execFileSync("cc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function buildFailingFsync(directory: string): string {
  const library = join(directory, "failing-fsync.so");
  execFileSync("cc", [
    "-shared",
    "-fPIC",
    "-O2",
    "-o",
    library,
    join(REPO_ROOT, "tests", "support", "failing-fsync.c"),
    "-ldl",
  ]);
  return library;
}

describe.skipIf(!compiler)("a WAL that cannot be synced", () => {
  it("answers 503 while the disk fails, says why in the log, and posts the redelivered delivery exactly once", async () => {
    const { directory, discord, children } = workspace;
    const configFile = join(directory, "switchboard.yaml");
    writeSingleChannelConfig(configFile, CHANNEL);
    const flag = join(directory, "fail-wal-sync");
    const child = await startChildSwitchboard({
      env: {
        LD_PRELOAD: buildFailingFsync(directory),
        FAIL_WAL_SYNC_WHILE: flag,
        DATABASE_URL: `sqlite:${join(directory, "switchboard.db")}`,
        GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
        DISCORD_TOKEN,
        DISCORD_API_URL: discord.url,
        CONFIG_FILE: configFile,
        LOG_LEVEL: "warn",
      },
    });
    children.push(child);
    const [before, during, after] = await buildNumberedDeliveries(GITHUB_SECRET, 3);

    // A healthy disk: accepted and posted.
    expect(await postDelivery(child.url, before!)).toEqual({ status: 202 });
    await waitUntil(() => messagesPerDelivery(discord.messages).get(1) === 1, 10_000);

    // The disk fails: the sender is told to retry, and the operator is told why.
    writeFileSync(flag, "");
    expect(await postDelivery(child.url, during!)).toEqual({ status: 503 });
    const refusal = () =>
      child
        .stdout()
        .split("\n")
        .find((line) => line.includes("Delivery could not be stored"));
    await waitUntil(() => refusal() !== undefined, 5_000);
    // The thread's own fsync after the commit, or SQLite's inside it (see above).
    expect(refusal()).toMatch(/fsync of the WAL failed: EIO|disk I\/O error/);

    // The disk syncs again: the sender's retry is taken, and a new delivery too.
    rmSync(flag);
    expect([{ status: 200 }, { status: 202 }]).toContainEqual(await postDelivery(child.url, during!));
    expect(await postDelivery(child.url, after!)).toEqual({ status: 202 });
    await waitUntil(() => messagesPerDelivery(discord.messages).size === 3, 15_000);
    // A graceful stop finishes what is in flight, so nothing can arrive after the count below.
    expect(await child.stop()).toEqual({ code: 0, signal: null });
    expect(Object.fromEntries(messagesPerDelivery(discord.messages))).toEqual({ 1: 1, 2: 1, 3: 1 });
  }, 60_000);
});
