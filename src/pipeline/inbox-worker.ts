/**
 * Turns stored deliveries into outbox messages. Each delivery is handled atomically (normalize, route, update
 * the item, enqueue, mark processed), so a crash either leaves it pending or fully handled: never
 * half-posted, never twice.
 */
import type { Kysely } from "kysely";
import type { EnvironmentConfig } from "../config/config-file.js";
import { isDeploymentEvent, trackDeployment } from "../deploy/deployment-tracker.js";
import type { DeploymentTracking } from "../deploy/deployment-tracker.js";
import type { NormalizeResult } from "../events/domain-event.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { finishDelivery, listPendingDeliveries, recordDeliveryAttempt } from "../store/inbox-repository.js";
import type { InboxRow } from "../store/inbox-repository.js";
import { findLinkedDiscordUsers } from "../store/identity-repository.js";
import { findTrackedItem, saveTrackedItem } from "../store/item-repository.js";
import { enqueueMessages } from "../store/outbox-repository.js";
import type { DatabaseSchema } from "../store/schema.js";
import { mergeItemSnapshot } from "./item-tracker.js";
import { mentionTargets } from "./mention-targets.js";
import { normalizeStoredDelivery } from "./normalize-delivery.js";
import { planMessages } from "./plan-messages.js";
import { routeEvent } from "./router.js";
import type { RouteRule } from "./router.js";
import type { IngestionPriority } from "./ingestion-priority.js";
import { createWorkerLoop } from "./worker-loop.js";
import type { WorkerLoop } from "./worker-loop.js";

/** A delivery that fails this many times (a bug, not bad input) is parked as failed for an operator. */
const MAX_PROCESSING_ATTEMPTS = 5;
/** Deliveries per batch and transaction: bounds how long one batch holds the event loop (about 1 ms each). */
const BATCH_SIZE = 10;
/**
 * In one process a stored delivery wakes this worker at once; a worker in its own process (the PM2 layout)
 * learns of new deliveries only by polling, so the poll interval is its added latency. One indexed query
 * every 100 ms is cheap.
 */
const IDLE_POLL_MS = 100;
/**
 * How long one batch's transaction may last. It holds the event loop, which webhooks in the same process
 * share, and the database's write lock, which the other processes of the PM2 layout wait for (their
 * deliveries included).
 */
const BATCH_BUDGET_MS = 3;
/** While webhooks arrive, only what fits in the budget is read: reading more is wasted work. */
const BUSY_BATCH_SIZE = 3;

export interface InboxWorkerOptions {
  db: Kysely<DatabaseSchema>;
  logger: Logger;
  metrics: Metrics;
  /** Config-file routes and chat subscriptions, read per batch so new subscriptions apply at once. */
  listRules: () => Promise<RouteRule[]>;
  defaultChannel: string | undefined;
  /** The config file's environments: where deployment cards go and whom a failure pings. */
  environments?: readonly EnvironmentConfig[];
  threadsSupported: boolean;
  clock?: () => number;
  /** Called after messages were enqueued, to wake the outbox worker. */
  onEnqueued: () => void;
  /** Webhook receivers in the same process go first while deliveries keep arriving. */
  priority?: IngestionPriority;
}

export function createInboxWorker(
  options: InboxWorkerOptions,
): WorkerLoop & { processPending(): Promise<number> } {
  const clock = options.clock ?? Date.now;

  /**
   * Stores what one delivery becomes, inside the batch's transaction; returns what to log and count once the
   * batch is committed.
   */
  async function processDelivery(
    trx: Kysely<DatabaseSchema>,
    row: InboxRow,
    result: NormalizeResult,
    rules: RouteRule[],
  ): Promise<() => number> {
    const log = options.logger.child({ delivery: row.delivery_id, source: row.source, event: row.event });
    if (result.outcome === "ignored") {
      await finishDelivery(trx, row.id, {
        status: "ignored",
        eventName: null,
        detail: result.reason,
        at: clock(),
      });
      return () => {
        options.metrics.deliveriesProcessed.inc({ source: row.source, outcome: "ignored" });
        log.info({ reason: result.reason }, "Delivery recorded and ignored");
        return 0;
      };
    }
    const event = result.event;
    // Deployment tracking (src/deploy/deployment-tracker.ts): state, card and ship notice, in this transaction.
    const tracking: DeploymentTracking = isDeploymentEvent(event)
      ? await trackDeployment(trx, event, {
          environments: options.environments ?? [],
          defaultChannel: options.defaultChannel,
          inboxId: row.id,
          originAt: row.received_at,
          now: clock(),
        })
      : { rows: [], cardChannel: undefined };
    // The deployment's card already tells its channel; a plain message there too would say it twice.
    const deliveries = routeEvent(event, rules, options.defaultChannel).filter(
      (delivery) => delivery.channel !== tracking.cardChannel,
    );
    let item = event.item;
    if (item) {
      item = mergeItemSnapshot(await findTrackedItem(trx, item.key), item, event.name);
      await saveTrackedItem(trx, item, clock());
    }
    // Linked Discord members this event asks something of: a requested reviewer, a new assignee.
    const mentions = deliveries.length > 0 ? await findLinkedDiscordUsers(trx, mentionTargets(event)) : [];
    const routed = planMessages({
      event,
      deliveries,
      item,
      threadsSupported: options.threadsSupported,
      inboxId: row.id,
      originAt: row.received_at,
      now: clock(),
      mentions,
    });
    const rows = [...tracking.rows, ...routed];
    await enqueueMessages(trx, rows);
    const routes = [
      ...(tracking.rows.length > 0 ? [tracking.rows[0]!.route] : []),
      ...deliveries.map((d) => d.route),
    ];
    const detail = routes.length > 0 ? `to ${routes.join(", ")}` : "no route matched";
    await finishDelivery(trx, row.id, { status: "processed", eventName: event.name, detail, at: clock() });
    return () => {
      options.metrics.deliveriesProcessed.inc({
        source: row.source,
        outcome: rows.length > 0 ? "posted" : "no_route",
      });
      if (tracking.reached) options.metrics.deploymentTransitions.inc(tracking.reached);
      log.info(
        { eventName: event.name, messages: rows.length },
        rows.length > 0 ? "Delivery routed" : "No route matched",
      );
      return rows.length;
    };
  }

  /** A delivery that threw: its own work is rolled back, the attempt is counted, and it is parked at the limit. */
  async function recordFailure(
    trx: Kysely<DatabaseSchema>,
    row: InboxRow,
    error: unknown,
  ): Promise<() => number> {
    const message = error instanceof Error ? error.message : String(error);
    const attempts = await recordDeliveryAttempt(trx, row.id, message);
    const parked = attempts >= MAX_PROCESSING_ATTEMPTS;
    if (parked) {
      await finishDelivery(trx, row.id, { status: "failed", eventName: null, detail: message, at: clock() });
    }
    return () => {
      const log = options.logger.child({ delivery: row.delivery_id, source: row.source });
      if (parked) {
        options.metrics.deliveriesProcessed.inc({ source: row.source, outcome: "failed" });
        log.error({ err: error, attempts }, "Delivery failed repeatedly and was parked");
      } else {
        log.warn({ err: error, attempts }, "Delivery processing failed; will retry");
      }
      return 0;
    };
  }

  /**
   * One transaction for the whole batch, one savepoint per delivery: a commit per delivery would cost the
   * webhook receivers, which share the event loop, a commit's work each time. A delivery that throws rolls
   * back to its savepoint alone; a crash before the commit leaves the whole batch pending, so each delivery
   * is still handled entirely or not at all. The batch takes the deliveries parsed within BATCH_BUDGET_MS.
   *
   * Parsing and checking payloads, the costly part, needs no lock, so it happens before the transaction:
   * the write lock, which the inbox writer waits for with every webhook's answer, is held for the writes.
   */
  async function processBatch(): Promise<{ processed: number; more: boolean }> {
    const limit = options.priority?.receiving() ? BUSY_BATCH_SIZE : BATCH_SIZE;
    const rows = await listPendingDeliveries(options.db, limit);
    if (rows.length === 0) return { processed: 0, more: false };
    const rules = await options.listRules();
    const started = performance.now();
    const parsed: Array<{ row: InboxRow; result: NormalizeResult } | { row: InboxRow; error: unknown }> = [];
    for (const row of rows) {
      if (parsed.length > 0 && performance.now() - started > BATCH_BUDGET_MS) break;
      try {
        parsed.push({ row, result: normalizeStoredDelivery(row) });
      } catch (error) {
        parsed.push({ row, error });
      }
    }
    const afterCommit: Array<() => number> = [];
    const trx = await options.db.startTransaction().execute();
    try {
      for (const delivery of parsed) {
        const { row } = delivery;
        const savepoint = await trx.savepoint("delivery").execute();
        try {
          if ("error" in delivery) throw delivery.error;
          afterCommit.push(await processDelivery(savepoint, row, delivery.result, rules));
        } catch (error) {
          await savepoint.rollbackToSavepoint("delivery").execute();
          afterCommit.push(await recordFailure(savepoint, row, error));
        }
        await savepoint.releaseSavepoint("delivery").execute();
      }
      await trx.commit().execute();
    } catch (error) {
      // The batch's failure is the error worth reporting, not a rollback that fails after it.
      await trx
        .rollback()
        .execute()
        .catch(() => undefined);
      throw error;
    }
    const enqueued = afterCommit.reduce((sum, report) => sum + report(), 0);
    if (enqueued > 0) options.onEnqueued();
    return { processed: afterCommit.length, more: rows.length === limit || afterCommit.length < rows.length };
  }

  async function processPending(): Promise<number> {
    return (await processBatch()).processed;
  }

  const loop = createWorkerLoop({
    runBatch: async () => ((await processBatch()).more ? 0 : IDLE_POLL_MS),
    onError: (error) => options.logger.error({ err: error }, "Inbox worker batch failed"),
    ...(options.priority ? { priority: options.priority } : {}),
  });
  return { ...loop, processPending };
}
