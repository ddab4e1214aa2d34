/** Table types for Kysely. Times are epoch milliseconds; JSON columns hold text. */
import type { Generated } from "kysely";

export type InboxStatus = "pending" | "processed" | "ignored" | "failed";

export interface InboxTable {
  id: Generated<number>;
  source: "github" | "linear";
  delivery_id: string;
  /** X-GitHub-Event or Linear-Event header. */
  event: string;
  /** The raw body exactly as signed, so a delivery can be re-processed after a bug fix. */
  body: string;
  received_at: number;
  status: InboxStatus;
  attempts: Generated<number>;
  /** `pull_request.opened` once normalized; the ignore reason or error otherwise. */
  event_name: string | null;
  detail: string | null;
  processed_at: number | null;
}

export type OutboxStatus = "pending" | "sent" | "dead";
/**
 * post: one message. item: reply with the event in the item's thread, after editing its card in place, or
 * first creating the card and its thread when the channel has none yet.
 */
export type OutboxOperation = "post" | "item";

export interface OutboxTable {
  id: Generated<number>;
  inbox_id: number | null;
  channel_id: string;
  route: string;
  item_key: string | null;
  operation: OutboxOperation;
  /** JSON: OutboxPayload (see pipeline/outbox-payload.ts). */
  payload: string;
  /** Sent with message creates so a retry after an unconfirmed post cannot duplicate. */
  nonce: string;
  status: OutboxStatus;
  attempts: Generated<number>;
  next_attempt_at: number;
  last_error: string | null;
  /** Progress of multi-step operations, so a retry resumes instead of repeating a step. */
  message_id: string | null;
  thread_id: string | null;
  reply_id: string | null;
  created_at: number;
  /** When the originating delivery arrived: notification latency is measured from here. */
  origin_at: number;
  sent_at: number | null;
}

/** The latest known state of a PR, GitHub issue or Linear issue, for its card. */
export interface TrackedItemTable {
  item_key: string;
  snapshot: string;
  updated_at: number;
}

/** Where an item's card and thread live in one channel. */
export interface ItemThreadTable {
  item_key: string;
  channel_id: string;
  message_id: string;
  thread_id: string | null;
  created_at: number;
}

/** Every privileged command and every denial: who, what, with which options, and how it ended. */
export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  user_id: string;
  user_name: string;
  /** `subscribe github`, `deploy production`, `release confirm`... */
  action: string;
  /** JSON of the options given. */
  options: string;
  capability: string | null;
  /** ok | denied | refused (a UserError) | error */
  outcome: "ok" | "denied" | "refused" | "error";
  detail: string | null;
  guild_id: string | null;
  channel_id: string | null;
}

/** A rule made in chat with /subscribe; matched beside the config file's routes. */
export interface SubscriptionTable {
  id: Generated<number>;
  guild_id: string | null;
  channel_id: string;
  source: "github" | "linear";
  /** JSON: `{ match, style, threads }` in the config file's route shape. */
  rule: string;
  created_by: string;
  created_at: number;
}

/** A Discord user's GitHub login and Linear identity, from /link. */
export interface IdentityLinkTable {
  discord_user_id: string;
  github_login: string | null;
  linear_email: string | null;
  linear_user_id: string | null;
  linear_name: string | null;
  updated_at: number;
}

export type FeedbackCaptureStatus = "creating" | "created";

/**
 * One Discord message filed as a Linear issue, by reaction or context menu. The message id is the key: a
 * row is claimed ('creating') before Linear is asked, so concurrent reactions cannot both create.
 */
export interface FeedbackCaptureTable {
  message_id: string;
  channel_id: string;
  guild_id: string | null;
  issue_id: string | null;
  issue_identifier: string | null;
  issue_url: string | null;
  status: FeedbackCaptureStatus;
  /** Discord user id of whoever reacted or used the menu. */
  created_by: string;
  /** When the claim was taken (epoch ms); a 'creating' row older than the claim timeout may be retried. */
  created_at: number;
}

export type JobRunOutcome = "ok" | "error" | "skipped";
/** schedule: fired by cron; catch-up: a slot missed while no process ran jobs; manual: `/jobs run`. */
export type JobRunTrigger = "schedule" | "catch-up" | "manual";

/** One run of a scheduled job (or one that was skipped: paused, or the previous run still going). */
export interface JobRunTable {
  id: Generated<number>;
  job: string;
  trigger: JobRunTrigger;
  started_at: number;
  finished_at: number;
  outcome: JobRunOutcome;
  /** How many things the run handled (rows pruned, reminders posted...). */
  items: number;
  /** The job's one-line report of what it did or, in a dry run, would do. */
  summary: string | null;
  error: string | null;
  /** 1 for a dry run (integers, not booleans: SQLite has no boolean to bind). */
  dry_run: number;
}

/** Per-job state shared by every process: pause switch and the next slot, for catch-up after downtime. */
export interface JobStateTable {
  job: string;
  paused: number;
  paused_by: string | null;
  /** The next scheduled slot as last computed by the process running jobs; past means it was missed. */
  next_run_at: number | null;
  updated_at: number;
}

/** A named lease: who holds it until when. Acquired and renewed by conditional update (see lease-repository.ts). */
export interface LeaseTable {
  name: string;
  holder: string;
  expires_at: number;
}

/** The last stale-PR reminder per pull request (`owner/name#12`), so a PR is reminded at most once per period. */
export interface PrReminderTable {
  pr_key: string;
  channel_id: string;
  reminded_at: number;
}

export interface DatabaseSchema {
  inbox: InboxTable;
  outbox: OutboxTable;
  tracked_items: TrackedItemTable;
  item_threads: ItemThreadTable;
  audit_log: AuditLogTable;
  subscriptions: SubscriptionTable;
  identity_links: IdentityLinkTable;
  feedback_captures: FeedbackCaptureTable;
  job_runs: JobRunTable;
  job_state: JobStateTable;
  leases: LeaseTable;
  pr_reminders: PrReminderTable;
}
