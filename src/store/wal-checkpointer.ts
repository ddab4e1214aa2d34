/**
 * Checkpoints SQLite's WAL from a thread of its own. A checkpoint copies the WAL's pages into the database
 * file and fsyncs both; left to SQLite's automatic checkpoint it runs inside whichever commit crosses the
 * threshold, on the event loop, and every webhook waiting meanwhile waits for two fsyncs of megabytes. Here
 * a second connection, on a worker thread, runs a PASSIVE checkpoint every `intervalMs`: it never blocks the
 * writer, and a checkpoint that cannot finish (readers, a busy writer) is simply taken up again next time.
 *
 * The thread's script is inline CommonJS so that it runs the same from dist/ and from the TypeScript sources
 * the tests load; it loads better-sqlite3 by the path this module resolves, whatever the working directory.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

export interface WalCheckpointer {
  /** Stops the thread after the checkpoint in progress, if any. */
  stop(): Promise<void>;
}

const THREAD_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.sqliteModule);
const db = new Database(workerData.path, { fileMustExist: true });
// A checkpoint then syncs the WAL before copying it, and the database file after.
db.pragma("synchronous = NORMAL");
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message ? error.message : error) });
  }
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startWalCheckpointer(options: {
  path: string;
  intervalMs: number;
  onError: (message: string) => void;
}): WalCheckpointer {
  const sqliteModule = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: { path: options.path, intervalMs: options.intervalMs, sqliteModule },
    // It holds one prepared statement: keep its heap, and so the process's memory, small.
    resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
  });
  worker.on("message", (message: { error?: string }) => {
    if (message.error) options.onError(message.error);
  });
  worker.on("error", (error) => options.onError(error.message));
  // Never what keeps a process alive: a CLI command that opened the store exits when it is done.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    async stop() {
      // Referenced again, or a process with nothing else left to do would exit before hearing back.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
