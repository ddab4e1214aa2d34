/**
 * Ship notices: the Linear follow-up owed for each successful deployment (comment on and move every issue
 * the shipped range names). Written in the webhook's transaction, worked off by the ship-notice worker.
 */
import type { Kysely, Selectable } from "kysely";
import type { DatabaseSchema, ShipNoticeTable } from "./schema.js";

export type ShipNoticeRow = Selectable<ShipNoticeTable>;

/** One notice per deployment: a success delivered twice owes its issues one comment each, not two. */
export async function insertShipNotice(
  db: Kysely<DatabaseSchema>,
  deploymentId: number,
  at: number,
): Promise<void> {
  await db
    .insertInto("ship_notices")
    .values({
      deployment_id: deploymentId,
      status: "pending",
      attempts: 0,
      next_attempt_at: at,
      done_keys: "[]",
      last_error: null,
      created_at: at,
    })
    .onConflict((conflict) => conflict.column("deployment_id").doNothing())
    .execute();
}

export async function findShipNotice(
  db: Kysely<DatabaseSchema>,
  deploymentId: number,
): Promise<ShipNoticeRow | undefined> {
  return db
    .selectFrom("ship_notices")
    .selectAll()
    .where("deployment_id", "=", deploymentId)
    .executeTakeFirst();
}

/** Pending notices due by `now`, oldest first. */
export async function listDueShipNotices(
  db: Kysely<DatabaseSchema>,
  now: number,
  limit: number,
): Promise<ShipNoticeRow[]> {
  return db
    .selectFrom("ship_notices")
    .selectAll()
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now)
    .orderBy("id")
    .limit(limit)
    .execute();
}

/**
 * Take a notice for `leaseMs` by moving its next attempt past the work: true for the one worker whose update
 * found it as listed, so two worker processes never comment on the same issues at once.
 */
export async function claimShipNotice(
  db: Kysely<DatabaseSchema>,
  notice: Pick<ShipNoticeRow, "id" | "next_attempt_at">,
  until: number,
): Promise<boolean> {
  const result = await db
    .updateTable("ship_notices")
    .set({ next_attempt_at: until })
    .where("id", "=", notice.id)
    .where("status", "=", "pending")
    .where("next_attempt_at", "=", notice.next_attempt_at)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Recorded right after each issue is handled, so a retry skips it. */
export async function recordShipNoticeKeys(
  db: Kysely<DatabaseSchema>,
  id: number,
  doneKeys: readonly string[],
): Promise<void> {
  await db
    .updateTable("ship_notices")
    .set({ done_keys: JSON.stringify(doneKeys) })
    .where("id", "=", id)
    .execute();
}

export async function finishShipNotice(
  db: Kysely<DatabaseSchema>,
  id: number,
  outcome: { status: "done" | "failed"; error?: string },
): Promise<void> {
  await db
    .updateTable("ship_notices")
    .set({
      status: outcome.status,
      last_error: outcome.error ?? null,
      attempts: (eb) => eb("attempts", "+", 1),
    })
    .where("id", "=", id)
    .execute();
}

export async function scheduleShipNoticeRetry(
  db: Kysely<DatabaseSchema>,
  id: number,
  retry: { at: number; error: string },
): Promise<void> {
  await db
    .updateTable("ship_notices")
    .set({
      next_attempt_at: retry.at,
      last_error: retry.error,
      attempts: (eb) => eb("attempts", "+", 1),
    })
    .where("id", "=", id)
    .execute();
}
