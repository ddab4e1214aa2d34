/**
 * `retention`: prunes old records and gives the freed space back, nightly.
 *
 * Default ages, and why:
 * - inbox (delivery ids) 30 days: the inbox is also the de-duplication record, so it must outlive every
 *   sender's retry window by far. Linear retries a failed delivery for up to about 7 hours, GitHub
 *   redeliveries are manual (within its 3-day delivery history) and the receivers' replay window is 12 hours.
 * - outbox sent 14 days (enough to debug a report about a recent message), dead letters 30 days (time for an
 *   operator to notice, fix and `switchboard outbox retry`).
 * - audit log 365 days: a year of who did what, the usual audit expectation.
 * - job runs (and stale-PR reminder records, finished Linear ship notices, and release previews, dead 30
 *   minutes after they are made) 30 days.
 * - item snapshots and card records 180 days without an event (a later event opens a new card), and feedback
 *   captures 180 days.
 * Pending deliveries and pending messages are never pruned, whatever their age.
 */
import { z } from "zod";
import { reclaimSpace } from "../store/reclaim-space.js";
import { pruneRecords } from "../store/retention-repository.js";
import type { RetentionCounts } from "../store/retention-repository.js";
import { defineJob } from "./job.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const days = (fallback: number) => z.number().int().positive().default(fallback);

/**
 * The inbox is the de-duplication record, so it must outlive the longest window in which a sender can deliver
 * the same delivery id again: GitHub's manual redelivery, from its 3-day delivery history (Linear's own
 * retries end after about 7 hours). A shorter age would let a redelivered event be posted twice.
 */
const MIN_INBOX_DAYS = 3;

export const retentionOptions = z.strictObject({
  inbox_days: z
    .number()
    .int()
    .min(
      MIN_INBOX_DAYS,
      `must be at least ${MIN_INBOX_DAYS}: delivery ids are kept while GitHub can still redeliver them (3 days)`,
    )
    .default(30),
  outbox_sent_days: days(14),
  outbox_dead_days: days(30),
  audit_days: days(365),
  job_runs_days: days(30),
  items_days: days(180),
  /** Return freed pages to the file system (SQLite) after pruning. */
  reclaim_space: z.boolean().default(true),
});

export const retention = defineJob({
  name: "retention",
  description: "Prune old deliveries, sent and dead messages, audit entries and job runs; reclaim the space",
  defaultSchedule: "30 3 * * *",
  enabledByDefault: true,
  catchUpByDefault: false,
  needsChannel: false,
  defaultLookBackMs: DAY_MS,
  options: retentionOptions,
  async run({ dryRun, now, options, services, logger }) {
    const counts = await pruneRecords(
      services.store.db,
      {
        inbox: now - options.inbox_days * DAY_MS,
        outboxSent: now - options.outbox_sent_days * DAY_MS,
        outboxDead: now - options.outbox_dead_days * DAY_MS,
        audit: now - options.audit_days * DAY_MS,
        jobRuns: now - options.job_runs_days * DAY_MS,
        items: now - options.items_days * DAY_MS,
      },
      { dryRun },
    );
    const items = Object.values(counts).reduce((sum, count) => sum + count, 0);
    let reclaim = "";
    if (options.reclaim_space) {
      const result = await reclaimSpace(services.store, { dryRun });
      logger.debug({ ...result }, "Reclaimed free space");
      if (result.method !== "none") {
        reclaim = `; ${dryRun ? "would run" : "ran"} ${result.method === "vacuum" ? "VACUUM (switching to incremental auto-vacuum)" : "incremental_vacuum"}`;
      }
    }
    return { items, summary: `${dryRun ? "Would delete" : "Deleted"} ${describeCounts(counts)}${reclaim}.` };
  },
});

function describeCounts(counts: RetentionCounts): string {
  return [
    `${counts.inbox} inbox deliveries`,
    `${counts.outboxSent} sent messages`,
    `${counts.outboxDead} dead letters`,
    `${counts.audit} audit entries`,
    `${counts.jobRuns} job runs`,
    `${counts.items} item cards`,
  ].join(", ");
}
