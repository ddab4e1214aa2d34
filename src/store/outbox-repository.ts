/** The outbox: messages waiting for Discord, with the progress of each multi-step operation. */
import type { Insertable, Kysely, Selectable, Updateable } from "kysely";
import type { DatabaseSchema, OutboxTable } from "./schema.js";

export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;

export async function enqueueMessages(db: Kysely<DatabaseSchema>, rows: NewOutboxRow[]): Promise<void> {
  if (rows.length > 0) await db.insertInto("outbox").values(rows).execute();
}

/** Pending rows, oldest first; the worker picks the head of each channel's queue from these. */
export async function listPendingMessages(db: Kysely<DatabaseSchema>, limit: number): Promise<OutboxRow[]> {
  return db
    .selectFrom("outbox")
    .selectAll()
    .where("status", "=", "pending")
    .orderBy("id")
    .limit(limit)
    .execute();
}

/**
 * The head of each channel's queue (its oldest pending message) among the `scanLimit` oldest pending, oldest
 * first. The scan reads two small columns; only the heads are read whole, so a long backlog costs the worker
 * little for each message it sends.
 */
export async function listQueueHeads(db: Kysely<DatabaseSchema>, scanLimit: number): Promise<OutboxRow[]> {
  const pending = await db
    .selectFrom("outbox")
    .select(["id", "channel_id"])
    .where("status", "=", "pending")
    .orderBy("id")
    .limit(scanLimit)
    .execute();
  const heads = new Map<string, number>();
  for (const row of pending) if (!heads.has(row.channel_id)) heads.set(row.channel_id, row.id);
  if (heads.size === 0) return [];
  return db
    .selectFrom("outbox")
    .selectAll()
    .where("id", "in", [...heads.values()])
    .orderBy("id")
    .execute();
}

/** Save what a step achieved (a message id, a thread id) so a retry resumes after it. */
export async function recordProgress(
  db: Kysely<DatabaseSchema>,
  id: number,
  progress: Pick<Updateable<OutboxTable>, "message_id" | "thread_id" | "reply_id">,
): Promise<void> {
  await db.updateTable("outbox").set(progress).where("id", "=", id).execute();
}

export async function markSent(db: Kysely<DatabaseSchema>, id: number, at: number): Promise<void> {
  await db
    .updateTable("outbox")
    .set({ status: "sent", sent_at: at, last_error: null, attempts: (eb) => eb("attempts", "+", 1) })
    .where("id", "=", id)
    .execute();
}

export async function scheduleRetry(
  db: Kysely<DatabaseSchema>,
  id: number,
  retry: { at: number; error: string },
): Promise<void> {
  await db
    .updateTable("outbox")
    .set({ next_attempt_at: retry.at, last_error: retry.error, attempts: (eb) => eb("attempts", "+", 1) })
    .where("id", "=", id)
    .execute();
}

export async function markDead(db: Kysely<DatabaseSchema>, id: number, error: string): Promise<void> {
  await db
    .updateTable("outbox")
    .set({ status: "dead", last_error: error, attempts: (eb) => eb("attempts", "+", 1) })
    .where("id", "=", id)
    .execute();
}

export async function countMessagesByStatus(
  db: Kysely<DatabaseSchema>,
): Promise<Record<"pending" | "sent" | "dead", number>> {
  const rows = await db
    .selectFrom("outbox")
    .select(["status", (eb) => eb.fn.countAll<number>().as("count")])
    .groupBy("status")
    .execute();
  const counts = { pending: 0, sent: 0, dead: 0 };
  for (const row of rows) counts[row.status] = Number(row.count);
  return counts;
}

/** The latest dead letters, for /readyz and the operator. */
export async function listDeadMessages(db: Kysely<DatabaseSchema>, limit: number): Promise<OutboxRow[]> {
  return db
    .selectFrom("outbox")
    .selectAll()
    .where("status", "=", "dead")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}

/**
 * Give dead letters another round of attempts (`switchboard outbox retry`): all of them, or the listed ids.
 * Returns how many were requeued.
 */
export async function requeueDeadMessages(
  db: Kysely<DatabaseSchema>,
  at: number,
  ids?: number[],
): Promise<number> {
  let query = db
    .updateTable("outbox")
    .set({ status: "pending", attempts: 0, next_attempt_at: at })
    .where("status", "=", "dead");
  if (ids && ids.length > 0) query = query.where("id", "in", ids);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
