/**
 * What the store promises a webhook sender: a delivery is answered only once it is on disk, fsyncs are
 * shared by the writes waiting together, a failing fsync fails the answer (503, so the sender retries), and
 * the WAL is checkpointed into the database file by a thread of its own. Bodies written before they moved to
 * their own table survive the move.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGitHubReceiver } from "../../src/sources/github/receiver.js";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import { createSyncBarrier, openStore } from "../../src/store/database.js";
import type { Store } from "../../src/store/database.js";
import { createGroupCommit } from "../../src/store/group-commit.js";
import { listPendingDeliveries, recordDelivery } from "../../src/store/inbox-repository.js";
import { buildMigrations } from "../../src/store/migrations.js";
import type { InboxTable } from "../../src/store/schema.js";
import type { NewDelivery } from "../../src/store/inbox-repository.js";
import { waitUntil } from "../support/wait-until.js";

let directory: string;
let store: Store;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "switchboard-durability-"));
  store = await openStore(`sqlite:${join(directory, "switchboard.db")}`);
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

function delivery(index: number, body = "{}"): NewDelivery {
  return { source: "github", deliveryId: `delivery-${index}`, event: "ping", body, receivedAt: Date.now() };
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function countInbox(): Promise<number> {
  const row = await store.db
    .selectFrom("inbox")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

describe("group commit", () => {
  it("answers a write only after the store says its commit is on disk", async () => {
    const disk = deferred();
    let syncs = 0;
    const persist = createGroupCommit(
      { db: store.db, durable: () => (syncs++, disk.promise) },
      recordDelivery,
    );
    let answered = false;
    const answer = persist(delivery(1)).then((result) => {
      answered = true;
      return result;
    });
    await waitUntil(async () => (await countInbox()) === 1, 2000);
    expect(syncs).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answered).toBe(false);
    disk.resolve();
    await expect(answer).resolves.toBe("new");
  });

  it("commits a burst together and shares the fsync among it", async () => {
    let syncs = 0;
    const persist = createGroupCommit({ db: store.db, durable: async () => void syncs++ }, recordDelivery);
    const results = await Promise.all(Array.from({ length: 50 }, (_, index) => persist(delivery(index))));
    expect(results).toEqual(Array.from({ length: 50 }, () => "new"));
    expect(await countInbox()).toBe(50);
    expect(syncs).toBe(1);
    expect(await persist(delivery(7))).toBe("duplicate");
  });

  it("fails every write of a batch whose fsync failed, and the webhook answers 503 so the sender retries", async () => {
    const persist = createGroupCommit(
      { db: store.db, durable: () => Promise.reject(new Error("EIO: i/o error, fsync")) },
      recordDelivery,
    );
    const receiver = createGitHubReceiver({ secret: "durability-secret", persist });
    const signed = await signGitHubDelivery({
      secret: "durability-secret",
      event: "ping",
      payload: { zen: "Keep it logically awesome." },
    });
    const answer = await receiver.receive({
      headers: signed.headers,
      contentType: "application/json",
      body: Buffer.from(signed.body),
    });
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({
      status: "unavailable",
      message: "The delivery could not be stored; retry later.",
    });
  });
});

describe("sync barrier", () => {
  it("runs one sync at a time, and callers that arrive during one share the next", async () => {
    const started: Array<ReturnType<typeof deferred>> = [];
    const barrier = createSyncBarrier(() => {
      const sync = deferred();
      started.push(sync);
      return sync.promise;
    });
    const first = barrier();
    const second = barrier();
    const third = barrier();
    expect(started).toHaveLength(1);
    let secondDone = false;
    void second.then(() => (secondDone = true));
    started[0]!.resolve();
    await first;
    await waitUntil(() => started.length === 2, 2000);
    // The first sync may have begun before the second caller's commit: it waits for the next one.
    expect(secondDone).toBe(false);
    started[1]!.resolve();
    await Promise.all([second, third]);
    expect(started).toHaveLength(2);
  });

  it("passes a failed sync to its callers and keeps working afterwards", async () => {
    let fail = true;
    const barrier = createSyncBarrier(() => (fail ? Promise.reject(new Error("EIO")) : Promise.resolve()));
    await expect(barrier()).rejects.toThrow("EIO");
    fail = false;
    await expect(barrier()).resolves.toBeUndefined();
  });

  // No WAL where the store expects it would throw here (a missing file is never taken for "nothing to sync").
  it("fsyncs the store's real WAL", async () => {
    await recordDelivery(store.db, delivery(1));
    await expect(store.durable()).resolves.toBeUndefined();
  });
});

describe("WAL checkpoints", () => {
  it("copies committed deliveries into the database file from their own thread", async () => {
    const body = JSON.stringify({ padding: "x".repeat(20_000) });
    for (let index = 0; index < 100; index++) await recordDelivery(store.db, delivery(index, body));
    // The database file alone, without its WAL, holds every delivery once a checkpoint ran.
    const copy = join(directory, "copy.db");
    await waitUntil(() => {
      copyFileSync(join(directory, "switchboard.db"), copy);
      const sqlite = new SqliteDatabase(copy, { readonly: true });
      try {
        const row = sqlite.prepare("SELECT count(*) AS count FROM inbox").get() as { count: number };
        return row.count === 100;
      } catch {
        return false; // Not even the schema has been checkpointed yet.
      } finally {
        sqlite.close();
      }
    }, 5000);
  });
});

describe("memory", () => {
  // better-sqlite3 builds SQLite with a 16 MB page cache per connection, which the bodies the pipeline reads
  // once used to fill and keep: 16 MB of the process's resident memory after a burst (see npm run bench).
  it("caps the main connection's page cache at 2 MB", () => {
    expect(store.sqlite!.pragma("cache_size", { simple: true })).toBe(-2000);
  });
});

describe("migration 0008 (bodies apart from inbox rows)", () => {
  it("keeps every stored body of a database made before it", async () => {
    const path = join(directory, "before-0008.db");
    // The schema as it was before 0008: the inbox row held its body.
    const old = new Kysely<{ inbox: InboxTable & { body: string } }>({
      dialect: new SqliteDialect({ database: new SqliteDatabase(path) }),
    });
    const migrator = new Migrator({
      db: old as Kysely<unknown>,
      provider: { getMigrations: async () => buildMigrations("sqlite") },
    });
    const { error } = await migrator.migrateTo("0007_deployment_freeze_override");
    expect(error).toBeUndefined();
    const body = JSON.stringify({ action: "opened", padding: "é".repeat(5000) });
    await old
      .insertInto("inbox")
      .values({
        source: "github",
        delivery_id: "from-before",
        event: "pull_request",
        body,
        received_at: 1,
        status: "pending",
      })
      .execute();
    await old.destroy();

    const upgraded = await openStore(`sqlite:${path}`);
    try {
      const pending = await listPendingDeliveries(upgraded.db, 10);
      expect(pending).toMatchObject([{ delivery_id: "from-before", event: "pull_request", body }]);
      const columns = upgraded.sqlite!.prepare("SELECT name FROM pragma_table_info('inbox')").all();
      expect(columns).not.toContainEqual({ name: "body" });
    } finally {
      await upgraded.close();
    }
  });
});

describe("transactions across processes", () => {
  it("take the write lock when they begin, so another writer waits instead of failing them mid-way", async () => {
    // A second connection to the same file stands for another process of the PM2 layout.
    const other = new SqliteDatabase(join(directory, "switchboard.db"));
    other.pragma("busy_timeout = 0");
    try {
      await store.db.transaction().execute(async (trx) => {
        // Only a read so far: a deferred transaction would hold no write lock yet, and the other writer's
        // commit would make this transaction's later write fail with SQLITE_BUSY_SNAPSHOT.
        await trx.selectFrom("inbox").select("id").execute();
        expect(() =>
          other.prepare("INSERT INTO job_state (job, updated_at) VALUES ('other-process', 1)").run(),
        ).toThrow(/locked|busy/i);
        await recordDelivery(trx, delivery(1));
      });
    } finally {
      other.close();
    }
    expect(await countInbox()).toBe(1);
  });
});
