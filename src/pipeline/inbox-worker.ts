/**
 * Turns stored deliveries into outbox messages. Each delivery is handled in one transaction (normalize,
 * route, update the item, enqueue, mark processed), so a crash either leaves it pending or fully handled:
 * never half-posted, never twice.
 */
import type { Kysely } from "kysely";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { finishDelivery, listPendingDeliveries, recordDeliveryAttempt } from "../store/inbox-repository.js";
import type { InboxRow } from "../store/inbox-repository.js";
import { findTrackedItem, saveTrackedItem } from "../store/item-repository.js";
import { enqueueMessages } from "../store/outbox-repository.js";
import type { DatabaseSchema } from "../store/schema.js";
import { mergeItemSnapshot } from "./item-tracker.js";
import { normalizeStoredDelivery } from "./normalize-delivery.js";
import { planMessages } from "./plan-messages.js";
import { routeEvent } from "./router.js";
import type { RouteRule } from "./router.js";
import { createWorkerLoop } from "./worker-loop.js";
import type { WorkerLoop } from "./worker-loop.js";

/** A delivery that fails this many times (a bug, not bad input) is parked as failed for an operator. */
const MAX_PROCESSING_ATTEMPTS = 5;
const BATCH_SIZE = 100;
const IDLE_POLL_MS = 1000;

export interface InboxWorkerOptions {
  db: Kysely<DatabaseSchema>;
  logger: Logger;
  metrics: Metrics;
  /** Config-file routes and chat subscriptions, read per batch so new subscriptions apply at once. */
  listRules: () => Promise<RouteRule[]>;
  defaultChannel: string | undefined;
  threadsSupported: boolean;
  clock?: () => number;
  /** Called after messages were enqueued, to wake the outbox worker. */
  onEnqueued: () => void;
}

export function createInboxWorker(
  options: InboxWorkerOptions,
): WorkerLoop & { processPending(): Promise<number> } {
  const clock = options.clock ?? Date.now;

  async function processDelivery(row: InboxRow, rules: RouteRule[]): Promise<number> {
    const log = options.logger.child({ delivery: row.delivery_id, source: row.source, event: row.event });
    const result = normalizeStoredDelivery(row);
    if (result.outcome === "ignored") {
      await finishDelivery(options.db, row.id, {
        status: "ignored",
        eventName: null,
        detail: result.reason,
        at: clock(),
      });
      options.metrics.deliveriesProcessed.inc({ source: row.source, outcome: "ignored" });
      log.info({ reason: result.reason }, "Delivery recorded and ignored");
      return 0;
    }
    const event = result.event;
    const deliveries = routeEvent(event, rules, options.defaultChannel);
    const enqueued = await options.db.transaction().execute(async (trx) => {
      let item = event.item;
      if (item) {
        item = mergeItemSnapshot(await findTrackedItem(trx, item.key), item, event.name);
        await saveTrackedItem(trx, item, clock());
      }
      const rows = planMessages({
        event,
        deliveries,
        item,
        threadsSupported: options.threadsSupported,
        inboxId: row.id,
        originAt: row.received_at,
        now: clock(),
      });
      await enqueueMessages(trx, rows);
      const detail =
        deliveries.length > 0 ? `to ${deliveries.map((d) => d.route).join(", ")}` : "no route matched";
      await finishDelivery(trx, row.id, { status: "processed", eventName: event.name, detail, at: clock() });
      return rows.length;
    });
    options.metrics.deliveriesProcessed.inc({
      source: row.source,
      outcome: enqueued > 0 ? "posted" : "no_route",
    });
    log.info(
      { eventName: event.name, messages: enqueued },
      enqueued > 0 ? "Delivery routed" : "No route matched",
    );
    return enqueued;
  }

  async function processPending(): Promise<number> {
    const rows = await listPendingDeliveries(options.db, BATCH_SIZE);
    if (rows.length === 0) return 0;
    const rules = await options.listRules();
    let enqueued = 0;
    for (const row of rows) {
      try {
        enqueued += await processDelivery(row, rules);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const attempts = await recordDeliveryAttempt(options.db, row.id, message);
        const log = options.logger.child({ delivery: row.delivery_id, source: row.source });
        if (attempts >= MAX_PROCESSING_ATTEMPTS) {
          await finishDelivery(options.db, row.id, {
            status: "failed",
            eventName: null,
            detail: message,
            at: clock(),
          });
          options.metrics.deliveriesProcessed.inc({ source: row.source, outcome: "failed" });
          log.error({ err: error, attempts }, "Delivery failed repeatedly and was parked");
        } else {
          log.warn({ err: error, attempts }, "Delivery processing failed; will retry");
        }
      }
    }
    if (enqueued > 0) options.onEnqueued();
    return rows.length;
  }

  const loop = createWorkerLoop({
    runBatch: async () => ((await processPending()) === BATCH_SIZE ? 0 : IDLE_POLL_MS),
    onError: (error) => options.logger.error({ err: error }, "Inbox worker batch failed"),
  });
  return { ...loop, processPending };
}
