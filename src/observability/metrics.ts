/** Prometheus metrics: one registry per process, named `switchboard_*`, documented in the runbook. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  registry: Registry;
  /** Webhook deliveries by source, event and outcome (accepted, duplicate, bad_signature, malformed, ...). */
  deliveriesReceived: Counter<"source" | "event" | "outcome">;
  /** Time from request start to the answer on webhook routes. */
  ackLatency: Histogram<"source">;
  /** Inbox processing results: posted, ignored, no_route, failed. */
  deliveriesProcessed: Counter<"source" | "outcome">;
  /** Outbox rows by status; set from the store at scrape time. */
  outboxMessages: Gauge<"status">;
  /** Every HTTP response from Discord, by status code. */
  discordRequests: Counter<"status">;
  /** Failed delivery attempts to Discord by kind: retryable or permanent. */
  outboxFailures: Counter<"kind">;
  /** From the webhook's receipt to Discord confirming the message. */
  notificationLatency: Histogram;
  /** Interactions by command and outcome (ok, refused, denied, error, unknown, rate_limited). */
  interactions: Counter<"command" | "outcome">;
  /** Scheduled job runs by job and outcome (ok, error, skipped). */
  jobRuns: Counter<"job" | "outcome">;
  /** How long job runs take. */
  jobDuration: Histogram<"job">;
  /** 1 while the Discord gateway session is ready, 0 otherwise; absent in processes without a gateway. */
  gatewayConnected: Gauge;
  /** Deployment state changes GitHub's statuses caused, by environment and new state (queued ... inactive). */
  deploymentTransitions: Counter<"environment" | "state">;
  /** Linear follow-ups of shipped deployments (comment + state move per issue), by outcome (ok, skipped, error). */
  shipNotices: Counter<"outcome">;
}

export function createMetrics(
  options: {
    collectOutbox?: () => Promise<Record<string, number>>;
    /** Whether the gateway is connected, read at scrape time; undefined when this process runs none. */
    gatewayConnected?: () => boolean | undefined;
  } = {},
): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "switchboard_" });
  const collectOutbox = options.collectOutbox;
  const gatewayConnected = options.gatewayConnected;
  return {
    registry,
    deliveriesReceived: new Counter({
      name: "switchboard_webhook_deliveries_total",
      help: "Webhook deliveries received, by source, event and outcome.",
      labelNames: ["source", "event", "outcome"],
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: "switchboard_webhook_ack_seconds",
      help: "Time to acknowledge a webhook delivery.",
      labelNames: ["source"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    deliveriesProcessed: new Counter({
      name: "switchboard_deliveries_processed_total",
      help: "Stored deliveries processed by the inbox worker, by outcome.",
      labelNames: ["source", "outcome"],
      registers: [registry],
    }),
    outboxMessages: new Gauge({
      name: "switchboard_outbox_messages",
      help: "Outbox messages by status (pending, dead).",
      labelNames: ["status"],
      registers: [registry],
      async collect() {
        if (!collectOutbox) return;
        // With the store down the gauge keeps its last values: the scrape must still answer, because its
        // delivery counters are what shows the outage.
        const counts = await collectOutbox().catch(() => undefined);
        if (!counts) return;
        for (const status of ["pending", "dead"]) this.set({ status }, counts[status] ?? 0);
      },
    }),
    discordRequests: new Counter({
      name: "switchboard_discord_requests_total",
      help: "HTTP responses from Discord, by status code.",
      labelNames: ["status"],
      registers: [registry],
    }),
    outboxFailures: new Counter({
      name: "switchboard_outbox_failures_total",
      help: "Failed attempts to deliver an outbox message, by kind (retryable, permanent).",
      labelNames: ["kind"],
      registers: [registry],
    }),
    notificationLatency: new Histogram({
      name: "switchboard_notification_latency_seconds",
      help: "From a webhook's receipt to Discord confirming the message.",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    interactions: new Counter({
      name: "switchboard_interactions_total",
      help: "Discord interactions handled, by command and outcome (ok, refused, denied, error, unknown, rate_limited).",
      labelNames: ["command", "outcome"],
      registers: [registry],
    }),
    jobRuns: new Counter({
      name: "switchboard_job_runs_total",
      help: "Scheduled job runs, by job and outcome (ok, error, skipped).",
      labelNames: ["job", "outcome"],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: "switchboard_job_duration_seconds",
      help: "Duration of scheduled job runs.",
      labelNames: ["job"],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers: [registry],
    }),
    gatewayConnected: new Gauge({
      name: "switchboard_gateway_connected",
      help: "1 while the Discord gateway session is ready, 0 while connecting or disconnected.",
      registers: [registry],
      collect() {
        const connected = gatewayConnected?.();
        if (connected !== undefined) this.set(connected ? 1 : 0);
      },
    }),
    deploymentTransitions: new Counter({
      name: "switchboard_deployment_transitions_total",
      help: "Deployment state changes told by GitHub deployment statuses, by environment and the state reached (queued, in_progress, success, failure, error, inactive).",
      labelNames: ["environment", "state"],
      registers: [registry],
    }),
    shipNotices: new Counter({
      name: "switchboard_ship_notices_total",
      help: "Linear issues told that they shipped (comment and state move), by outcome (ok, skipped: no such issue, error).",
      labelNames: ["outcome"],
      registers: [registry],
    }),
  };
}
