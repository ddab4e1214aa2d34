/**
 * Opens the store: Kysely over better-sqlite3 (the embedded default) or pg. Everything above this file is
 * dialect-neutral; what must differ between SQLite and Postgres lives here, in one small function each.
 */
import { mkdirSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver } from "kysely";
import type { DatabaseConnection, Driver, SqliteDialectConfig } from "kysely";
import type { DatabaseSchema } from "./schema.js";
import { watchOtherCommits } from "./commit-watcher.js";
import {
  LISTENER_APPLICATION_NAME,
  announceDelivery,
  listenForDeliveries,
} from "./delivery-notifications.js";
import { createGroupCommit } from "./group-commit.js";
import { recordDelivery } from "./inbox-repository.js";
import type { NewDelivery } from "./inbox-repository.js";
import { startInboxWriter } from "./inbox-writer.js";
import { migrateToLatest } from "./migrations.js";
import { withStatementCache } from "./statement-cache.js";
import { startWalCheckpointer } from "./wal-checkpointer.js";

export type Dialect = "sqlite" | "postgres";

export interface Store {
  db: Kysely<DatabaseSchema>;
  dialect: Dialect;
  /** Where the data lives, with any password removed: safe to log. */
  location: string;
  /** SQLite only: the underlying handle, for online backups. */
  sqlite?: SqliteDatabase.Database;
  /**
   * Resolves once every transaction committed before the call is on disk, so it survives a power loss and not
   * only a crash of this process. Call it before telling anyone outside that a write happened (a 202).
   * Other commits survive a crash at once, and a power loss from the next fsync of the WAL: the next call
   * here, or the background checkpoint, which syncs the WAL first and runs every 200 ms.
   */
  durable(): Promise<void>;
  /**
   * Stores a verified webhook delivery unless its id was seen before, and resolves once it is durable: what
   * a 202 waits for. Deliveries arriving together share one commit and one fsync.
   */
  recordDelivery(delivery: NewDelivery): Promise<"new" | "duplicate">;
  /**
   * Calls `onDelivery` soon after another process stored a delivery, so that a worker process (the PM2
   * layout) starts on it at once instead of at its next poll of the inbox, which stays the fallback. SQLite:
   * any commit of another connection (commit-watcher.ts); Postgres: a notification sent by the transaction
   * that stored it (delivery-notifications.ts).
   */
  watchDeliveries(onDelivery: () => void): { stop(): Promise<void> };
  close(): Promise<void>;
}

/** What goes wrong off the request path (a failed background checkpoint); a warning by default. */
export type BackgroundErrorHandler = (message: string) => void;

export async function openStore(
  databaseUrl: string,
  options: { onBackgroundError?: BackgroundErrorHandler } = {},
): Promise<Store> {
  const onBackgroundError = options.onBackgroundError ?? ((message) => process.emitWarning(message));
  const store = databaseUrl.startsWith("sqlite:")
    ? openSqlite(databaseUrl, onBackgroundError)
    : await openPostgres(databaseUrl, onBackgroundError);
  await migrateToLatest(store.db as never, store.dialect);
  return store;
}

/** A PASSIVE checkpoint this often keeps the WAL at a few megabytes under a steady stream of deliveries. */
const CHECKPOINT_INTERVAL_MS = 200;
/** 100,000 pages of 4 kB: about 400 MB of WAL before SQLite checkpoints on the event loop itself. */
const BACKSTOP_CHECKPOINT_PAGES = 100_000;
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** How long a write waits for another writer's lock before it fails (a 503 on the webhook path). */
const BUSY_TIMEOUT_MS = 5000;
/**
 * SQLite's page cache per connection, in KiB (negative, as the pragma takes it). better-sqlite3 builds SQLite
 * with 16 MB per connection, and both connections filled it with bodies: the event loop's with those it reads
 * once, to process them, and the inbox writer's with those it writes. 16 MB each stayed in memory after a
 * burst (measured with heaptrack, and with a web process receiving 10,000 deliveries alone). The hot pages
 * (the outbox, items, the inbox's index) fit in far less, and in WAL mode a connection starts from an empty
 * cache anyway after another connection commits, as happens all the time while deliveries arrive.
 */
const PAGE_CACHE_KIB = -2000;
/** How often a worker process on SQLite looks for another process's commits: its added latency, at most. */
const COMMIT_WATCH_INTERVAL_MS = 10;

function openSqlite(databaseUrl: string, onBackgroundError: BackgroundErrorHandler): Store {
  const path = databaseUrl.slice("sqlite:".length) || ":memory:";
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  // WAL lets readers run beside the writer. synchronous=NORMAL commits without an fsync, which keeps
  // committed data safe from a crash of the process (it is in the OS's cache) but not from a power loss;
  // durable() closes that gap with an fsync of the WAL on libuv's thread pool, shared by every write
  // waiting at that moment. With synchronous=FULL the fsync ran inside each commit and held the event loop
  // (and every webhook waiting on it) for its whole length.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  // Checkpoints run on their own thread (wal-checkpointer.ts). SQLite's own, on the event loop, stays as a
  // backstop far above what that thread lets the WAL reach, for the day the thread cannot keep up.
  sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  // After a checkpoint lets the WAL start over, give back what a burst grew it to.
  sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma(`cache_size = ${PAGE_CACHE_KIB}`);
  const db = new Kysely<DatabaseSchema>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }, sqlite),
  });
  const inMemory = path === ":memory:";
  const checkpointer = inMemory
    ? undefined
    : startWalCheckpointer({
        path,
        intervalMs: CHECKPOINT_INTERVAL_MS,
        onError: (message) =>
          onBackgroundError(
            `WAL checkpoint failed: ${message}. The ${path}-wal file grows until this is fixed: check the ` +
              "free disk space and that Switchboard may write the database folder.",
          ),
      });
  const durable = inMemory ? async () => undefined : createSyncBarrier(walFsync(`${path}-wal`));
  // On disk, deliveries are written from a thread of their own (inbox-writer.ts), started with the first.
  const inboxWriter = inMemory
    ? undefined
    : startInboxWriter({
        path,
        busyTimeoutMs: BUSY_TIMEOUT_MS,
        pageCacheKib: PAGE_CACHE_KIB,
        onError: (message) =>
          onBackgroundError(
            `${message}. The deliveries it held were answered 503 (their senders retry) and the next one ` +
              "starts a new thread; if this repeats, check the error it names and the free memory.",
          ),
      });
  return {
    db,
    dialect: "sqlite",
    location: `sqlite:${path}`,
    sqlite,
    durable,
    recordDelivery: inboxWriter
      ? (delivery) => inboxWriter.record(delivery)
      : createGroupCommit({ db, durable }, recordDelivery),
    watchDeliveries(onDelivery) {
      // In memory, no other process can store anything.
      if (inMemory) return { stop: async () => undefined };
      const watcher = watchOtherCommits(sqlite, {
        intervalMs: COMMIT_WATCH_INTERVAL_MS,
        onCommit: onDelivery,
      });
      return { stop: async () => watcher.stop() };
    },
    async close() {
      await inboxWriter?.stop();
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

const BEGIN_IMMEDIATE = CompiledQuery.raw("begin immediate");

/**
 * Transactions start with BEGIN IMMEDIATE, taking the write lock at once. A deferred transaction that reads
 * first and writes later fails with SQLITE_BUSY_SNAPSHOT, without waiting, when another writer (the inbox
 * writer's thread, or another process of the PM2 layout) committed in between; an immediate one waits its
 * turn instead.
 *
 * It waits off the event loop: SQLite's own busy handler sleeps inside the call, holding every request
 * meanwhile, so the lock is asked for without waiting and, while another writer holds it, asked again
 * after a timer, for up to busy_timeout.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #noWait: SqliteDatabase.Statement;
  readonly #wait: SqliteDatabase.Statement;

  constructor(settings: SqliteDialectConfig, sqlite: SqliteDatabase.Database) {
    super(settings);
    this.#noWait = sqlite.prepare("pragma busy_timeout = 0");
    this.#wait = sqlite.prepare(`pragma busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      this.#noWait.get();
      try {
        await connection.executeQuery(BEGIN_IMMEDIATE);
        return;
      } catch (error) {
        // SQLITE_BUSY, or an extended form of it such as SQLITE_BUSY_RECOVERY: another writer, wait.
        const code = (error as { code?: unknown }).code;
        const busy = typeof code === "string" && code.startsWith("SQLITE_BUSY");
        if (!busy || performance.now() - started > BUSY_TIMEOUT_MS) throw error;
      } finally {
        this.#wait.get();
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(attempt, 10)));
    }
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly settings: SqliteDialectConfig,
    private readonly sqlite: SqliteDatabase.Database,
  ) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings, this.sqlite);
  }
}

async function openPostgres(databaseUrl: string, onBackgroundError: BackgroundErrorHandler): Promise<Store> {
  // Loaded only here: most installations run on SQLite and need not carry the driver in memory.
  const { default: pg } = await import("pg");
  // int8 (bigint) columns hold epoch milliseconds, well inside Number's safe range.
  pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  // Shown on /readyz, which anyone can read: drop the password, and the query too, since libpq-style
  // parameters (`?password=`, `sslpassword=`) carry credentials as well.
  const safe = new URL(databaseUrl);
  safe.password = "";
  safe.search = "";
  // A Postgres commit returns once it is flushed (synchronous_commit=on, the default).
  const durable = async () => undefined;
  return {
    db,
    dialect: "postgres",
    location: safe.toString(),
    durable,
    recordDelivery: createGroupCommit({ db, durable }, recordAndAnnounce),
    watchDeliveries: (onDelivery) =>
      listenForDeliveries({
        createClient: () =>
          new pg.Client({ connectionString: databaseUrl, application_name: LISTENER_APPLICATION_NAME }),
        onDelivery,
        onError: onBackgroundError,
      }),
    close: () => db.destroy(),
  };
}

/** recordDelivery, and a notification for worker processes in the same transaction when the delivery is new. */
async function recordAndAnnounce(
  db: Kysely<DatabaseSchema>,
  delivery: NewDelivery,
): Promise<"new" | "duplicate"> {
  if (!db.isTransaction) return db.transaction().execute((trx) => recordAndAnnounce(trx, delivery));
  const result = await recordDelivery(db, delivery);
  if (result === "new") await announceDelivery(db);
  return result;
}

/**
 * An fsync of SQLite's WAL. The first also syncs the folder, so that the WAL file's own name survives a power
 * loss. The WAL exists from the first statement until the last connection closes; a missing one is an
 * error, never "nothing to sync", so that a wrong path cannot quietly turn durability off.
 */
function walFsync(walPath: string): () => Promise<void> {
  let folderSynced = false;
  return async () => {
    await fsyncFile(walPath, "r+");
    if (!folderSynced) await fsyncFile(dirname(walPath), "r");
    folderSynced = true;
  };
}

/**
 * Shares one sync among everyone waiting: callers that arrive while a sync runs wait for the next one, which
 * starts when the running one ends and covers all of them (the running one may have started before their
 * commit). So a burst of commits costs two syncs, not one each.
 */
export function createSyncBarrier(sync: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;

  const syncNow = (): Promise<void> => {
    running = sync().finally(() => {
      running = undefined;
    });
    return running;
  };

  return () => {
    if (!running) return syncNow();
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return syncNow();
      });
    return next;
  };
}

async function fsyncFile(path: string, flags: "r" | "r+"): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
