/**
 * The worker process of the PM2 layout is woken by the web process's commits (src/store/commit-watcher.ts):
 * another connection's commit must be noticed, and nothing else may wake it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { watchOtherCommits } from "../../src/store/commit-watcher.js";
import type { CommitWatcher } from "../../src/store/commit-watcher.js";

let directory: string;
let watched: SqliteDatabase.Database;
let other: SqliteDatabase.Database;
let watcher: CommitWatcher | undefined;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "switchboard-commit-watcher-"));
  const path = join(directory, "switchboard.db");
  watched = new SqliteDatabase(path);
  watched.pragma("journal_mode = WAL");
  watched.exec("create table inbox (id integer primary key, body text)");
  other = new SqliteDatabase(path);
});

afterEach(() => {
  watcher?.stop();
  watched.close();
  other.close();
  rmSync(directory, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("watchOtherCommits", () => {
  it("calls back after another connection commits, once per change, and not for its own commits", async () => {
    let commits = 0;
    watcher = watchOtherCommits(watched, { intervalMs: 5, onCommit: () => commits++ });

    await sleep(50);
    watched.prepare("insert into inbox (body) values ('own')").run();
    await sleep(50);
    expect(commits).toBe(0);

    other.prepare("insert into inbox (body) values ('from the web process')").run();
    await expect.poll(() => commits, { timeout: 1000, interval: 5 }).toBe(1);
    await sleep(50);
    expect(commits).toBe(1);
  });

  it("stops calling back once stopped, and outlives its connection quietly", async () => {
    let commits = 0;
    watcher = watchOtherCommits(watched, { intervalMs: 5, onCommit: () => commits++ });
    watcher.stop();
    other.prepare("insert into inbox (body) values ('after stop')").run();
    await sleep(50);
    expect(commits).toBe(0);

    // A store closed before its watcher was stopped (a shutdown in the wrong order) is no crash.
    watcher = watchOtherCommits(watched, { intervalMs: 5, onCommit: () => commits++ });
    watched.close();
    other.prepare("insert into inbox (body) values ('after close')").run();
    await sleep(50);
    expect(commits).toBe(0);
    watched = new SqliteDatabase(join(directory, "switchboard.db"));
  });
});
