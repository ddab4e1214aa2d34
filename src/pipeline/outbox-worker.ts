/**
 * Posts outbox messages to Discord. Messages to one channel go out in order (an item's card is created
 * before the first edit or reply to it); channels proceed in parallel. Each step records its result before
 * the next, and every create carries a nonce, so a crash or an unconfirmed request never duplicates a post.
 */
import type { Kysely } from "kysely";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { findItemThread, saveItemThread } from "../store/item-repository.js";
import {
  listPendingMessages,
  markDead,
  markSent,
  recordProgress,
  scheduleRetry,
} from "../store/outbox-repository.js";
import type { OutboxRow } from "../store/outbox-repository.js";
import type { DatabaseSchema } from "../store/schema.js";
import { PermanentDeliveryError, classifyDeliveryError } from "./sinks/delivery-errors.js";
import type { Sink } from "./sinks/sink.js";
import type { OutboxPayload } from "./plan-messages.js";
import { createWorkerLoop } from "./worker-loop.js";
import type { WorkerLoop } from "./worker-loop.js";

const SCAN_LIMIT = 500;
const MAX_PARALLEL_CHANNELS = 8;
const IDLE_POLL_MS = 1000;

export interface OutboxWorkerOptions {
  db: Kysely<DatabaseSchema>;
  sink: Sink;
  logger: Logger;
  metrics: Metrics;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  clock?: () => number;
  random?: () => number;
}

export function createOutboxWorker(
  options: OutboxWorkerOptions,
): WorkerLoop & { deliverDue(): Promise<number> } {
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const { db, sink } = options;

  /** Exponential backoff with "equal jitter": half fixed, half random, capped. */
  function backoffMs(attempt: number): number {
    const exponential = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.max(0, attempt - 1));
    return exponential / 2 + random() * (exponential / 2);
  }

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
        await recordProgress(db, row.id, { thread_id: threadId });
        await saveItemThread(db, {
          itemKey,
          channelId: row.channel_id,
          messageId: cardId,
          threadId,
          at: clock(),
        });
      }
    }
    const reply = await sink.createMessage(threadId, payload.message, `${row.nonce}r`);
    await recordProgress(db, row.id, { reply_id: reply.id });
  }

  async function deliver(row: OutboxRow): Promise<void> {
    const log = options.logger.child({ outbox: row.id, channel: row.channel_id, route: row.route });
    try {
      const payload = JSON.parse(row.payload) as OutboxPayload;
      if (row.operation === "item") await deliverItem(row, payload);
      else await deliverPost(row, payload);
      const now = clock();
      await markSent(db, row.id, now);
      options.metrics.notificationLatency.observe((now - row.origin_at) / 1000);
      log.debug("Message delivered");
    } catch (error) {
      const failure = classifyDeliveryError(error);
      const attempt = row.attempts + 1;
      const permanent = failure instanceof PermanentDeliveryError;
      options.metrics.outboxFailures.inc({ kind: permanent ? "permanent" : "retryable" });
      if (permanent || attempt >= options.maxAttempts) {
        await markDead(db, row.id, failure.message);
        log.error(
          { attempt, reason: failure.message },
          "Message dead-lettered: `switchboard outbox retry` resends it",
        );
        return;
      }
      const delay = Math.max(backoffMs(attempt), failure.retryAfterMs ?? 0);
      await scheduleRetry(db, row.id, { at: clock() + delay, error: failure.message });
      log.warn(
        { attempt, retryInMs: Math.round(delay), reason: failure.message },
        "Message delivery failed; will retry",
      );
    }
  }

  /** Sends the head of each channel's queue when it is due; returns the delay until the next due head. */
  async function deliverDue(): Promise<number> {
    const rows = await listPendingMessages(db, SCAN_LIMIT);
    const heads = new Map<string, OutboxRow>();
    for (const row of rows) if (!heads.has(row.channel_id)) heads.set(row.channel_id, row);
    const now = clock();
    const due = [...heads.values()].filter((row) => row.next_attempt_at <= now);
    for (let i = 0; i < due.length; i += MAX_PARALLEL_CHANNELS) {
      await Promise.all(due.slice(i, i + MAX_PARALLEL_CHANNELS).map(deliver));
    }
    if (due.length > 0) return 0;
    const nextDue = Math.min(...[...heads.values()].map((row) => row.next_attempt_at));
    return Number.isFinite(nextDue) ? Math.min(IDLE_POLL_MS, Math.max(0, nextDue - clock())) : IDLE_POLL_MS;
  }

  const loop = createWorkerLoop({
    runBatch: deliverDue,
    onError: (error) => options.logger.error({ err: error }, "Outbox worker batch failed"),
  });
  return { ...loop, deliverDue };
}
