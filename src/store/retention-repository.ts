/**
 * Pruning old records, for the retention job. Each kind of record has its own cutoff (epoch ms): rows older
 * than it go. A dry run performs the same deletes inside a transaction and rolls it back, so the counts it
 * reports are exactly what a real run would delete, from one set of conditions.
 */
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "./schema.js";

export interface RetentionCutoffs {
  /** Processed, ignored and failed deliveries (never pending ones), by received_at. */
  inbox: number;
  /** Sent messages, by sent_at. */
  outboxSent: number;
  /** Dead letters, by created_at. */
  outboxDead: number;
  audit: number;
  /** Job runs, stale-PR reminder records, finished ship notices and release previews (dead after 30 minutes). */
  jobRuns: number;
  /**
   * Item snapshots and card records (PRs, issues, deployments) with no event since, and feedback captures:
   * a later event about such an item opens a new card instead of editing the old one.
   */
  items: number;
}

export type RetentionCounts = Record<keyof RetentionCutoffs, number>;

class RollBackDryRun extends Error {}

export async function pruneRecords(
  db: Kysely<DatabaseSchema>,
  cutoffs: RetentionCutoffs,
  options: { dryRun: boolean },
): Promise<RetentionCounts> {
  let counts: RetentionCounts | undefined;
  try {
    await db.transaction().execute(async (trx) => {
      const deleted = async (query: { executeTakeFirst(): Promise<{ numDeletedRows: bigint }> }) =>
        Number((await query.executeTakeFirst()).numDeletedRows);
      counts = {
        inbox: await deleted(
          trx.deleteFrom("inbox").where("status", "!=", "pending").where("received_at", "<", cutoffs.inbox),
        ),
        outboxSent: await deleted(
          trx.deleteFrom("outbox").where("status", "=", "sent").where("sent_at", "<", cutoffs.outboxSent),
        ),
        outboxDead: await deleted(
          trx.deleteFrom("outbox").where("status", "=", "dead").where("created_at", "<", cutoffs.outboxDead),
        ),
        audit: await deleted(trx.deleteFrom("audit_log").where("at", "<", cutoffs.audit)),
        jobRuns: await deleted(trx.deleteFrom("job_runs").where("started_at", "<", cutoffs.jobRuns)),
        items: await deleted(trx.deleteFrom("tracked_items").where("updated_at", "<", cutoffs.items)),
      };
      // Cards whose item is gone (or that never had a snapshot, as deployment cards) once they are old too.
      await trx
        .deleteFrom("item_threads")
        .where("created_at", "<", cutoffs.items)
        .where("item_key", "not in", trx.selectFrom("tracked_items").select("item_key"))
        .execute();
      await trx.deleteFrom("feedback_captures").where("created_at", "<", cutoffs.items).execute();
      await trx
        .deleteFrom("ship_notices")
        .where("status", "!=", "pending")
        .where("created_at", "<", cutoffs.jobRuns)
        .execute();
      await trx.deleteFrom("pr_reminders").where("reminded_at", "<", cutoffs.jobRuns).execute();
      await trx.deleteFrom("release_previews").where("expires_at", "<", cutoffs.jobRuns).execute();
      if (options.dryRun) throw new RollBackDryRun();
    });
  } catch (error) {
    if (!(error instanceof RollBackDryRun)) throw error;
  }
  return counts!;
}
