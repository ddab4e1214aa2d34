/**
 * Backup and restore of the embedded SQLite store. A backup uses SQLite's online backup API, so it is a
 * consistent copy even while Switchboard runs and writes; a restore replaces the database file and must run
 * while Switchboard is stopped. Postgres deployments use pg_dump / pg_restore instead.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";

export function sqlitePathOf(databaseUrl: string): string {
  if (!databaseUrl.startsWith("sqlite:")) {
    throw new Error(
      "backup and restore handle the embedded SQLite store; for Postgres use pg_dump and pg_restore.",
    );
  }
  const path = databaseUrl.slice("sqlite:".length);
  if (!path || path === ":memory:")
    throw new Error("DATABASE_URL points at an in-memory database: nothing to back up.");
  return path;
}

/** Copies the live database to `target`; returns the number of pages copied. */
export async function backupSqlite(databasePath: string, target: string): Promise<number> {
  if (!existsSync(databasePath)) throw new Error(`No database at ${databasePath}: check DATABASE_URL.`);
  mkdirSync(dirname(target), { recursive: true });
  const source = new SqliteDatabase(databasePath, { fileMustExist: true });
  try {
    source.pragma("busy_timeout = 5000");
    const progress = await source.backup(target);
    return progress.totalPages;
  } finally {
    source.close();
  }
}

/**
 * Replaces the database at `databasePath` with `backup` after checking the backup is an intact Switchboard
 * database. The old file is kept beside it as `<path>.before-restore` until the next restore.
 */
export function restoreSqlite(backup: string, databasePath: string): void {
  if (!existsSync(backup)) throw new Error(`No backup file at ${backup}.`);
  const check = new SqliteDatabase(backup, { readonly: true, fileMustExist: true });
  try {
    const integrity = check.pragma("integrity_check", { simple: true });
    if (integrity !== "ok") throw new Error(`${backup} is damaged (integrity_check: ${String(integrity)}).`);
    const hasInbox = check
      .prepare("select 1 from sqlite_master where type = 'table' and name = 'inbox'")
      .get();
    if (!hasInbox) throw new Error(`${backup} is not a Switchboard database (no inbox table).`);
  } catch (error) {
    if (error instanceof Error && /file is not a database/i.test(error.message)) {
      throw new Error(`${backup} is not an SQLite database.`);
    }
    throw error;
  } finally {
    check.close();
  }
  mkdirSync(dirname(databasePath), { recursive: true });
  const staged = `${databasePath}.restoring`;
  copyFileSync(backup, staged);
  if (existsSync(databasePath)) renameSync(databasePath, `${databasePath}.before-restore`);
  // The write-ahead log belongs to the replaced file: leaving it would replay old pages onto the backup.
  for (const suffix of ["-wal", "-shm"]) rmSync(`${databasePath}${suffix}`, { force: true });
  renameSync(staged, databasePath);
}
