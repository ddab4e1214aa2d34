/**
 * Group commit: small writes that arrive together share one transaction and one fsync. better-sqlite3 runs
 * on the event loop, so a transaction per write would cost every request waiting meanwhile. Writes requested
 * in the same turn of the event loop (a burst of webhooks, several channels' messages confirmed at once) are
 * committed together instead, and then made durable together (Store.durable, an fsync off the event loop).
 *
 * What a caller sees does not change: its promise settles only after the commit holding its write is on
 * disk, with the write's own result, so nothing is acknowledged before it is durable. Batching adds no
 * waiting of its own: a batch is flushed in the check phase of the turn its first write arrived in, and
 * writes arriving while a flush runs go in the next one, which commits while the previous batch's fsync
 * runs. If a batch fails, each write is retried alone, so one bad row fails only its own caller, as it
 * would without batching.
 */
import type { Kysely } from "kysely";
import type { Store } from "./database.js";
import type { DatabaseSchema } from "./schema.js";

/** Bounds one transaction, and the event-loop time it holds: about 2 MB of typical GitHub payloads. */
const DEFAULT_MAX_BATCH = 100;

type Settled<R> = { value: R } | { error: unknown };

interface Waiting<I, R> {
  input: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/** `write` must do all its work through the handle it is given: the batch's transaction, or `db` alone. */
export function createGroupCommit<I, R>(
  store: Pick<Store, "db" | "durable">,
  write: (db: Kysely<DatabaseSchema>, input: I) => Promise<R>,
  options: { maxBatch?: number } = {},
): (input: I) => Promise<R> {
  const { db } = store;
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
    const batch = queue.splice(0, maxBatch);
    let committed: Array<Settled<R>>;
    try {
      committed = await commit(batch);
    } finally {
      flushing = false;
      if (queue.length > 0) schedule();
    }
    // The next batch may commit while this one waits for the disk.
    const onDisk = await store.durable().then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    batch.forEach((waiting, index) => {
      const settled = committed[index]!;
      if (onDisk) waiting.reject(onDisk.error);
      else if ("error" in settled) waiting.reject(settled.error);
      else waiting.resolve(settled.value);
    });
  }

  async function commit(batch: Array<Waiting<I, R>>): Promise<Array<Settled<R>>> {
    const alone = (waiting: Waiting<I, R>) =>
      write(db, waiting.input).then(
        (value): Settled<R> => ({ value }),
        (error: unknown): Settled<R> => ({ error }),
      );
    if (batch.length === 1) return [await alone(batch[0]!)];
    try {
      const results = await db.transaction().execute(async (trx) => {
        const out: R[] = [];
        for (const waiting of batch) out.push(await write(trx, waiting.input));
        return out;
      });
      return results.map((value) => ({ value }));
    } catch {
      const settled: Array<Settled<R>> = [];
      for (const waiting of batch) settled.push(await alone(waiting));
      return settled;
    }
  }

  return (input) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      schedule();
    });
}
