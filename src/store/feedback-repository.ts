/**
 * Feedback captures: which Discord message became which Linear issue. The message id is the idempotency
 * key, whether the capture came from a reaction or the context menu, however many reactions arrive.
 *
 * The row is claimed before Linear is asked (insert ... on conflict do nothing: exactly one of any number of
 * concurrent callers inserts it, on SQLite and Postgres alike), and filled in once the issue exists. A claim
 * left 'creating' by a crash is taken over after `staleAfterMs` with a compare-and-set on its claim time,
 * so two retries cannot both win either.
 */
import type { Kysely, Selectable } from "kysely";
import type { DatabaseSchema, FeedbackCaptureTable } from "./schema.js";

export type FeedbackCapture = Selectable<FeedbackCaptureTable>;

export type FeedbackClaim =
  /** This caller owns the capture and must create the issue. `retry`: an earlier attempt may have got far. */
  | { outcome: "claimed"; retry: boolean }
  | { outcome: "created"; capture: FeedbackCapture }
  /** Another caller is creating the issue right now. */
  | { outcome: "in-progress"; capture: FeedbackCapture };

export async function claimFeedbackCapture(
  db: Kysely<DatabaseSchema>,
  claim: { messageId: string; channelId: string; guildId: string | null; createdBy: string; now: number },
  staleAfterMs: number,
): Promise<FeedbackClaim> {
  const inserted = await db
    .insertInto("feedback_captures")
    .values({
      message_id: claim.messageId,
      channel_id: claim.channelId,
      guild_id: claim.guildId,
      issue_id: null,
      issue_identifier: null,
      issue_url: null,
      status: "creating",
      created_by: claim.createdBy,
      created_at: claim.now,
    })
    .onConflict((conflict) => conflict.column("message_id").doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return { outcome: "claimed", retry: false };

  const existing = await findFeedbackCapture(db, claim.messageId);
  if (!existing) throw new Error(`feedback capture ${claim.messageId} conflicted but cannot be read`);
  if (existing.status === "created") return { outcome: "created", capture: existing };
  if (claim.now - existing.created_at < staleAfterMs) return { outcome: "in-progress", capture: existing };

  const takenOver = await db
    .updateTable("feedback_captures")
    .set({ created_by: claim.createdBy, created_at: claim.now })
    .where("message_id", "=", claim.messageId)
    .where("status", "=", "creating")
    .where("created_at", "=", existing.created_at)
    .executeTakeFirst();
  if (Number(takenOver.numUpdatedRows) === 1) return { outcome: "claimed", retry: true };
  const current = (await findFeedbackCapture(db, claim.messageId)) ?? existing;
  return current.status === "created"
    ? { outcome: "created", capture: current }
    : { outcome: "in-progress", capture: current };
}

export async function completeFeedbackCapture(
  db: Kysely<DatabaseSchema>,
  messageId: string,
  issue: { id: string; identifier: string; url: string },
): Promise<void> {
  await db
    .updateTable("feedback_captures")
    .set({ status: "created", issue_id: issue.id, issue_identifier: issue.identifier, issue_url: issue.url })
    .where("message_id", "=", messageId)
    .execute();
}

/**
 * Give up a claim after a failed attempt, so the next reaction or menu use takes it over at once. The row
 * stays (claim time 0 makes it stale): the next attempt is a retry and first looks for an issue this one may
 * have created after all, e.g. when Linear answered too late.
 */
export async function releaseFeedbackClaim(db: Kysely<DatabaseSchema>, messageId: string): Promise<void> {
  await db
    .updateTable("feedback_captures")
    .set({ created_at: 0 })
    .where("message_id", "=", messageId)
    .where("status", "=", "creating")
    .execute();
}

export async function findFeedbackCapture(
  db: Kysely<DatabaseSchema>,
  messageId: string,
): Promise<FeedbackCapture | undefined> {
  return db
    .selectFrom("feedback_captures")
    .selectAll()
    .where("message_id", "=", messageId)
    .executeTakeFirst();
}
