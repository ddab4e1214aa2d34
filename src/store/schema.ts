/** Table types for Kysely. Times are epoch milliseconds; JSON columns hold text. */
import type { Generated } from "kysely";

export type InboxStatus = "pending" | "processed" | "ignored" | "failed";

/** Apart from the inbox row, whose status changes, so that an update does not rewrite the body too. */
export interface InboxBodyTable {
  inbox_id: number;
  /** The raw body exactly as signed, so a delivery can be re-processed after a bug fix. */
  body: string;
}

export interface InboxTable {
  id: Generated<number>;
  source: "github" | "linear";
  delivery_id: string;
  /** X-GitHub-Event or Linear-Event header. */
  event: string;
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
 * first creating the card and its thread when the channel has none yet. card: one message per item and
 * channel (a deployment's card), created by the first row and edited in place by later ones; no thread.
 */
export type OutboxOperation = "post" | "item" | "card";

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
  /** Where an incremental job stopped reading (linear-reconcile: an ISO 8601 updatedAt); null before its first run. */
  cursor: string | null;
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

/** A release Switchboard created (or, with `source` = "github", learnt of from a release webhook). */
export interface ReleaseTable {
  id: Generated<number>;
  /** The `releases` entry's name (the repo unless a monorepo package names itself). */
  release_name: string;
  repo: string;
  version: string;
  tag: string;
  target_sha: string;
  prerelease: number;
  /** The changelog as published (Markdown). */
  notes: string;
  url: string | null;
  /** JSON array of Linear keys (`ENG-123`) the released commits name. */
  linear_keys: string;
  created_by: string | null;
  created_by_name: string | null;
  created_at: number;
}

/** A release preview shown to a user: pins the version, notes and target commit until confirmed. */
export interface ReleasePreviewTable {
  /** Random token carried in the Confirm / Cancel buttons' custom ids. */
  id: string;
  release_name: string;
  repo: string;
  branch: string;
  version: string;
  tag: string;
  target_sha: string;
  /** The latest tag the preview compared against; null when the repository had none. */
  base_tag: string | null;
  prerelease: number;
  dry_run: number;
  notes: string;
  linear_keys: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  /** pending | confirmed | cancelled */
  status: string;
}

/**
 * awaiting_approval -> (rejected | requested) -> queued -> in_progress -> success | failure | error;
 * success -> inactive once a newer deployment replaces it. `requested`: we asked GitHub (a deployment or a
 * workflow dispatch) and no status has come back yet.
 */
export type DeploymentState =
  | "awaiting_approval"
  | "rejected"
  | "requested"
  | "queued"
  | "in_progress"
  | "success"
  | "failure"
  | "error"
  | "inactive";

/** One deployment of one ref to one environment, whether requested from chat or started outside it. */
export interface DeploymentTable {
  id: Generated<number>;
  environment: string;
  repo: string;
  /** What was asked for: a tag, branch or commit. */
  ref: string;
  sha: string;
  /** The release version when `ref` is a release tag; null for a bare commit. */
  version: string | null;
  /** github-deployment | workflow-dispatch | external (created outside chat, learnt from a webhook) */
  method: string;
  /** GitHub's deployment id once known (as text: ids outgrow 32-bit integers). */
  github_deployment_id: string | null;
  state: DeploymentState;
  /** The last state shown on the deployment card, so repeated statuses do not announce twice. */
  announced_state: string | null;
  requested_by: string | null;
  requested_by_name: string | null;
  /** JSON array of Discord user ids who approved. */
  approved_by: string;
  /** Why: "rollback of v1.2.0", a freeze override reason. */
  reason: string | null;
  /** The freeze an admin overrode when requesting this deployment; approvals later let only that one pass. */
  freeze_override: string | null;
  /** The commit that ran in the environment when this was requested (the start of the released range). */
  previous_sha: string | null;
  /** Where the approval card is (channel and message), for editing it. */
  approval_channel_id: string | null;
  approval_message_id: string | null;
  /** The latest status's description and log URL from GitHub. */
  status_description: string | null;
  log_url: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** An environment lock: while present, only its holder may deploy there. */
export interface EnvironmentLockTable {
  environment: string;
  locked_by: string;
  locked_by_name: string;
  reason: string;
  locked_at: number;
}

/**
 * Linear follow-up of a successful deployment: comment on and move each issue the shipped range names.
 * Processed by a worker with retries, outside the webhook transaction.
 */
export interface ShipNoticeTable {
  id: Generated<number>;
  deployment_id: number;
  /** pending | done | failed */
  status: string;
  attempts: number;
  next_attempt_at: number;
  /** JSON array of Linear keys already commented on, so a retry does not comment twice. */
  done_keys: string;
  last_error: string | null;
  created_at: number;
}

export interface DatabaseSchema {
  inbox: InboxTable;
  inbox_bodies: InboxBodyTable;
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
  releases: ReleaseTable;
  release_previews: ReleasePreviewTable;
  deployments: DeploymentTable;
  environment_locks: EnvironmentLockTable;
  ship_notices: ShipNoticeTable;
}
