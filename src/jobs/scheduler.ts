/**
 * Runs the named jobs (all-jobs.ts) on their cron schedules with node-cron, and on demand for `/jobs run`.
 *
 * - Only one process runs scheduled jobs: the holder of the `scheduler` lease in the store, renewed every
 *   third of its lifetime. Processes without it stand by and take over when it expires, so several
 *   instances under PM2 (or on one Postgres) never run a job twice.
 * - A job never overlaps itself: within a process a run in flight makes the next one a recorded `skipped`;
 *   across processes (a manual run elsewhere) the per-job lease `job:<name>` does the same.
 * - Every run, skipped ones included, is a row in `job_runs` and counts in `switchboard_job_runs_total`.
 * - Catch-up: after each run the next slot is stored in `job_state`. When a process takes the lease and finds
 *   a stored slot in the past, that slot was missed while no process ran jobs; jobs with `catch_up` run once.
 */
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { createTask } from "node-cron";
import type { ScheduledTask } from "node-cron";
import type { JobConfig } from "../config/config-file.js";
import { ConfigError } from "../config/config-error.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import {
  findJobState,
  lastSuccessfulRunAt,
  latestJobRuns,
  listJobStates,
  recordJobRun,
  saveJobState,
} from "../store/job-run-repository.js";
import type { JobRun } from "../store/job-run-repository.js";
import { acquireLease, releaseLease } from "../store/lease-repository.js";
import type { JobRunOutcome, JobRunTrigger } from "../store/schema.js";
import type { Job, JobServices } from "./job.js";

export const SCHEDULER_LEASE = "scheduler";
const DEFAULT_LEASE_TTL_MS = 60_000;

export interface SchedulerOptions {
  jobs: readonly Job[];
  /** The config file's `jobs:` entries. */
  config: readonly JobConfig[];
  services: JobServices;
  logger: Logger;
  metrics: Pick<Metrics, "jobRuns" | "jobDuration">;
  /** The TZ variable; undefined: the system's zone. */
  defaultTimezone?: string;
  /** DISCORD_DEFAULT_CHANNEL_ID (or the console sink's "default"). */
  defaultChannel?: string;
  clock?: () => number;
  /** This process's name in the lease table; random by default. */
  holder?: string;
  leaseTtlMs?: number;
  /** Called after a real run that may have enqueued messages, so the outbox posts them at once. */
  onEnqueued?: () => void;
}

export interface JobStatus {
  name: string;
  description: string;
  schedule: string;
  timezone: string | undefined;
  enabled: boolean;
  paused: boolean;
  pausedBy: string | null;
  catchUp: boolean;
  channel: string | undefined;
  /** Epoch ms of the next scheduled run; undefined when disabled. */
  nextRunAt: number | undefined;
  lastRun: JobRun | undefined;
  running: boolean;
}

export interface JobRunReport {
  job: string;
  trigger: JobRunTrigger;
  outcome: JobRunOutcome;
  dryRun: boolean;
  items: number;
  summary: string;
  error?: string;
  startedAt: number;
  finishedAt: number;
}

export interface Scheduler {
  /** Every registered job's name. */
  names(): string[];
  /** Start the cron tasks and compete for the lease. */
  start(): Promise<void>;
  /** Stop the tasks, wait for runs in flight, give the lease up. */
  stop(): Promise<void>;
  list(): Promise<JobStatus[]>;
  /** Run one job now. A UserError-free API: unknown names throw a plain Error (check `names()` first). */
  run(name: string, options?: { dryRun?: boolean; trigger?: JobRunTrigger }): Promise<JobRunReport>;
  pause(name: string, by: string): Promise<void>;
  resume(name: string): Promise<void>;
  /** Whether this process holds the scheduler lease right now. */
  holdsLease(): boolean;
  /** Resolves once no run (and no catch-up) is in flight. */
  idle(): Promise<void>;
}

interface Entry {
  job: Job;
  schedule: string;
  timezone: string | undefined;
  enabled: boolean;
  catchUp: boolean;
  channel: string | undefined;
  /** Whether the job, with these options, posts to its channel. */
  needsChannel: boolean;
  options: unknown;
  task: ScheduledTask | undefined;
}

const noChannel = (job: string) =>
  `job "${job}" posts to Discord but has no channel: set its \`channel\` under \`jobs:\` or DISCORD_DEFAULT_CHANNEL_ID.`;

/** Resolve the config file's entries against the registered jobs; every mistake is a ConfigError. */
function resolveEntries(options: SchedulerOptions): Map<string, Entry> {
  const byName = new Map(options.jobs.map((job) => [job.name, job]));
  for (const configured of options.config) {
    if (!byName.has(configured.name)) {
      throw new ConfigError(
        `jobs: there is no job named "${configured.name}"; known jobs: ${[...byName.keys()].join(", ")}.`,
      );
    }
  }
  const entries = new Map<string, Entry>();
  for (const job of options.jobs) {
    const configured = options.config.find((entry) => entry.name === job.name);
    const parsed = job.options.safeParse(configured?.options ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map((issue) => `${issue.path.join(".") || "(options)"}: ${issue.message}`)
        .join("; ");
      throw new ConfigError(`jobs: job "${job.name}" has invalid options: ${problems}.`);
    }
    const enabled = configured?.enabled ?? (configured ? true : job.enabledByDefault);
    const channel = configured?.channel ?? options.defaultChannel;
    const needsChannel =
      typeof job.needsChannel === "function" ? job.needsChannel(parsed.data) : job.needsChannel;
    if (enabled && needsChannel && !channel) throw new ConfigError(`jobs: ${noChannel(job.name)}`);
    entries.set(job.name, {
      job,
      schedule: configured?.schedule ?? job.defaultSchedule,
      timezone: configured?.timezone ?? options.defaultTimezone,
      enabled,
      catchUp: configured?.catch_up ?? job.catchUpByDefault,
      channel,
      needsChannel,
      options: parsed.data,
      task: undefined,
    });
  }
  return entries;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const clock = options.clock ?? Date.now;
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const db = options.services.store.db;
  const logger = options.logger;
  const entries = resolveEntries(options);
  const running = new Set<string>();
  const inFlight = new Set<Promise<unknown>>();
  let held = false;
  let started = false;
  let renewTimer: NodeJS.Timeout | undefined;

  // node-cron's own warnings (a blocked overlap, a missed beat) go to our logger instead of the console.
  const cronLogger = {
    info: (message: string) => logger.debug({ component: "node-cron" }, message),
    warn: (message: string) => logger.debug({ component: "node-cron" }, message),
    error: (message: string | Error, err?: Error) =>
      logger.error({ component: "node-cron", err: err ?? message }, "node-cron reported an error"),
    debug: () => {},
  };
  for (const entry of entries.values()) {
    if (!entry.enabled) continue;
    entry.task = createTask(entry.schedule, () => track(onTick(entry)), {
      name: entry.job.name,
      ...(entry.timezone ? { timezone: entry.timezone } : {}),
      noOverlap: true,
      logger: cronLogger,
    });
    entry.task.on("execution:overlap", () => {
      void track(recordSkipped(entry, "schedule", "the previous run was still going"));
    });
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => {});
    return promise;
  }

  function entryFor(name: string): Entry {
    const entry = entries.get(name);
    if (!entry) throw new Error(`There is no job named "${name}".`);
    return entry;
  }

  function nextRunOf(entry: Entry): number | undefined {
    return entry.task?.getNextRuns(1)[0]?.getTime();
  }

  /** Take or renew the scheduler lease; on taking it, run what was missed. */
  async function ensureLease(): Promise<boolean> {
    const had = held;
    try {
      held = await acquireLease(db, { name: SCHEDULER_LEASE, holder, now: clock(), ttlMs: leaseTtlMs });
    } catch (error) {
      logger.error({ err: error }, "Could not renew the scheduler lease; not running jobs until it works");
      held = false;
    }
    if (held && !had) {
      logger.info({ holder }, "This process now runs the scheduled jobs");
      void track(catchUp());
    } else if (!held && had) {
      logger.warn({ holder }, "Lost the scheduler lease: another process runs the scheduled jobs now");
    }
    return held;
  }

  async function catchUp(): Promise<void> {
    for (const entry of entries.values()) {
      if (!entry.enabled || !started) continue;
      try {
        const state = await findJobState(db, entry.job.name);
        const missed = state?.next_run_at != null && state.next_run_at < clock();
        if (missed && entry.catchUp && !state.paused) {
          logger.info(
            { job: entry.job.name, missedAt: new Date(state.next_run_at!).toISOString() },
            "Running a job whose scheduled run was missed while no process ran jobs",
          );
          await execute(entry, "catch-up", false);
        }
        await saveJobState(db, entry.job.name, {
          next_run_at: nextRunOf(entry) ?? null,
          updated_at: clock(),
        });
      } catch (error) {
        logger.error({ err: error, job: entry.job.name }, "Catch-up check failed");
      }
    }
  }

  async function onTick(entry: Entry): Promise<void> {
    if (!started || !(await ensureLease())) return;
    try {
      const state = await findJobState(db, entry.job.name);
      if (state?.paused) {
        await recordSkipped(entry, "schedule", `paused${state.paused_by ? ` by ${state.paused_by}` : ""}`);
      } else {
        await execute(entry, "schedule", false);
      }
      await saveJobState(db, entry.job.name, { next_run_at: nextRunOf(entry) ?? null, updated_at: clock() });
    } catch (error) {
      logger.error({ err: error, job: entry.job.name }, "Scheduled job tick failed");
    }
  }

  async function recordSkipped(entry: Entry, trigger: JobRunTrigger, reason: string): Promise<JobRunReport> {
    const now = clock();
    const report: JobRunReport = {
      job: entry.job.name,
      trigger,
      outcome: "skipped",
      dryRun: false,
      items: 0,
      summary: `Skipped: ${reason}.`,
      startedAt: now,
      finishedAt: now,
    };
    logger.info({ job: entry.job.name, trigger, reason }, "Job run skipped");
    await save(report);
    return report;
  }

  async function save(report: JobRunReport): Promise<void> {
    options.metrics.jobRuns.inc({ job: report.job, outcome: report.outcome });
    if (report.outcome !== "skipped") {
      options.metrics.jobDuration.observe({ job: report.job }, (report.finishedAt - report.startedAt) / 1000);
    }
    await recordJobRun(db, {
      job: report.job,
      trigger: report.trigger,
      started_at: report.startedAt,
      finished_at: report.finishedAt,
      outcome: report.outcome,
      items: report.items,
      summary: report.summary,
      error: report.error ?? null,
      dry_run: report.dryRun ? 1 : 0,
    }).catch((error: unknown) =>
      logger.error({ err: error, job: report.job }, "Could not record the job run"),
    );
  }

  async function execute(entry: Entry, trigger: JobRunTrigger, dryRun: boolean): Promise<JobRunReport> {
    const name = entry.job.name;
    if (running.has(name)) return recordSkipped(entry, trigger, "the previous run is still going");
    running.add(name);
    const jobLease = { name: `job:${name}`, holder };
    let renew: NodeJS.Timeout | undefined;
    try {
      if (!(await acquireLease(db, { ...jobLease, now: clock(), ttlMs: leaseTtlMs }))) {
        return await recordSkipped(entry, trigger, "another process is running it");
      }
      renew = setInterval(() => {
        acquireLease(db, { ...jobLease, now: clock(), ttlMs: leaseTtlMs }).catch((error: unknown) =>
          logger.warn({ err: error, job: name }, "Could not renew the job's lease"),
        );
      }, leaseTtlMs / 3);
      const startedAt = clock();
      const runLogger = logger.child({ job: name, run: randomUUID().slice(0, 8), trigger, dryRun });
      const since = (await lastSuccessfulRunAt(db, name)) ?? startedAt - entry.job.defaultLookBackMs;
      let report: JobRunReport;
      try {
        // A job left off `jobs:` is not checked at start-up, but may still be run with /jobs run.
        if (entry.needsChannel && !entry.channel) throw new Error(`The ${noChannel(name)}`);
        runLogger.info("Job run started");
        const result = await entry.job.run({
          dryRun,
          now: startedAt,
          since,
          logger: runLogger,
          services: options.services,
          options: entry.options,
          channel: entry.channel,
          timezone: entry.timezone,
        });
        report = { job: name, trigger, outcome: "ok", dryRun, ...result, startedAt, finishedAt: clock() };
        runLogger.info({ items: result.items, summary: result.summary }, "Job run finished");
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        report = {
          job: name,
          trigger,
          outcome: "error",
          dryRun,
          items: 0,
          summary: `Failed: ${message}`,
          error: message,
          startedAt,
          finishedAt: clock(),
        };
        runLogger.error({ err: error }, "Job run failed");
      }
      await save(report);
      if (!dryRun && report.outcome === "ok") options.onEnqueued?.();
      return report;
    } finally {
      clearInterval(renew);
      running.delete(name);
      await releaseLease(db, jobLease).catch(() => {});
    }
  }

  return {
    names: () => [...entries.keys()],

    async start() {
      if (started) return;
      started = true;
      for (const entry of entries.values()) await entry.task?.start();
      await ensureLease();
      renewTimer = setInterval(() => void ensureLease(), leaseTtlMs / 3);
      const enabled = [...entries.values()].filter((entry) => entry.enabled);
      logger.info(
        { jobs: enabled.map((entry) => `${entry.job.name} (${entry.schedule})`), leader: held },
        "Scheduler started",
      );
    },

    async stop() {
      started = false;
      clearInterval(renewTimer);
      for (const entry of entries.values()) await entry.task?.destroy();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      if (held) await releaseLease(db, { name: SCHEDULER_LEASE, holder }).catch(() => {});
      held = false;
    },

    async list() {
      const [states, latest] = await Promise.all([listJobStates(db), latestJobRuns(db)]);
      return [...entries.values()].map((entry) => {
        const state = states.get(entry.job.name);
        return {
          name: entry.job.name,
          description: entry.job.description,
          schedule: entry.schedule,
          timezone: entry.timezone,
          enabled: entry.enabled,
          paused: Boolean(state?.paused),
          pausedBy: state?.paused_by ?? null,
          catchUp: entry.catchUp,
          channel: entry.channel,
          nextRunAt: nextRunOf(entry),
          lastRun: latest.get(entry.job.name),
          running: running.has(entry.job.name),
        };
      });
    },

    run(name, runOptions = {}) {
      const entry = entryFor(name);
      return track(execute(entry, runOptions.trigger ?? "manual", runOptions.dryRun ?? false));
    },

    async pause(name, by) {
      entryFor(name);
      await saveJobState(db, name, { paused: 1, paused_by: by, updated_at: clock() });
    },

    async resume(name) {
      entryFor(name);
      await saveJobState(db, name, { paused: 0, paused_by: null, updated_at: clock() });
    },

    holdsLease: () => held,

    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
