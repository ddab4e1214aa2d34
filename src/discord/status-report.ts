/**
 * What `/status` shows: this instance's version and uptime, the gateway connection, when each source last
 * delivered, and the outbox backlog. Gathered from the store and the running instance; rendering is the
 * command's.
 */
import { readFileSync } from "node:fs";
import type { Kysely } from "kysely";
import { latestDeliveryTimes } from "../store/inbox-repository.js";
import { countMessagesByStatus } from "../store/outbox-repository.js";
import type { DatabaseSchema } from "../store/schema.js";
import type { GatewayState } from "./gateway.js";

/** The latest run of one scheduled job. */
export interface JobRunSummary {
  name: string;
  lastRunAt: number | null;
  outcome: string | null;
}

export interface StatusReport {
  version: string;
  uptimeSeconds: number;
  /** undefined when this process has no gateway connection (HTTP interactions only). */
  gateway: GatewayState | undefined;
  /** Source (github, linear) -> when its latest delivery arrived, epoch milliseconds. */
  lastDeliveries: Record<string, number>;
  outbox: { pending: number; dead: number };
  /** undefined until the jobs feature reports its runs (see `jobRuns` below). */
  jobs: JobRunSummary[] | undefined;
}

export type StatusReporter = () => Promise<StatusReport>;

/** package.json sits two levels above this module in both src/ and dist/. */
export function packageVersion(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    return (JSON.parse(text) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function createStatusReporter(options: {
  db: Kysely<DatabaseSchema>;
  clock: () => number;
  /** When this instance started, epoch milliseconds. */
  startedAt: number;
  version?: string;
  gatewayState?: () => GatewayState | undefined;
  /** The jobs feature plugs its latest runs in here; until then /status says jobs are not scheduled. */
  jobRuns?: () => Promise<JobRunSummary[]>;
}): StatusReporter {
  const version = options.version ?? packageVersion();
  return async () => {
    const [lastDeliveries, counts, jobs] = await Promise.all([
      latestDeliveryTimes(options.db),
      countMessagesByStatus(options.db),
      options.jobRuns?.(),
    ]);
    return {
      version,
      uptimeSeconds: Math.max(0, Math.floor((options.clock() - options.startedAt) / 1000)),
      gateway: options.gatewayState?.(),
      lastDeliveries,
      outbox: { pending: counts.pending, dead: counts.dead },
      jobs,
    };
  };
}
