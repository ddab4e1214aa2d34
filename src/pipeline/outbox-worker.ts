/**
 * Posts outbox messages to Discord. Messages to one channel go out in order (an item's card is created
 * before the first edit or reply to it); channels proceed in parallel. Each step records its result before
 * the next, and every create carries a nonce, so a crash or an unconfirmed request never duplicates a post.
 */
import type { Kysely } from "kysely";
import type { Logger } from "../observability/logger.js";
import { scrubWebhookTokens } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { findItemThread, saveItemThread } from "../store/item-repository.js";
import { createGroupCommit } from "../store/group-commit.js";
import {
  listQueueHeads,
  markDead,
  markSent,
  recordProgress,
  scheduleRetry,
} from "../store/outbox-repository.js";
import type { OutboxRow } from "../store/outbox-repository.js";
import type { DatabaseSchema } from "../store/schema.js";
import {
  PermanentDeliveryError,
  classifyDeliveryError,
  failureInSwitchboard,
  isDeliveryError,
} from "./sinks/delivery-errors.js";
import type { Sink } from "./sinks/sink.js";
import type { OutboxPayload } from "./plan-messages.js";
import { backoffMs, createWorkerLoop } from "./worker-loop.js";
import type { WorkerLoop } from "./worker-loop.js";

/** Channel queues looked at per round: far more than MAX_PARALLEL_CHANNELS, plus those busy, can use. */
const MAX_HEADS = 100;
const MAX_PARALLEL_CHANNELS = 8;
/** How often an idle outbox looks for due messages when nothing in its own process wakes it. */
const IDLE_POLL_MS = 1000;
/**
 * The worker process of the PM2 layout posts what the bot process enqueues (deployment cards, release
 * announcements, digests run from chat), and nothing there can wake it: its poll is their added latency.
 * One indexed query every 100 ms is cheap, as for the inbox.
 */
export const SHARED_DATABASE_POLL_MS = 100;

export interface OutboxWorkerOptions {
  db: Kysely<DatabaseSchema>;
  /** The store's fsync barrier (Store.durable): a message marked sent stays marked after a power loss. */
  durable: () => Promise<void>;
  sink: Sink;
  logger: Logger;
  metrics: Metrics;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  clock?: () => number;
  random?: () => number;
  /** How often to look for due messages when not woken; IDLE_POLL_MS by default. */
  pollMs?: number;
}

export function createOutboxWorker(
  options: OutboxWorkerOptions,
): WorkerLoop & { deliverDue(): Promise<number> } {
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const pollMs = options.pollMs ?? IDLE_POLL_MS;
  const { db, sink } = options;
  // Channels confirmed in the same turn are marked sent in one commit (one fsync) instead of one each.
  const markSentTogether = createGroupCommit(
    { db, durable: options.durable },
    (trx, sent: { id: number; at: number }) => markSent(trx, sent.id, sent.at),
  );

  async function deliverPost(row: OutboxRow, payload: OutboxPayload): Promise<void> {
    await sink.createMessage(row.channel_id, payload.message, row.nonce);
  }

  async function deliverItem(row: OutboxRow, payload: OutboxPayload): Promise<void> {
    // The reply went out and was recorded; only marking the row sent was lost.
    if (row.reply_id) return;
    const itemKey = row.item_key!;
    const existing = row.message_id ? undefined : await findItemThread(db, itemKey, row.channel_id);
    let threadId: string;
    if (existing?.thread_id) {
      threadId = existing.thread_id;
      try {
        await sink.editMessage(row.channel_id, existing.message_id, payload.card!);
      } catch (error) {
        // A card someone deleted should not stop the thread from hearing the event.
        if (!(classifyDeliveryError(error) instanceof PermanentDeliveryError)) throw error;
        options.logger.warn(
          { outbox: row.id, err: error },
          "Could not edit the item card; replying in its thread anyway",
        );
      }
    } else {
      // Resume a card whose earlier attempt got part of the way: each step's result is stored before the next.
      const cardId =
        row.message_id ?? (await sink.createMessage(row.channel_id, payload.card!, `${row.nonce}c`)).id;
      if (!row.message_id) await recordProgress(db, row.id, { message_id: cardId });
      threadId = row.thread_id ?? (await sink.startThread(row.channel_id, cardId, payload.threadName!)).id;
      if (!row.thread_id) {
        // Together or not at all: with the thread recorded on the row but not in the item's index, a retry
        // would skip indexing it and the item's next event would open a second card and thread.
        await db.transaction().execute(async (trx) => {
          await recordProgress(trx, row.id, { thread_id: threadId });
          await saveItemThread(trx, {
            itemKey,
            channelId: row.channel_id,
            messageId: cardId,
            threadId,
            at: clock(),
          });
        });
      }
    }
    const reply = await sink.createMessage(threadId, payload.message, `${row.nonce}r`);
    await recordProgress(db, row.id, { reply_id: reply.id });
  }

  /**
   * One message per item and channel, edited in place (a deployment's card). The create carries the row's
   * nonce, and its id goes onto the row and into the item's index in one transaction, so a retry edits the
   * card it posted instead of posting a second one.
   */
  async function deliverCard(row: OutboxRow, payload: OutboxPayload): Promise<void> {
    // This row posted the card and recorded it; only marking the row sent was lost.
    if (row.message_id) return;
    const itemKey = row.item_key!;
    const existing = await findItemThread(db, itemKey, row.channel_id);
    if (existing) {
      try {
        await sink.editMessage(row.channel_id, existing.message_id, payload.message);
        return;
      } catch (error) {
        // A card someone deleted is posted afresh, so the channel still sees where things stand.
        if (!(classifyDeliveryError(error) instanceof PermanentDeliveryError)) throw error;
        options.logger.warn({ outbox: row.id, err: error }, "Could not edit the card; posting a new one");
      }
    }
    const card = await sink.createMessage(row.channel_id, payload.message, row.nonce);
    await db.transaction().execute(async (trx) => {
      await recordProgress(trx, row.id, { message_id: card.id });
      await saveItemThread(trx, {
        itemKey,
        channelId: row.channel_id,
        messageId: card.id,
        threadId: null,
        at: clock(),
      });
    });
  }

  async function deliver(row: OutboxRow): Promise<void> {
    const log = options.logger.child({ outbox: row.id, channel: row.channel_id, route: row.route });
    try {
      const payload = JSON.parse(row.payload) as OutboxPayload;
      if (row.operation === "item") await deliverItem(row, payload);
      else if (row.operation === "card") await deliverCard(row, payload);
      else await deliverPost(row, payload);
      const now = clock();
      await markSentTogether({ id: row.id, at: now });
      options.metrics.notificationLatency.observe((now - row.origin_at) / 1000);
      log.debug("Message delivered");
    } catch (error) {
      // Sinks throw delivery errors; anything else came from the store or the worker itself.
      const failure = isDeliveryError(error) ? error : failureInSwitchboard(error, row.channel_id);
      const attempt = row.attempts + 1;
      const permanent = failure instanceof PermanentDeliveryError;
      options.metrics.outboxFailures.inc({ kind: permanent ? "permanent" : "retryable" });
      // The stored reason is shown on /readyz and the status page: an unexpected error can quote a channel
      // webhook's URL, whose last segment is its token.
      const reason = scrubWebhookTokens(failure.message);
      const sentAlready = () =>
        log.warn(
          { attempt, reason: failure.message },
          "Message posted and recorded as sent, but the store failed after: nothing to retry",
        );
      if (permanent || attempt >= options.maxAttempts) {
        if (!(await markDead(db, row.id, reason))) return sentAlready();
        log.error(
          { attempt, reason: failure.message },
          "Message dead-lettered: `switchboard outbox retry` resends it",
        );
        return;
      }
      const backoff = backoffMs(attempt, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs, random });
      const delay = Math.max(backoff, failure.retryAfterMs ?? 0);
      if (!(await scheduleRetry(db, row.id, { at: clock() + delay, error: reason }))) return sentAlready();
      log.warn(
        { attempt, retryInMs: Math.round(delay), reason: failure.message },
        "Message delivery failed; will retry",
      );
    }
  }

  /**
   * Channels with a delivery in flight. Each channel runs on its own: one waiting out a 429 on its route, or
   * a request that hangs until the timeout, does not hold up the others (only a global 429 does).
   */
  const inFlight = new Map<string, Promise<void>>();

  /**
   * Starts the head of each idle channel's queue when it is due; returns the delay until the next due head.
   * A delivery that finishes wakes the loop, so its channel's next message goes out at once.
   */
  async function deliverDue(): Promise<number> {
    // A channel busy now may finish while the rows are read, so the row read for it can be the one just
    // sent: leave it alone. Its delivery wakes the loop when done, and the next round reads it afresh.
    const busy = new Set(inFlight.keys());
    const heads = await listQueueHeads(db, MAX_HEADS);
    const now = clock();
    let nextDue = Number.POSITIVE_INFINITY;
    for (const row of heads) {
      if (busy.has(row.channel_id)) continue;
      if (row.next_attempt_at > now) {
        nextDue = Math.min(nextDue, row.next_attempt_at);
      } else if (inFlight.size < MAX_PARALLEL_CHANNELS) {
        const delivery = deliver(row)
          .catch((error: unknown) =>
            options.logger.error({ err: error, outbox: row.id }, "Outbox delivery failed"),
          )
          .finally(() => {
            inFlight.delete(row.channel_id);
            loop.wake();
          });
        inFlight.set(row.channel_id, delivery);
      }
      // A due head beyond MAX_PARALLEL_CHANNELS starts when a delivery in flight finishes and wakes the loop.
    }
    return Number.isFinite(nextDue) ? Math.min(pollMs, Math.max(0, nextDue - clock())) : pollMs;
  }

  const loop = createWorkerLoop({
    runBatch: deliverDue,
    onError: (error) => options.logger.error({ err: error }, "Outbox worker batch failed"),
  });
  return {
    ...loop,
    async stop() {
      await loop.stop();
      await Promise.all(inFlight.values());
    },
    deliverDue,
  };
}
