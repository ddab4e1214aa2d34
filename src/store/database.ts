/**
 * Opens the store: Kysely over better-sqlite3 (the embedded default) or pg. Everything above this file is
 * dialect-neutral; what must differ between SQLite and Postgres lives here, in one small function each.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import type { DatabaseSchema } from "./schema.js";
import { migrateToLatest } from "./migrations.js";
import { withStatementCache } from "./statement-cache.js";

export type Dialect = "sqlite" | "postgres";

export interface Store {
  db: Kysely<DatabaseSchema>;
  dialect: Dialect;
  /** Where the data lives, with any password removed: safe to log. */
  location: string;
  /** SQLite only: the underlying handle, for online backups. */
  sqlite?: SqliteDatabase.Database;
  close(): Promise<void>;
}

export async function openStore(databaseUrl: string): Promise<Store> {
  const store = databaseUrl.startsWith("sqlite:") ? openSqlite(databaseUrl) : openPostgres(databaseUrl);
  await migrateToLatest(store.db as never, store.dialect);
  return store;
}

function openSqlite(databaseUrl: string): Store {
  const path = databaseUrl.slice("sqlite:".length) || ":memory:";
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  // WAL lets readers run beside the writer; synchronous=FULL makes every acknowledged delivery survive a
  // power loss, not only a process crash, which is the promise behind answering 202.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  const db = new Kysely<DatabaseSchema>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
  return {
    db,
    dialect: "sqlite",
    location: `sqlite:${path}`,
    sqlite,
    close: () => db.destroy(),
  };
}

function openPostgres(databaseUrl: string): Store {
  // int8 (bigint) columns hold epoch milliseconds, well inside Number's safe range.
  pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  // Shown on /readyz, which anyone can read: drop the password, and the query too, since libpq-style
  // parameters (`?password=`, `sslpassword=`) carry credentials as well.
  const safe = new URL(databaseUrl);
  safe.password = "";
  safe.search = "";
  return { db, dialect: "postgres", location: safe.toString(), close: () => db.destroy() };
}
