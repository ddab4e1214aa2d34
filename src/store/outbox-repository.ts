/** The outbox: messages waiting for Discord, with the progress of each multi-step operation. */
import { sql } from "kysely";
import type { Insertable, Kysely, Selectable, Updateable } from "kysely";
import type { DatabaseSchema, OutboxTable } from "./schema.js";

export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;

const PENDING = "pending";

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
 * The head of each channel's queue (its oldest pending message), oldest first, at most `limit` of them.
 *
 * The worker asks after every message it sends. It used to read the 500 oldest pending rows and pick the
 * heads among them: 0.9 ms a time once the queue was that long, more than all the pipeline's other queries
 * together under load, and a channel whose head was not among those 500 waited for the others' backlog.
 * This walks the (status, channel_id, id) index instead, one seek per channel (a "loose index scan", which
 * neither SQLite nor Postgres does on its own): its cost follows the number of channels, not the queue.
 */
export async function listQueueHeads(db: Kysely<DatabaseSchema>, limit: number): Promise<OutboxRow[]> {
  // The heads' ids first: asked for whole rows in the same statement, SQLite's plan took twice as long.
  const { rows: heads } = await sql<{ id: number }>`
    with recursive channels (channel_id) as (
      select min(channel_id) from outbox where status = ${PENDING}
      union all
      select (select min(o.channel_id) from outbox o where o.status = ${PENDING} and o.channel_id > c.channel_id)
      from channels c where c.channel_id is not null
    )
    select (select min(o.id) from outbox o where o.status = ${PENDING} and o.channel_id = c.channel_id) as id
    from channels c where c.channel_id is not null`.execute(db);
  if (heads.length === 0) return [];
  return db
    .selectFrom("outbox")
    .selectAll()
    .where(
      "id",
      "in",
      heads.map((head) => head.id),
    )
    .orderBy("id")
    .limit(limit)
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

/**
 * Retry and dead-letter apply to pending messages only, and say whether the message still was. A failure can
 * come after the message was marked sent: the commit went through and only the fsync after it failed.
 * Turned dead, it would be offered to `switchboard outbox retry`, and posted twice.
 */
export async function scheduleRetry(
  db: Kysely<DatabaseSchema>,
  id: number,
  retry: { at: number; error: string },
): Promise<boolean> {
  const result = await db
    .updateTable("outbox")
    .set({ next_attempt_at: retry.at, last_error: retry.error, attempts: (eb) => eb("attempts", "+", 1) })
    .where("id", "=", id)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function markDead(db: Kysely<DatabaseSchema>, id: number, error: string): Promise<boolean> {
  const result = await db
    .updateTable("outbox")
    .set({ status: "dead", last_error: error, attempts: (eb) => eb("attempts", "+", 1) })
    .where("id", "=", id)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
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
