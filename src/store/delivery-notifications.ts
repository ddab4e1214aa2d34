/**
 * Postgres's counterpart of commit-watcher.ts. In the PM2 layout the web process stores deliveries and the
 * worker process handles them; polling the inbox every 100 ms added up to 100 ms to every notification. So
 * the transaction that stores a delivery also sends a notification on INBOX_CHANNEL (Postgres delivers it on
 * commit, and not at all after a rollback), and the worker process listens on a connection of its own and
 * wakes its inbox worker at once.
 *
 * A listening connection that drops (the server restarted, a failover, a proxy's idle timeout) is opened
 * again with backoff. Meanwhile the worker's poll still finds every delivery: a missed notification costs
 * latency, never a delivery.
 */
import { sql } from "kysely";
import type { Kysely } from "kysely";
import type pg from "pg";
import type { DatabaseSchema } from "./schema.js";

const INBOX_CHANNEL = "switchboard_inbox";
/** How the listening connection shows in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = "switchboard-inbox-listener";

/** Backoff between attempts to listen again: doubling from the first, up to the last. */
const RETRY_MS = { first: 1000, max: 30_000 };

/** Transactions that already send the notification. */
const announcing = new WeakSet<Kysely<DatabaseSchema>>();

/**
 * Inside the transaction that stores a delivery: tells listening worker processes once it commits. One
 * notification per transaction, however many deliveries a group commit stores in it: the worker reads every
 * pending delivery when woken, and each extra one would cost the webhook path a round trip to the server.
 */
export async function announceDelivery(trx: Kysely<DatabaseSchema>): Promise<void> {
  if (announcing.has(trx)) return;
  announcing.add(trx);
  await sql`select pg_notify(${INBOX_CHANNEL}, '')`.execute(trx);
}

export interface DeliveryListener {
  stop(): Promise<void>;
}

export function listenForDeliveries(options: {
  /** A new, unconnected client for the store's database. */
  createClient: () => pg.Client;
  onDelivery: () => void;
  /** The connection was lost or could not be opened; it is retried. */
  onError: (message: string) => void;
}): DeliveryListener {
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let stopped = false;

  async function listen(): Promise<void> {
    const current = options.createClient();
    client = current;
    current.on("notification", () => options.onDelivery());
    current.on("error", (error) => lost(current, error));
    current.on("end", () => lost(current, new Error("the connection closed")));
    try {
      await current.connect();
      await current.query(`listen ${INBOX_CHANNEL}`);
    } catch (error) {
      lost(current, error);
      return;
    }
    // Deliveries stored while nobody listened: have the worker look now rather than at its next poll.
    if (failures > 0) options.onDelivery();
    failures = 0;
  }

  function lost(which: pg.Client, error: unknown): void {
    if (which !== client || stopped) return;
    client = undefined;
    // A client can still emit 'error' while it ends; without a listener that would crash the process.
    which.on("error", () => undefined);
    void which.end().catch(() => undefined);
    const delay = Math.min(RETRY_MS.max, RETRY_MS.first * 2 ** failures);
    failures += 1;
    const reason = error instanceof Error ? error.message : String(error);
    options.onError(
      `Listening for new deliveries failed (${reason}); trying again in ${Math.round(delay / 1000)} s. ` +
        "Until then the worker finds them by polling the inbox, up to 100 ms later. If this repeats, check " +
        "that the database is reachable and accepts one more connection (max_connections).",
    );
    timer = setTimeout(() => void listen(), delay);
    timer.unref();
  }

  void listen();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
