/**
 * The inbox: every verified delivery, stored before it is acknowledged, processed exactly once. Its body lives
 * in `inbox_bodies`, written once, so that the row's status changes stay small writes.
 */
import type { Kysely, Selectable } from "kysely";
import type { DatabaseSchema, InboxStatus, InboxTable } from "./schema.js";

/** A delivery with its body, as the inbox worker processes it. */
export type InboxRow = Selectable<InboxTable> & { body: string };

export interface NewDelivery {
  source: "github" | "linear";
  deliveryId: string;
  event: string;
  body: string;
  receivedAt: number;
}

/**
 * Store a delivery unless its id was seen before. "duplicate" is how a sender's redelivery looks. The row and
 * its body are written together: in the caller's transaction, or in one of their own.
 */
export async function recordDelivery(
  db: Kysely<DatabaseSchema>,
  delivery: NewDelivery,
): Promise<"new" | "duplicate"> {
  if (!db.isTransaction) return db.transaction().execute((trx) => recordDelivery(trx, delivery));
  const inserted = await db
    .insertInto("inbox")
    .values({
      source: delivery.source,
      delivery_id: delivery.deliveryId,
      event: delivery.event,
      received_at: delivery.receivedAt,
      status: "pending",
      event_name: null,
      detail: null,
      processed_at: null,
    })
    .onConflict((conflict) => conflict.columns(["source", "delivery_id"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  if (!inserted) return "duplicate";
  await db.insertInto("inbox_bodies").values({ inbox_id: inserted.id, body: delivery.body }).execute();
  return "new";
}

export async function listPendingDeliveries(db: Kysely<DatabaseSchema>, limit: number): Promise<InboxRow[]> {
  return db
    .selectFrom("inbox")
    .innerJoin("inbox_bodies", "inbox_bodies.inbox_id", "inbox.id")
    .selectAll("inbox")
    .select("inbox_bodies.body")
    .where("inbox.status", "=", "pending")
    .orderBy("inbox.id")
    .limit(limit)
    .execute();
}

export async function finishDelivery(
  db: Kysely<DatabaseSchema>,
  id: number,
  outcome: {
    status: Exclude<InboxStatus, "pending">;
    eventName: string | null;
    detail: string | null;
    at: number;
  },
): Promise<void> {
  await db
    .updateTable("inbox")
    .set({
      status: outcome.status,
      event_name: outcome.eventName,
      detail: outcome.detail,
      processed_at: outcome.at,
      attempts: (eb) => eb("attempts", "+", 1),
    })
    .where("id", "=", id)
    .execute();
}

/** Count a failed processing attempt; the delivery stays pending so it is tried again. */
export async function recordDeliveryAttempt(
  db: Kysely<DatabaseSchema>,
  id: number,
  error: string,
): Promise<number> {
  const row = await db
    .updateTable("inbox")
    .set({ attempts: (eb) => eb("attempts", "+", 1), detail: error })
    .where("id", "=", id)
    .returning("attempts")
    .executeTakeFirst();
  return row?.attempts ?? 0;
}

/** The newest delivery per source, for /status and /readyz. */
export async function latestDeliveryTimes(db: Kysely<DatabaseSchema>): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom("inbox")
    .select(["source", (eb) => eb.fn.max("received_at").as("latest")])
    .groupBy("source")
    .execute();
  return Object.fromEntries(rows.map((row) => [row.source, Number(row.latest)]));
}

/** How many deliveries are in each state, for the status page. */
export async function countDeliveriesByStatus(
  db: Kysely<DatabaseSchema>,
): Promise<Record<InboxStatus, number>> {
  const rows = await db
    .selectFrom("inbox")
    .select(["status", (eb) => eb.fn.countAll<number>().as("count")])
    .groupBy("status")
    .execute();
  const counts: Record<InboxStatus, number> = { pending: 0, processed: 0, ignored: 0, failed: 0 };
  for (const row of rows) counts[row.status] = Number(row.count);
  return counts;
}
