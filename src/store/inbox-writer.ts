/**
 * Stores webhook deliveries from a thread of its own (SQLite on disk only). Writing a delivery of tens of
 * kilobytes, committing it and syncing the WAL was the largest share of the event loop's time per webhook;
 * here a second connection, on a worker thread, does it while the event loop goes on receiving.
 *
 * Group commit, as in group-commit.ts: the thread takes every delivery waiting for it, writes them in one
 * BEGIN IMMEDIATE transaction, fsyncs the WAL (outside the write lock, so the event loop's own transactions
 * are not held up by the disk), and only then answers, so a caller still hears "new" only once its delivery
 * is on disk. A batch that fails is retried a delivery at a time, so one bad row fails only its own caller.
 *
 * The statements mirror `recordDelivery` in inbox-repository.ts (the path every other store takes);
 * tests/integration/inbox-writer.test.ts holds the two to the same rows. The thread's script is inline CommonJS for the
 * reason wal-checkpointer.ts gives.
 */
import { createRequire } from "node:module";
import { MessageChannel, Worker, receiveMessageOnPort } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import type { NewDelivery } from "./inbox-repository.js";

export interface InboxWriter {
  /** "new" once the delivery is committed and on disk, "duplicate" for a delivery id already stored. */
  record(delivery: NewDelivery): Promise<"new" | "duplicate">;
  /** Answers every delivery already handed over, then stops the thread. */
  stop(): Promise<void>;
}

type Answer = { id: number; result: "new" | "duplicate" } | { id: number; error: string };

/** Bounds one transaction, and the bodies it holds: deliveries beyond it wait for the next one. */
const MAX_BATCH = 200;
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

const THREAD_SOURCE = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const fs = require("node:fs");
const nodePath = require("node:path");
const Database = require(workerData.sqliteModule);
const { port, path, maxBatch, maxBatchBytes } = workerData;
const db = new Database(path, { fileMustExist: true });
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 0");
db.pragma("foreign_keys = ON");
db.pragma("cache_size = " + workerData.pageCacheKib);
const insertRow = db.prepare(
  "insert into inbox (source, delivery_id, event, received_at, status) values (?, ?, ?, ?, 'pending') " +
    "on conflict (source, delivery_id) do nothing returning id",
);
// The body arrives as UTF-8 bytes; the cast stores them as the TEXT the column holds, byte for byte.
const insertBody = db.prepare("insert into inbox_bodies (inbox_id, body) values (?, cast(? as text))");
function record(delivery) {
  const row = insertRow.get(delivery.source, delivery.deliveryId, delivery.event, delivery.receivedAt);
  if (!row) return "duplicate";
  insertBody.run(row.id, delivery.body);
  return "new";
}
const recordAll = db.transaction((batch) => batch.map(record));
const recordOne = db.transaction(record);
const describe = (error) => String(error && error.message ? error.message : error);
// The WAL stays the same file while this connection is open (SQLite removes it only when the last one
// closes), so it is opened once, after the first commit has created it.
let walFd;
function syncWal() {
  if (walFd === undefined) {
    // Once: the WAL's own name must survive a power loss too.
    const folder = fs.openSync(nodePath.dirname(path), "r");
    try { fs.fsyncSync(folder); } finally { fs.closeSync(folder); }
    walFd = fs.openSync(path + "-wal", "r+");
  }
  fs.fdatasyncSync(walFd);
}
// SQLite's busy handler sleeps 1, 2, 5, 10 ms... between tries; the event loop's transactions hold the lock
// for well under a millisecond, so the thread asks again every 0.1 ms instead, up to busy_timeout.
const pause = new Int32Array(new SharedArrayBuffer(4));
function withLock(transaction, input) {
  const started = Date.now();
  for (;;) {
    try { return transaction.immediate(input); }
    catch (error) {
      const busy = typeof error.code === "string" && error.code.startsWith("SQLITE_BUSY");
      if (!busy || Date.now() - started > workerData.busyTimeoutMs) throw error;
      Atomics.wait(pause, 0, 0, 0.1);
    }
  }
}
function write(batch) {
  let answers;
  try {
    answers = withLock(recordAll, batch).map((result, index) => ({ id: batch[index].id, result }));
  } catch {
    answers = batch.map((delivery) => {
      try { return { id: delivery.id, result: withLock(recordOne, delivery) }; }
      catch (error) { return { id: delivery.id, error: describe(error) }; }
    });
  }
  try {
    syncWal();
  } catch (error) {
    const message = "fsync of the WAL failed: " + describe(error);
    // A delivery whose own write failed keeps that error: it says what went wrong first.
    answers = answers.map((answer) => ("error" in answer ? answer : { id: answer.id, error: message }));
  }
  // The bodies go back with the answers. Left here, they would be freed only when this thread collects
  // garbage, which its few small allocations make rare: tens of megabytes of bodies piled up between
  // collections. The event loop, which allocates all the time, frees them at its next young collection.
  port.postMessage(answers, batch.map((delivery) => delivery.body.buffer));
}
port.on("message", (first) => {
  if (first === "stop") return stop();
  const batch = [first];
  let bytes = first.body.byteLength;
  let stopping = false;
  while (batch.length < maxBatch && bytes < maxBatchBytes) {
    const next = receiveMessageOnPort(port);
    if (!next) break;
    if (next.message === "stop") { stopping = true; break; }
    batch.push(next.message);
    bytes += next.message.body.byteLength;
  }
  write(batch);
  if (stopping) stop();
});
function stop() {
  if (walFd !== undefined) fs.closeSync(walFd);
  db.close();
  port.close();
}
`;

interface Caller {
  resolve: (result: "new" | "duplicate") => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  port: MessagePort;
  /** Its own callers: a thread that fails takes only them down, never those of the one after it. */
  waiting: Map<number, Caller>;
  exited: Promise<void>;
}

export function startInboxWriter(options: {
  path: string;
  /** How long a batch waits for another writer's lock before its deliveries fail. */
  busyTimeoutMs: number;
  /** SQLite's page cache for the thread's connection, as the pragma takes it (see database.ts). */
  pageCacheKib: number;
  /** A thread that died (out of memory, a native error): its callers got a 503; the next delivery starts another. */
  onError: (message: string) => void;
}): InboxWriter {
  const sqliteModule = createRequire(import.meta.url).resolve("better-sqlite3");
  let nextId = 0;
  let thread: Thread | undefined;
  let stopped = false;

  function start(): Thread {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        port: port2,
        path: options.path,
        sqliteModule,
        maxBatch: MAX_BATCH,
        maxBatchBytes: MAX_BATCH_BYTES,
        busyTimeoutMs: options.busyTimeoutMs,
        pageCacheKib: options.pageCacheKib,
      },
      transferList: [port2],
      // Bodies are buffers outside the heap, and nothing the thread allocates outlives a batch: a small heap.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    const current: Thread = {
      worker,
      port: port1,
      waiting: new Map(),
      exited: new Promise<void>((resolve) => worker.once("exit", () => resolve())),
    };
    const settle = (answers: Answer[]): void => {
      for (const answer of answers) {
        const caller = current.waiting.get(answer.id);
        if (!caller) continue;
        current.waiting.delete(answer.id);
        if ("error" in answer) caller.reject(new Error(answer.error));
        else caller.resolve(answer.result);
      }
      if (current.waiting.size === 0) port1.unref();
    };
    // Answers the thread sent before it ended may not have been dispatched yet (the port's messages are not
    // ordered with the thread's exit): settle them, then fail whoever is still waiting.
    const end = (error: Error): void => {
      for (let next = receiveMessageOnPort(port1); next; next = receiveMessageOnPort(port1)) {
        settle(next.message as Answer[]);
      }
      for (const caller of current.waiting.values()) caller.reject(error);
      current.waiting.clear();
    };
    port1.on("message", settle);
    // Neither keeps a process alive on its own: only deliveries waiting for an answer do (see record).
    port1.unref();
    worker.unref();
    worker.on("error", (error) => {
      if (thread === current) thread = undefined;
      const message = `the inbox writer thread failed: ${error.message}`;
      options.onError(message);
      end(new Error(message));
    });
    worker.once("exit", () => {
      if (thread === current) thread = undefined;
      end(new Error("the inbox writer thread stopped"));
      port1.close();
    });
    return current;
  }

  return {
    record(delivery) {
      if (stopped) return Promise.reject(new Error("the store is closed"));
      const current = (thread ??= start());
      const id = nextId++;
      // The body goes over as bytes in a buffer of its own, handed over rather than copied, so it never
      // becomes a string on the thread's heap; the thread hands it back with the answer (see write).
      const body = Buffer.allocUnsafeSlow(Buffer.byteLength(delivery.body));
      body.write(delivery.body);
      return new Promise((resolve, reject) => {
        current.waiting.set(id, { resolve, reject });
        current.port.ref();
        current.port.postMessage({ id, ...delivery, body }, [body.buffer]);
      });
    },
    async stop() {
      stopped = true;
      const current = thread;
      if (!current) return;
      current.worker.ref();
      current.port.postMessage("stop");
      await current.exited;
    },
  };
}
