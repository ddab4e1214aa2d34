/**
 * `linear-reconcile`: asks Linear for issues updated since a stored cursor and turns each update that never
 * arrived as a webhook into an inbox delivery, so notifications are not lost while Linear's webhook fails.
 *
 * How an update counts as seen: a stored Linear delivery (Issue, or a Comment on the issue) whose change time
 * is at or after the issue's `updatedAt`. An unseen update becomes one synthetic delivery shaped like Linear's
 * Issue webhook, with delivery id `reconcile:<issueId>:<updatedAt>`: the inbox's de-duplication makes it flow
 * through the normal pipeline (routes, filters, rendering) exactly once, however often the job runs. Its actor
 * says it was reconciled, so the message tells readers the webhook missed it.
 *
 * What changed is worked out against the latest stored delivery of the issue (state, assignee, priority,
 * title, labels): an update that touched none of those (a description edit, a re-ordering) is left out, as
 * the pipeline would have ignored its webhook as noise. Without an earlier delivery the current state is
 * reported.
 *
 * The cursor (the `updatedAt` of the last issue looked at) lives in `job_state.cursor`. Updates younger than
 * `grace_minutes` are left for the next run: their webhook may still be on its way.
 */
import type { Kysely } from "kysely";
import { z } from "zod";
import type { LinearIssueUpdate } from "../sources/linear/linear-api.js";
import { LinearEnvelopeSchema, LinearIssueDataSchema } from "../sources/linear/payloads.js";
import type { LinearIssueData } from "../sources/linear/payloads.js";
import type { DatabaseSchema } from "../store/schema.js";
import { findJobState, saveJobState } from "../store/job-run-repository.js";
import { recordDelivery } from "../store/inbox-repository.js";
import { briefList, defineJob } from "./job.js";

const MINUTE_MS = 60 * 1000;
/** Linear's `first:` limit per request. */
const PAGE_SIZE = 50;
/** How much earlier than the cursor a webhook may have been received and still describe a later update. */
const CLOCK_SKEW_MS = 10 * MINUTE_MS;

/** The actor of a reconciled delivery: shown as "... by <name>" in the message. */
export const RECONCILED_ACTOR = "Switchboard reconcile (Linear's webhook missed this update)";

export const linearReconcileOptions = z.strictObject({
  /** Team keys to reconcile; default every team the API key can see. */
  teams: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,6}$/, "a Linear team key such as ENG")).default([]),
  /** Updates younger than this are left to their webhook for now. */
  grace_minutes: z
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(10),
  /** At most this many issues per run; the cursor carries the rest to the next run. */
  max_issues: z.number().int().positive().max(5000).default(250),
});

export type LinearReconcileOptions = z.infer<typeof linearReconcileOptions>;

/** What the stored deliveries tell about one issue: when it was last seen, and its data then. */
interface SeenIssue {
  seenAt: number;
  latest?: LinearIssueData;
  latestAt?: number;
}

/** Reads the stored Linear deliveries received since `from` into what each issue looked like when last seen. */
async function seenIssues(db: Kysely<DatabaseSchema>, from: number): Promise<Map<string, SeenIssue>> {
  const rows = await db
    .selectFrom("inbox")
    .innerJoin("inbox_bodies", "inbox_bodies.inbox_id", "inbox.id")
    .select(["inbox.event", "inbox_bodies.body"])
    .where("inbox.source", "=", "linear")
    .where("inbox.event", "in", ["Issue", "Comment"])
    .where("inbox.received_at", ">=", from)
    .execute();
  const seen = new Map<string, SeenIssue>();
  for (const row of rows) {
    let json: unknown;
    try {
      json = JSON.parse(row.body);
    } catch {
      continue;
    }
    const envelope = LinearEnvelopeSchema.safeParse(json);
    if (!envelope.success) continue;
    const data = envelope.data.data;
    const issueId = row.event === "Issue" ? data.id : data.issueId;
    if (typeof issueId !== "string") continue;
    const at = Math.max(
      Date.parse(envelope.data.createdAt) || 0,
      row.event === "Issue" ? Date.parse(String(data.updatedAt)) || 0 : 0,
    );
    const entry = seen.get(issueId) ?? { seenAt: 0 };
    entry.seenAt = Math.max(entry.seenAt, at);
    if (row.event === "Issue" && (entry.latestAt === undefined || at >= entry.latestAt)) {
      const parsed = LinearIssueDataSchema.safeParse(data);
      if (parsed.success) {
        entry.latest = parsed.data;
        entry.latestAt = at;
      }
    }
    seen.set(issueId, entry);
  }
  return seen;
}

/**
 * The previous values of the fields that differ between the last delivery seen and the issue now, keyed as
 * Linear's `updatedFrom` (ids where Linear sends ids; our synthetic data uses names as ids, see below).
 */
export function changedFields(previous: LinearIssueData, issue: LinearIssueUpdate): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  if (previous.state?.name !== undefined && previous.state.name !== issue.state.name) {
    changes.stateId = previous.stateId ?? previous.state.id;
  }
  const previousAssignee = previous.assignee?.name ?? null;
  if (previousAssignee !== (issue.assignee?.name ?? null)) {
    changes.assigneeId = previousAssignee === null ? null : (previous.assignee?.id ?? null);
  }
  if (typeof previous.priority === "number" && previous.priority !== issue.priority) {
    changes.priority = previous.priority;
  }
  if (previous.title !== issue.title) changes.title = previous.title;
  const previousLabels = (previous.labels ?? []).map((label) => label.name);
  if ([...previousLabels].sort().join("\n") !== [...issue.labels].sort().join("\n")) {
    changes.labelIds = previousLabels;
  }
  return changes;
}

/** A body shaped like Linear's Issue webhook for an update that never arrived. */
export function reconciledDelivery(
  issue: LinearIssueUpdate,
  previous: LinearIssueData | undefined,
  now: number,
): { deliveryId: string; body: string } {
  const updatedFrom = previous ? changedFields(previous, issue) : { stateId: null };
  const body = {
    action: "update",
    type: "Issue",
    createdAt: issue.updatedAt,
    url: issue.url,
    // Who made the change is not in the API's answer. "user" keeps a person's change from being dropped by
    // route filters that exclude bots: losing the notification is what this job exists to prevent.
    actor: { name: RECONCILED_ACTOR, type: "user" },
    data: {
      id: issue.id,
      identifier: issue.identifier,
      title: issue.title,
      description: issue.description,
      priority: issue.priority,
      priorityLabel: issue.priorityLabel,
      url: issue.url,
      createdAt: issue.createdAt,
      updatedAt: issue.updatedAt,
      // The API answer has names, not ids; names stand in for ids so labels can be told apart.
      state: { id: `state:${issue.state.name}`, name: issue.state.name, type: issue.state.type },
      team: { id: `team:${issue.team.key}`, key: issue.team.key, name: issue.team.name },
      assignee: issue.assignee ? { id: `user:${issue.assignee.name}`, name: issue.assignee.name } : null,
      labels: issue.labels.map((name) => ({ id: name, name })),
    },
    updatedFrom,
    webhookTimestamp: now,
    /** Not a Linear field: marks a delivery Switchboard made up from the API, for operators reading the inbox. */
    switchboardReconciled: true,
  };
  return { deliveryId: `reconcile:${issue.id}:${issue.updatedAt}`, body: JSON.stringify(body) };
}

/** One millisecond before an ISO 8601 time: "updated after" this includes the time itself. */
function justBefore(iso: string): string {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? iso : new Date(at - 1).toISOString();
}

export const linearReconcile = defineJob({
  name: "linear-reconcile",
  description: "Turn Linear issue updates whose webhook never arrived into notifications",
  defaultSchedule: "*/15 * * * *",
  enabledByDefault: false,
  catchUpByDefault: true,
  needsChannel: false,
  defaultLookBackMs: 60 * MINUTE_MS,
  options: linearReconcileOptions,
  async run({ dryRun, now, since, options, services, logger }) {
    const linear = services.linear;
    if (!linear) {
      throw new Error("The Linear API is not configured: set LINEAR_API_KEY.");
    }
    const db = services.store.db;
    const state = await findJobState(db, "linear-reconcile");
    const start = state?.cursor ?? new Date(since).toISOString();
    const until = now - options.grace_minutes * MINUTE_MS;
    const teams = new Set(options.teams.map((team) => team.toUpperCase()));

    // Read forward from the cursor, stopping at the grace boundary or the per-run limit. A bulk edit gives
    // many issues one updatedAt, and Linear's filter is "updated after": so pages ask from a millisecond before
    // the cursor (issues read twice are passed over), a run never stops between issues of one time (the limit
    // may be overrun by the rest of that time), and the next run passes over the cursor's own time, done.
    const updates: LinearIssueUpdate[] = [];
    const read = new Set<string>();
    let cursor = start;
    let looked = 0;
    let full = false;
    for (;;) {
      const page = await linear.listIssuesUpdatedSince(justBefore(cursor), PAGE_SIZE);
      const fresh = page.filter(
        (issue) => issue.updatedAt !== start && !read.has(`${issue.id}@${issue.updatedAt}`),
      );
      const ripe = fresh.filter((issue) => Date.parse(issue.updatedAt) <= until);
      for (const issue of ripe) {
        if (looked >= options.max_issues && issue.updatedAt !== cursor) {
          full = true;
          break;
        }
        looked++;
        read.add(`${issue.id}@${issue.updatedAt}`);
        cursor = issue.updatedAt;
        if (teams.size === 0 || teams.has(issue.team.key.toUpperCase())) updates.push(issue);
      }
      if (full || page.length < PAGE_SIZE || fresh.length === 0 || ripe.length < fresh.length) break;
    }

    const seen = await seenIssues(db, Date.parse(start) - CLOCK_SKEW_MS);
    // Unseen, and (against the last delivery seen) changed in a way a message would show: a description edit
    // or a re-ordering would only be ignored as noise by the pipeline.
    const missed = updates.filter((issue) => {
      const known = seen.get(issue.id);
      if ((known?.seenAt ?? 0) >= Date.parse(issue.updatedAt)) return false;
      return !known?.latest || Object.keys(changedFields(known.latest, issue)).length > 0;
    });
    const keys = briefList(missed.map((issue) => issue.identifier));
    logger.debug(
      { from: start, to: cursor, looked, missed: missed.length },
      "Compared Linear with the inbox",
    );

    if (dryRun) {
      return {
        items: missed.length,
        summary:
          missed.length === 0
            ? `No missed Linear updates since ${start}.`
            : `Would turn ${missed.length} missed Linear update${missed.length === 1 ? "" : "s"} into events: ${keys}.`,
      };
    }
    const recorded: string[] = [];
    // The deliveries and the cursor move together: a crash cannot skip updates or leave the cursor behind.
    await db.transaction().execute(async (trx) => {
      for (const issue of missed) {
        const delivery = reconciledDelivery(issue, seen.get(issue.id)?.latest, now);
        const outcome = await recordDelivery(trx, {
          source: "linear",
          deliveryId: delivery.deliveryId,
          event: "Issue",
          body: delivery.body,
          receivedAt: now,
        });
        if (outcome === "new") recorded.push(issue.identifier);
      }
      if (cursor !== start) await saveJobState(trx, "linear-reconcile", { cursor, updated_at: now });
    });
    return {
      items: recorded.length,
      summary:
        recorded.length === 0
          ? `No missed Linear updates since ${start}.`
          : `Turned ${recorded.length} missed Linear update${recorded.length === 1 ? "" : "s"} into events: ${briefList(recorded)}.`,
    };
  },
});
