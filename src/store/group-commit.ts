/**
 * Group commit: small writes that arrive together share one transaction. With synchronous=FULL every commit
 * waits for an fsync, and better-sqlite3 waits on the event loop, so a commit per write caps a busy instance
 * at one write per fsync and stalls every request meanwhile. Writes requested in the same turn of the event
 * loop (a burst of webhooks, several channels' messages confirmed at once) are committed together instead:
 * one fsync for all of them.
 *
 * What a caller sees does not change: its promise settles only after the commit holding its write, with the
 * write's own result, so nothing is acknowledged before it is durable. Batching adds no waiting of its own:
 * a batch is flushed in the check phase of the turn its first write arrived in, and writes arriving while a
 * flush runs go in the next one. If a batch fails, each write is retried alone, so one bad row fails only
 * its own caller, as it would without batching.
 */
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "./schema.js";

/** Bounds one transaction, and the event-loop time it holds: about 2 MB of typical GitHub payloads. */
const DEFAULT_MAX_BATCH = 100;

interface Waiting<I, R> {
  input: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/** `write` must do all its work through the handle it is given: the batch's transaction, or `db` alone. */
export function createGroupCommit<I, R>(
  db: Kysely<DatabaseSchema>,
  write: (db: Kysely<DatabaseSchema>, input: I) => Promise<R>,
  options: { maxBatch?: number } = {},
): (input: I) => Promise<R> {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const queue: Array<Waiting<I, R>> = [];
  let scheduled = false;
  let flushing = false;

  function schedule(): void {
    if (scheduled || flushing) return;
    scheduled = true;
    setImmediate(() => void flush());
  }

  async function flush(): Promise<void> {
    scheduled = false;
    flushing = true;
    try {
      await commit(queue.splice(0, maxBatch));
    } finally {
      flushing = false;
      if (queue.length > 0) schedule();
    }
  }

  async function commit(batch: Array<Waiting<I, R>>): Promise<void> {
    if (batch.length === 1) {
      await write(db, batch[0]!.input).then(batch[0]!.resolve, batch[0]!.reject);
      return;
    }
    let results: R[];
    try {
      results = await db.transaction().execute(async (trx) => {
        const out: R[] = [];
        for (const waiting of batch) out.push(await write(trx, waiting.input));
        return out;
      });
    } catch {
      for (const waiting of batch) await write(db, waiting.input).then(waiting.resolve, waiting.reject);
      return;
    }
    batch.forEach((waiting, index) => waiting.resolve(results[index]!));
  }

  return (input) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      schedule();
    });
}
