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

export interface DatabaseSchema {
  inbox: InboxTable;
  outbox: OutboxTable;
  tracked_items: TrackedItemTable;
  item_threads: ItemThreadTable;
  audit_log: AuditLogTable;
  subscriptions: SubscriptionTable;
  identity_links: IdentityLinkTable;
}
