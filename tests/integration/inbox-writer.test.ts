/**
 * What the inbox writer (src/store/inbox-writer.ts) promises a webhook sender and an operator on a SQLite file:
 * its thread writes exactly the rows the Kysely path writes, answers "new" only once the row is committed,
 * takes a burst, fails only the caller of a bad row, recovers from a thread that died, and drains what it was
 * handed before the store closes. Also that the main connection's BEGIN IMMEDIATE waits for another writer's
 * lock without blocking the event loop.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import SqliteDatabase from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/database.js";
import type { Store } from "../../src/store/database.js";
import { listPendingDeliveries, recordDelivery } from "../../src/store/inbox-repository.js";
import type { InboxRow, NewDelivery } from "../../src/store/inbox-repository.js";
import { startInboxWriter } from "../../src/store/inbox-writer.js";
import type { InboxWriter } from "../../src/store/inbox-writer.js";

let directory: string;
let path: string;
/** Everything a test opened, closed after it even when it failed. */
let stores: Store[];
let writers: InboxWriter[];
let store: Store;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "switchboard-inbox-writer-"));
  path = join(directory, "switchboard.db");
  stores = [];
  writers = [];
  store = await open(path);
});

afterEach(async () => {
  for (const writer of writers) await writer.stop();
  for (const opened of stores) await opened.close().catch(() => undefined);
  rmSync(directory, { recursive: true, force: true });
});

async function open(file: string): Promise<Store> {
  const opened = await openStore(file === ":memory:" ? "sqlite::memory:" : `sqlite:${file}`);
  stores.push(opened);
  return opened;
}

function delivery(index: number | string, body = "{}"): NewDelivery {
  return {
    source: "github",
    deliveryId: `delivery-${index}`,
    event: "ping",
    body,
    receivedAt: 1_700_000_000_000,
  };
}

function withoutId({ id: _id, ...row }: InboxRow): Omit<InboxRow, "id"> {
  return row;
}

// The memory test collects garbage on demand, as an operator would see it settle.
setFlagsFromString("--expose-gc");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Store.recordDelivery on a SQLite file", () => {
  it("answers new, then duplicate, and stores the same rows as the Kysely path", async () => {
    const body = JSON.stringify({ action: "opened", text: "é ✓ \u0000 'quoted'", padding: "x".repeat(3000) });
    const sent: NewDelivery = {
      source: "linear",
      deliveryId: "f3a1c2d4",
      event: "Issue",
      body,
      receivedAt: 1_712_345_678_901,
    };
    await expect(store.recordDelivery(sent)).resolves.toBe("new");
    await expect(store.recordDelivery(sent)).resolves.toBe("duplicate");
    // A redelivery with another body is still the same delivery: the first body stays.
    await expect(store.recordDelivery({ ...sent, body: "{}" })).resolves.toBe("duplicate");

    const memory = await open(":memory:");
    await expect(recordDelivery(memory.db, sent)).resolves.toBe("new");

    const fromThread = await listPendingDeliveries(store.db, 10);
    const fromKysely = await listPendingDeliveries(memory.db, 10);
    expect(fromThread).toHaveLength(1);
    expect(fromKysely).toHaveLength(1);
    expect(withoutId(fromThread[0]!)).toEqual(withoutId(fromKysely[0]!));
    expect(fromThread[0]).toMatchObject({
      source: "linear",
      delivery_id: "f3a1c2d4",
      event: "Issue",
      body,
      received_at: 1_712_345_678_901,
      status: "pending",
      attempts: 0,
      event_name: null,
      detail: null,
      processed_at: null,
    });
  });

  it("takes a burst of 300 concurrent deliveries of 20 kB and stores every one with its body", async () => {
    const bodyOf = (index: number) => JSON.stringify({ index, padding: "y".repeat(20_000) });
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, index) => store.recordDelivery(delivery(index, bodyOf(index)))),
    );
    expect(results).toEqual(Array.from({ length: 300 }, () => "new"));
    const rows = await listPendingDeliveries(store.db, 1000);
    expect(rows).toHaveLength(300);
    const bodies = new Map(rows.map((row) => [row.delivery_id, row.body]));
    for (let index = 0; index < 300; index++) expect(bodies.get(`delivery-${index}`)).toBe(bodyOf(index));
  });

  it("fails only the caller of a bad row when deliveries share a batch", async () => {
    store.sqlite!.exec(
      "create trigger poison before insert on inbox when new.delivery_id = 'delivery-poison' " +
        "begin select raise(abort, 'poisoned'); end",
    );
    const ids = Array.from({ length: 20 }, (_, index) => (index === 7 ? "poison" : index));
    const settled = await Promise.allSettled(ids.map((id) => store.recordDelivery(delivery(id))));

    const poison = settled[7]!;
    expect(poison.status).toBe("rejected");
    expect(String((poison as PromiseRejectedResult).reason)).toMatch(/poisoned/);
    const others = settled.filter((_, index) => index !== 7);
    expect(others).toEqual(Array.from({ length: 19 }, () => ({ status: "fulfilled", value: "new" })));

    const stored = (await listPendingDeliveries(store.db, 100)).map((row) => row.delivery_id).sort();
    expect(stored).toEqual(
      ids
        .filter((id) => id !== "poison")
        .map((id) => `delivery-${id}`)
        .sort(),
    );
  });

  it("answers only after the commit: a connection opened afterwards sees the delivery", async () => {
    for (let index = 0; index < 5; index++) {
      await expect(store.recordDelivery(delivery(index))).resolves.toBe("new");
      const other = new SqliteDatabase(path, { readonly: true });
      try {
        const row = other
          .prepare(
            "SELECT inbox.delivery_id, inbox_bodies.body FROM inbox " +
              "JOIN inbox_bodies ON inbox_bodies.inbox_id = inbox.id WHERE inbox.delivery_id = ?",
          )
          .get(`delivery-${index}`);
        expect(row).toEqual({ delivery_id: `delivery-${index}`, body: "{}" });
      } finally {
        other.close();
      }
    }
  });

  it("rejects deliveries after close, and close answers every delivery handed over before it", async () => {
    const pending = Array.from({ length: 50 }, (_, index) => store.recordDelivery(delivery(index)));
    await store.close();
    // Every caller has its own answer by now: none is left hanging, none committed and answered 503.
    expect(await Promise.allSettled(pending)).toEqual(
      Array.from({ length: 50 }, () => ({ status: "fulfilled", value: "new" })),
    );
    await expect(store.recordDelivery(delivery(99))).rejects.toThrow("the store is closed");

    const reopened = await open(path);
    expect(await listPendingDeliveries(reopened.db, 100)).toHaveLength(50);
  });

  // The thread's answers and its exit are not ordered: answers still queued when it exits must be settled.
  it("answers every delivery handed over before close with its own result, close after close", async () => {
    for (let round = 0; round < 30; round++) {
      const file = join(directory, `round-${round}.db`);
      const roundStore = await open(file);
      const body = JSON.stringify({ padding: "z".repeat(2000) });
      const pending = Array.from({ length: 50 }, (_, index) =>
        roundStore.recordDelivery(delivery(index, body)),
      );
      await roundStore.close();
      const settled = await Promise.allSettled(pending);
      expect(settled).toEqual(Array.from({ length: 50 }, () => ({ status: "fulfilled", value: "new" })));
    }
  });
});

describe("the writer's thread", () => {
  async function failOnMissingFile(): Promise<{ writer: InboxWriter; errors: string[]; later: string }> {
    const later = join(directory, "later", "switchboard.db");
    const errors: string[] = [];
    const writer = startInboxWriter({
      path: later,
      busyTimeoutMs: 5000,
      pageCacheKib: -2000,
      onError: (message) => errors.push(message),
    });
    writers.push(writer);
    // The thread opens the file with fileMustExist: no database there yet.
    await expect(writer.record(delivery(1))).rejects.toThrow(/^the inbox writer thread failed: .+/);
    expect(errors).toEqual([expect.stringMatching(/^the inbox writer thread failed: .+/)]);
    return { writer, errors, later };
  }

  it("fails its callers clearly when it dies, reports it, and the next delivery reaches a new thread", async () => {
    const { writer, errors, later } = await failOnMissingFile();
    // Opening a store there creates the file and runs the migrations. Only microtasks run meanwhile, so
    // the failed thread's exit has not been seen yet: the next delivery must not go to it.
    const created = await open(later);
    expect(existsSync(later)).toBe(true);
    await expect(writer.record(delivery(2))).resolves.toBe("new");
    expect(errors).toHaveLength(1);
    const rows = await listPendingDeliveries(created.db, 10);
    expect(rows.map((row) => row.delivery_id)).toEqual(["delivery-2"]);
  });

  it("holds no body once it has answered: stored bodies do not pile up in memory", async () => {
    // Bodies are buffers the event loop allocates; until they are freed they count in its arrayBuffers, wherever
    // they are. Kept by the thread, which rarely collects garbage, 40 MB would still be there after the answers.
    const collect = runInNewContext("gc") as () => void;
    collect();
    const before = process.memoryUsage().arrayBuffers;
    const body = JSON.stringify({ padding: "x".repeat(1024 * 1024) });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, index) => store.recordDelivery(delivery(`large-${index}`, body))),
    );
    expect(answers.every((answer) => answer === "new")).toBe(true);
    // Freed memory is swept after a collection, in the background: give it a moment, collecting again.
    const retainedMb = () => {
      collect();
      return (process.memoryUsage().arrayBuffers - before) / (1024 * 1024);
    };
    await expect.poll(retainedMb, { timeout: 3000, interval: 50 }).toBeLessThan(8);
  });
});

describe("the main connection's transactions", () => {
  it("wait for another writer's lock off the event loop", async () => {
    const other = new SqliteDatabase(path);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    try {
      other.exec("begin immediate");
      let committed = false;
      const transaction = store.db
        .transaction()
        .execute((trx) => recordDelivery(trx, delivery("while-locked")))
        .then((result) => {
          committed = true;
          return result;
        });

      const startTicks = ticks;
      await sleep(150);
      // With SQLite's busy handler sleeping inside the call, no timer would have fired meanwhile.
      expect(ticks - startTicks).toBeGreaterThanOrEqual(5);
      expect(committed).toBe(false);

      other.exec("commit");
      await expect(transaction).resolves.toBe("new");
    } finally {
      clearInterval(ticker);
      if (other.inTransaction) other.exec("rollback");
      other.close();
    }
    const rows = await listPendingDeliveries(store.db, 10);
    expect(rows.map((row) => row.delivery_id)).toEqual(["delivery-while-locked"]);
  });

  it("take turns with the writer's thread without failing either side", async () => {
    const fromThread = Array.from({ length: 100 }, (_, index) => store.recordDelivery(delivery(index)));
    const fromLoop = Array.from({ length: 20 }, (_, index) =>
      store.db.transaction().execute((trx) => recordDelivery(trx, delivery(`loop-${index}`))),
    );
    const results = await Promise.all([...fromThread, ...fromLoop]);
    expect(results.every((result) => result === "new")).toBe(true);
    expect(await listPendingDeliveries(store.db, 500)).toHaveLength(120);
  });
});
