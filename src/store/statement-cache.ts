/**
 * Prepared statements, kept. Kysely's SQLite driver prepares every query afresh, so SQLite parses and plans
 * the same few dozen statements for every delivery; on the webhook path that was several percent of the time.
 * The store's queries are a small, fixed set (parameters are bound, never inlined), so a bounded map by SQL
 * text holds them all.
 *
 * Safe with Kysely's driver: it runs one query at a time on its single connection and a statement is done
 * when `all` or `run` returns. A statement being iterated (Kysely's `.stream()`) cannot run again until the
 * iteration ends, so `iterate` gets a statement of its own.
 */
import type { Database, Statement } from "better-sqlite3";
import type { SqliteDatabase, SqliteStatement } from "kysely";

/** Far above the number of distinct statements the store issues; a bound in case one ever inlines values. */
const MAX_CACHED = 500;

export function withStatementCache(sqlite: Database): SqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string): SqliteStatement {
      let statement = cache.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      const cached = statement;
      return {
        reader: cached.reader,
        all: (parameters) => cached.all(...parameters),
        run: (parameters) => cached.run(...parameters),
        iterate: (parameters) => sqlite.prepare(sql).iterate(...parameters),
      };
    },
  };
}
