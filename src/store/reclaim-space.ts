/**
 * Giving freed pages back to the file system after pruning, the one step that differs by dialect.
 *
 * SQLite keeps deleted pages in the file for reuse, so without this the file only ever grows to its
 * high-water mark. The first call switches the database to incremental auto-vacuum, which takes one full
 * VACUUM (a rewrite of the file: a long lock on a large database, once); every later call runs
 * `PRAGMA incremental_vacuum`, which only truncates free pages and is cheap.
 * Postgres: autovacuum already marks dead rows for reuse; returning space to the OS needs VACUUM FULL,
 * which locks tables exclusively, so it is left to the operator.
 */
import type { Store } from "./database.js";

export interface ReclaimResult {
  /** What was done: "incremental_vacuum", "vacuum" (the one-time switch), or "none". */
  method: "incremental_vacuum" | "vacuum" | "none";
  /** Free pages before, on SQLite. */
  freePagesBefore?: number;
}

/** SQLite's auto_vacuum modes: 0 none, 1 full, 2 incremental. */
const INCREMENTAL = 2;

export async function reclaimSpace(store: Pick<Store, "dialect" | "sqlite">, options: { dryRun: boolean }) {
  const sqlite = store.sqlite;
  if (store.dialect !== "sqlite" || !sqlite) return { method: "none" } satisfies ReclaimResult;
  const freePagesBefore = Number(sqlite.pragma("freelist_count", { simple: true }));
  const incremental = Number(sqlite.pragma("auto_vacuum", { simple: true })) === INCREMENTAL;
  if (options.dryRun) {
    return { method: incremental ? "incremental_vacuum" : "vacuum", freePagesBefore } satisfies ReclaimResult;
  }
  if (incremental) {
    sqlite.pragma("incremental_vacuum");
    return { method: "incremental_vacuum", freePagesBefore } satisfies ReclaimResult;
  }
  // auto_vacuum can only change on an empty database or through VACUUM, which applies it.
  sqlite.pragma("auto_vacuum = INCREMENTAL");
  sqlite.exec("VACUUM");
  return { method: "vacuum", freePagesBefore } satisfies ReclaimResult;
}
