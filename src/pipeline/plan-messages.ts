/**
 * Pure: which outbox rows one routed event becomes. Each channel gets either a plain post or, for items with
 * per-item threads, an "item" row that keeps the item's card and thread up to date.
 */
import { randomBytes } from "node:crypto";
import type { DomainEvent, ItemSnapshot } from "../events/domain-event.js";
import { itemThreadName, renderItemCard } from "../discord/render/item-card.js";
import type { DiscordMessage } from "../discord/render/message.js";
import { fitMessage, toMessage } from "../discord/render/message.js";
import { summarizeEvent } from "../discord/render/summarize-event.js";
import type { NewOutboxRow } from "../store/outbox-repository.js";
import type { OutboxOperation } from "../store/schema.js";
import type { RouteDelivery } from "./router.js";

/** What an outbox row carries. `card` and `threadName` only for "item" rows; a "card" row's card is `message`. */
export interface OutboxPayload {
  message: DiscordMessage;
  card?: DiscordMessage;
  threadName?: string;
}

export function planMessages(input: {
  event: DomainEvent;
  deliveries: RouteDelivery[];
  /** The item's merged snapshot, when the event is about one. */
  item: ItemSnapshot | undefined;
  /** Console and webhook sinks cannot open threads: items are posted like any event there. */
  threadsSupported: boolean;
  inboxId: number | null;
  originAt: number;
  now: number;
  /**
   * Discord user ids to mention (linked members the event asks something of). They alone go into
   * `allowed_mentions.users`; the card never mentions, so editing it pings nobody again.
   */
  mentions?: string[];
}): NewOutboxRow[] {
  const summary = summarizeEvent(input.event);
  const mentions = input.mentions ?? [];
  return input.deliveries.map((delivery) => {
    const threaded =
      input.item !== undefined &&
      input.threadsSupported &&
      delivery.threads === "per-item" &&
      delivery.style === "full";
    const payload: OutboxPayload = threaded
      ? {
          message: withMentions(toMessage(summary, "full"), mentions),
          card: renderItemCard(input.item!),
          threadName: itemThreadName(input.item!),
        }
      : { message: withMentions(toMessage(summary, delivery.style), mentions) };
    return outboxRow({
      inboxId: input.inboxId,
      channel: delivery.channel,
      route: delivery.route,
      itemKey: threaded ? input.item!.key : null,
      payload,
      now: input.now,
      originAt: input.originAt,
    });
  });
}

/** One message posted to a channel on its own (no delivery, item or thread): what scheduled jobs send. */
export function planPost(input: {
  channel: string;
  route: string;
  message: DiscordMessage;
  now: number;
}): NewOutboxRow {
  return outboxRow({
    inboxId: null,
    channel: input.channel,
    route: input.route,
    itemKey: null,
    payload: { message: input.message },
    now: input.now,
    originAt: input.now,
  });
}

/**
 * One message per `itemKey` and channel, kept up to date: the first such row posts it, later ones edit it in
 * place (no thread, no reply). A deployment's card is one.
 */
export function planCard(input: {
  channel: string;
  route: string;
  itemKey: string;
  message: DiscordMessage;
  inboxId: number | null;
  originAt: number;
  now: number;
}): NewOutboxRow {
  return outboxRow({ ...input, payload: { message: input.message }, operation: "card" });
}

/**
 * A pending outbox row: an item card and thread when `itemKey` is set, else a plain post; `operation` says
 * otherwise for a "card" row.
 */
function outboxRow(input: {
  inboxId: number | null;
  channel: string;
  route: string;
  itemKey: string | null;
  payload: OutboxPayload;
  now: number;
  originAt: number;
  operation?: OutboxOperation;
}): NewOutboxRow {
  return {
    inbox_id: input.inboxId,
    channel_id: input.channel,
    route: input.route,
    item_key: input.itemKey,
    operation: input.operation ?? (input.itemKey === null ? "post" : "item"),
    payload: JSON.stringify(input.payload),
    nonce: newNonce(),
    status: "pending",
    next_attempt_at: input.now,
    last_error: null,
    message_id: null,
    thread_id: null,
    reply_id: null,
    created_at: input.now,
    origin_at: input.originAt,
    sent_at: null,
  };
}

/** Discord accepts at most 100 ids in `allowed_mentions.users`. */
const MAX_MENTIONED_USERS = 100;
const SNOWFLAKE = /^\d{17,20}$/;

/**
 * `<@id>` for each user ahead of the message's own content, and exactly those users allowed to be pinged:
 * `parse` stays empty, so a `<@123>` or `@everyone` in a title or body still pings nobody.
 */
export function withMentions(message: DiscordMessage, userIds: readonly string[]): DiscordMessage {
  const users = [...new Set(userIds)].filter((id) => SNOWFLAKE.test(id)).slice(0, MAX_MENTIONED_USERS);
  if (users.length === 0) return message;
  const prefix = users.map((id) => `<@${id}>`).join(" ");
  return fitMessage({
    ...message,
    content: message.content ? `${prefix} ${message.content}` : prefix,
    allowed_mentions: { parse: [], users },
  });
}

/** Discord nonces are at most 25 characters; 16 leaves room for the per-step suffixes the worker adds. */
function newNonce(): string {
  return randomBytes(12).toString("base64url");
}
