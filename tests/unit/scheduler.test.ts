/**
 * The scheduler under fake timers: node-cron's clock and ours are both vitest's, so a day of schedule passes
 * in milliseconds. Runs are observed the way an operator sees them: rows in job_runs and the metrics.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { ConfigError } from "../../src/config/config-error.js";
import { parseConfigFile } from "../../src/config/config-file.js";
import type { JobConfig } from "../../src/config/config-file.js";
import { defineJob } from "../../src/jobs/job.js";
import { retention } from "../../src/jobs/retention.js";
import type { Job, JobContext } from "../../src/jobs/job.js";
import { SCHEDULER_LEASE, createScheduler } from "../../src/jobs/scheduler.js";
import type { Scheduler } from "../../src/jobs/scheduler.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import type { Metrics } from "../../src/observability/metrics.js";
import { openStore } from "../../src/store/database.js";
import type { Store } from "../../src/store/database.js";
import { listJobRuns } from "../../src/store/job-run-repository.js";
import { acquireLease, findLease } from "../../src/store/lease-repository.js";

let directory: string;
let databasePath: string;
const stores: Store[] = [];
const schedulers: Scheduler[] = [];

beforeEach(() => {
  vi.useFakeTimers();
  directory = mkdtempSync(join(tmpdir(), "switchboard-scheduler-"));
  databasePath = join(directory, "switchboard.db");
});

afterEach(async () => {
  for (const scheduler of schedulers.splice(0)) await scheduler.stop();
  for (const store of stores.splice(0)) await store.close();
  vi.useRealTimers();
  rmSync(directory, { recursive: true, force: true });
});

const quiet = () =>
  createLogger({
    level: "silent",
    format: "json",
    secrets: [],
    destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
  });

async function open(): Promise<Store> {
  const store = await openStore(`sqlite:${databasePath}`);
  stores.push(store);
  return store;
}

interface Recorder {
  job: Job;
  runs: JobContext[];
  /** Resolve the run in flight (jobs made with `hold`). */
  release(): void;
}

function recordingJob(
  name: string,
  options: { schedule?: string; catchUp?: boolean; hold?: boolean; enabled?: boolean } = {},
): Recorder {
  const runs: JobContext[] = [];
  let release = () => {};
  const job = defineJob({
    name,
    description: `the ${name} job`,
    defaultSchedule: options.schedule ?? "* * * * *",
    enabledByDefault: options.enabled ?? true,
    catchUpByDefault: options.catchUp ?? false,
    needsChannel: false,
    defaultLookBackMs: 60_000,
    options: z.object({}),
    async run(context) {
      runs.push(context);
      if (options.hold) await new Promise<void>((resolve) => (release = resolve));
      return { items: 1, summary: context.dryRun ? "would do one thing" : "did one thing" };
    },
  });
  return { job, runs, release: () => release() };
}

async function startScheduler(
  store: Store,
  jobs: Job[],
  extra: {
    config?: JobConfig[];
    timezone?: string;
    holder?: string;
    metrics?: Metrics;
    leaseTtlMs?: number;
  } = {},
): Promise<Scheduler> {
  const scheduler = createScheduler({
    jobs,
    config: extra.config ?? [],
    services: { store, config: parseConfigFile("", "test.yaml") },
    logger: quiet(),
    metrics: extra.metrics ?? createMetrics(),
    ...(extra.timezone ? { defaultTimezone: extra.timezone } : {}),
    ...(extra.holder ? { holder: extra.holder } : {}),
    leaseTtlMs: extra.leaseTtlMs ?? 30_000,
  });
  schedulers.push(scheduler);
  await scheduler.start();
  return scheduler;
}

const at = (iso: string) => new Date(iso).getTime();

describe("schedules and time zones", () => {
  it("runs a job at its cron slot, read in the job's time zone", async () => {
    vi.setSystemTime(at("2025-03-03T13:59:30Z")); // Monday, 08:59:30 in New York (EST)
    const store = await open();
    const newYork = recordingJob("ny", { schedule: "0 9 * * *" });
    const berlin = recordingJob("berlin", { schedule: "0 9 * * *" });
    await startScheduler(store, [newYork.job, berlin.job], {
      config: [
        { name: "ny", timezone: "America/New_York", options: {} },
        { name: "berlin", timezone: "Europe/Berlin", options: {} },
      ],
      // Renewing every 20 min instead of every 10 s keeps 18 simulated hours quick.
      leaseTtlMs: 60 * 60_000,
    });

    await vi.advanceTimersByTimeAsync(60_000);
    expect(newYork.runs.map((run) => new Date(run.now).toISOString())).toEqual(["2025-03-03T14:00:00.000Z"]);
    // 09:00 in Berlin (CET) is 08:00 UTC: the next day's slot, not reached yet.
    expect(berlin.runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(18 * 60 * 60_000);
    expect(berlin.runs.map((run) => new Date(run.now).toISOString())).toEqual(["2025-03-04T08:00:00.000Z"]);
  });

  it("keeps a job at the same local hour across a daylight-saving change", async () => {
    vi.setSystemTime(at("2025-03-29T07:30:00Z")); // Saturday; Berlin moves to summer time on Sunday 02:00
    const store = await open();
    const morning = recordingJob("morning", { schedule: "0 9 * * *" });
    await startScheduler(store, [morning.job], {
      config: [{ name: "morning", timezone: "Europe/Berlin", options: {} }],
      leaseTtlMs: 60 * 60_000,
    });

    await vi.advanceTimersByTimeAsync(24 * 60 * 60_000);
    // 09:00 CET is 08:00 UTC; 09:00 CEST, a day later, is 07:00 UTC.
    expect(morning.runs.map((run) => new Date(run.now).toISOString())).toEqual([
      "2025-03-29T08:00:00.000Z",
      "2025-03-30T07:00:00.000Z",
    ]);
  });

  it("reads schedules in the TZ default when a job names no zone, and lists the next run", async () => {
    vi.setSystemTime(at("2025-03-03T00:00:00Z"));
    const store = await open();
    const daily = recordingJob("daily", { schedule: "30 6 * * *" });
    const scheduler = await startScheduler(store, [daily.job], { timezone: "Asia/Tokyo" });

    const [status] = await scheduler.list();
    // 06:30 in Tokyo (UTC+9) is 21:30 UTC the day before; from midnight UTC the next is the same evening.
    expect(new Date(status!.nextRunAt!).toISOString()).toBe("2025-03-03T21:30:00.000Z");
    expect(status).toMatchObject({
      name: "daily",
      schedule: "30 6 * * *",
      timezone: "Asia/Tokyo",
      enabled: true,
    });
  });

  it("records every run with its outcome and counts it in the metrics", async () => {
    vi.setSystemTime(at("2025-03-03T10:00:30Z"));
    const store = await open();
    const metrics = createMetrics();
    const ok = recordingJob("works");
    const failing = defineJob({
      ...recordingJob("breaks").job,
      name: "breaks",
      async run() {
        throw new Error("the flux capacitor is missing");
      },
    });
    await startScheduler(store, [ok.job, failing], { metrics });

    await vi.advanceTimersByTimeAsync(60_000);
    const [worked] = await listJobRuns(store.db, "works", 5);
    const [broke] = await listJobRuns(store.db, "breaks", 5);
    expect(worked).toMatchObject({
      outcome: "ok",
      items: 1,
      summary: "did one thing",
      dry_run: 0,
      trigger: "schedule",
    });
    expect(broke).toMatchObject({ outcome: "error", items: 0, error: "the flux capacitor is missing" });
    const text = await metrics.registry.metrics();
    expect(text).toContain('switchboard_job_runs_total{job="works",outcome="ok"} 1');
    expect(text).toContain('switchboard_job_runs_total{job="breaks",outcome="error"} 1');
    expect(text).toContain('switchboard_job_duration_seconds_count{job="works"} 1');
  });

  it("does not schedule a disabled job, but runs it on demand, as a dry run too", async () => {
    vi.setSystemTime(at("2025-03-03T10:00:30Z"));
    const store = await open();
    const off = recordingJob("off");
    const scheduler = await startScheduler(store, [off.job], {
      config: [{ name: "off", enabled: false, options: {} }],
    });
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(off.runs).toEqual([]);

    const report = await scheduler.run("off", { dryRun: true });
    expect(report).toMatchObject({
      outcome: "ok",
      dryRun: true,
      summary: "would do one thing",
      trigger: "manual",
    });
    expect(off.runs.map((run) => run.dryRun)).toEqual([true]);
    expect((await listJobRuns(store.db, "off", 5))[0]).toMatchObject({ dry_run: 1, trigger: "manual" });
  });

  it("skips and records the scheduled runs of a paused job until it is resumed", async () => {
    vi.setSystemTime(at("2025-03-03T10:00:30Z"));
    const store = await open();
    const job = recordingJob("pausable");
    const scheduler = await startScheduler(store, [job.job]);
    await scheduler.pause("pausable", "ada");

    await vi.advanceTimersByTimeAsync(60_000);
    expect(job.runs).toEqual([]);
    expect((await listJobRuns(store.db, "pausable", 5))[0]).toMatchObject({
      outcome: "skipped",
      summary: "Skipped: paused by ada.",
    });
    expect((await scheduler.list())[0]).toMatchObject({ paused: true, pausedBy: "ada" });

    await scheduler.resume("pausable");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(job.runs).toHaveLength(1);
  });
});

describe("overlap", () => {
  it("never runs a job twice at once: a slot that comes while it runs is recorded as skipped", async () => {
    vi.setSystemTime(at("2025-03-03T10:00:30Z"));
    const store = await open();
    const slow = recordingJob("slow", { hold: true });
    const scheduler = await startScheduler(store, [slow.job]);

    await vi.advanceTimersByTimeAsync(60_000); // 10:01 starts a run that does not finish
    await vi.advanceTimersByTimeAsync(60_000); // 10:02 comes while it runs
    expect(slow.runs).toHaveLength(1);
    const manual = await scheduler.run("slow"); // and so does a manual run
    expect(manual).toMatchObject({
      outcome: "skipped",
      summary: "Skipped: the previous run is still going.",
    });
    slow.release();
    await scheduler.idle();

    const outcomes = (await listJobRuns(store.db, "slow", 10)).map((run) => `${run.trigger}:${run.outcome}`);
    expect(outcomes.sort()).toEqual(["manual:skipped", "schedule:ok", "schedule:skipped"]);
    await vi.advanceTimersByTimeAsync(60_000); // 10:03 runs normally again
    expect(slow.runs).toHaveLength(2);
    slow.release();
  });
});

describe("overlap across processes", () => {
  it("skips a run asked of one process while another process runs the same job", async () => {
    vi.setSystemTime(at("2025-03-03T10:00:30Z"));
    const storeA = await open();
    const storeB = await open();
    const slow = recordingJob("slow", { hold: true, enabled: false });
    const a = await startScheduler(storeA, [slow.job], { holder: "process-a" });
    const b = await startScheduler(storeB, [slow.job], { holder: "process-b" });

    const first = a.run("slow");
    await vi.advanceTimersByTimeAsync(10);
    const second = await b.run("slow");
    expect(second).toMatchObject({ outcome: "skipped", summary: "Skipped: another process is running it." });
    slow.release();
    expect(await first).toMatchObject({ outcome: "ok" });

    // Once it finished, the other process may run it.
    const third = b.run("slow");
    await vi.advanceTimersByTimeAsync(10);
    slow.release();
    expect(await third).toMatchObject({ outcome: "ok" });
    expect(slow.runs).toHaveLength(2);
  });
});

describe("catch-up after downtime", () => {
  it("runs a missed slot once after start when catch_up is on, and not at all when it is off", async () => {
    vi.setSystemTime(at("2025-03-03T08:59:30Z")); // Monday
    const first = await open();
    const digest = recordingJob("digest", { schedule: "0 9 * * 1-5", catchUp: true });
    const report = recordingJob("report", { schedule: "0 9 * * 1-5", catchUp: false });
    const before = await startScheduler(first, [digest.job, report.job], { timezone: "UTC" });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(digest.runs).toHaveLength(1);
    expect(report.runs).toHaveLength(1);
    await before.stop();

    // Down from Monday 09:01 to Wednesday 12:00: the Tuesday and Wednesday slots were missed.
    vi.setSystemTime(at("2025-03-05T12:00:00Z"));
    const second = await open();
    const after = await startScheduler(second, [digest.job, report.job], { timezone: "UTC" });
    await after.idle();

    expect(digest.runs).toHaveLength(2);
    expect(report.runs).toHaveLength(1);
    const [latest] = await listJobRuns(second.db, "digest", 1);
    expect(latest).toMatchObject({ trigger: "catch-up", outcome: "ok" });
    // The window starts at the last successful run, Monday's.
    expect(new Date(digest.runs[1]!.since).toISOString()).toBe("2025-03-03T09:00:00.000Z");

    // A restart without downtime catches nothing up.
    await after.stop();
    const third = await startScheduler(second, [digest.job, report.job], { timezone: "UTC" });
    await third.idle();
    expect(digest.runs).toHaveLength(2);
  });
});

describe("catch-up with several processes and paused jobs", () => {
  async function missMondayToWednesday(job: Recorder): Promise<void> {
    vi.setSystemTime(at("2025-03-03T08:59:30Z"));
    const before = await startScheduler(await open(), [job.job], { timezone: "UTC" });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(job.runs).toHaveLength(1);
    await before.stop();
    vi.setSystemTime(at("2025-03-05T12:00:00Z"));
  }

  it("catches a missed slot up once when two processes start on one database", async () => {
    const digest = recordingJob("digest", { schedule: "0 9 * * 1-5", catchUp: true });
    await missMondayToWednesday(digest);

    const a = await startScheduler(await open(), [digest.job], { timezone: "UTC", holder: "process-a" });
    const b = await startScheduler(await open(), [digest.job], { timezone: "UTC", holder: "process-b" });
    await a.idle();
    await b.idle();

    expect(digest.runs).toHaveLength(2);
    expect(digest.runs[1]!.dryRun).toBe(false);
  });

  it("does not catch up a paused job", async () => {
    const digest = recordingJob("digest", { schedule: "0 9 * * 1-5", catchUp: true });
    await missMondayToWednesday(digest);
    const store = await open();
    const paused = createScheduler({
      jobs: [digest.job],
      config: [],
      services: { store, config: parseConfigFile("", "test.yaml") },
      logger: quiet(),
      metrics: createMetrics(),
    });
    await paused.pause("digest", "ada");

    const after = await startScheduler(store, [digest.job], { timezone: "UTC" });
    await after.idle();
    expect(digest.runs).toHaveLength(1);
  });
});

describe("the lease", () => {
  it("lets only one of two schedulers sharing a database run jobs, and the other take over", async () => {
    vi.setSystemTime(at("2025-03-03T10:00:30Z"));
    const storeA = await open();
    const storeB = await open();
    const job = recordingJob("tick");
    const a = await startScheduler(storeA, [job.job], { holder: "process-a" });
    const b = await startScheduler(storeB, [job.job], { holder: "process-b" });
    expect([a.holdsLease(), b.holdsLease()]).toEqual([true, false]);

    await vi.advanceTimersByTimeAsync(3 * 60_000);
    expect(job.runs).toHaveLength(3);
    expect(await listJobRuns(storeA.db, "tick", 10)).toHaveLength(3);

    // A stops (as on a PM2 restart) and gives the lease up; B runs the next slots.
    await a.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(b.holdsLease()).toBe(true);
    expect(job.runs).toHaveLength(4);
    expect((await findLease(storeB.db, SCHEDULER_LEASE))?.holder).toBe("process-b");
  });

  it("waits for a crashed holder's lease to expire before taking over", async () => {
    vi.setSystemTime(at("2025-03-03T10:00:30Z"));
    const store = await open();
    // A process that died holding the lease: it never renews or releases it.
    expect(
      await acquireLease(store.db, { name: SCHEDULER_LEASE, holder: "dead", now: Date.now(), ttlMs: 90_000 }),
    ).toBe(true);
    const job = recordingJob("tick");
    const survivor = await startScheduler(store, [job.job], { holder: "survivor" });

    await vi.advanceTimersByTimeAsync(60_000); // 10:01:30, the lease runs to 10:02:00
    expect(job.runs).toEqual([]);
    expect(survivor.holdsLease()).toBe(false);
    await vi.advanceTimersByTimeAsync(60_000); // renewals at 10s intervals take it over after expiry
    expect(survivor.holdsLease()).toBe(true);
    expect(job.runs).toHaveLength(1);
  });

  it("acquires with a conditional write: a live lease of another holder is refused, renewal is not", async () => {
    const store = await open();
    const now = at("2025-03-03T10:00:00Z");
    expect(await acquireLease(store.db, { name: "x", holder: "a", now, ttlMs: 1000 })).toBe(true);
    expect(await acquireLease(store.db, { name: "x", holder: "b", now: now + 500, ttlMs: 1000 })).toBe(false);
    expect(await acquireLease(store.db, { name: "x", holder: "a", now: now + 900, ttlMs: 1000 })).toBe(true);
    expect(await acquireLease(store.db, { name: "x", holder: "b", now: now + 1500, ttlMs: 1000 })).toBe(
      false,
    );
    expect(await acquireLease(store.db, { name: "x", holder: "b", now: now + 1900, ttlMs: 1000 })).toBe(true);
  });
});

describe("configuration", () => {
  it("stops start-up on an invalid cron expression, naming the job and the reason", () => {
    const yaml = `jobs:\n  - name: digest\n    schedule: "61 9 * * 1-5"\n`;
    expect(() => parseConfigFile(yaml, "switchboard.yaml")).toThrow(ConfigError);
    expect(() => parseConfigFile(yaml, "switchboard.yaml")).toThrow(
      /jobs\.0\.schedule: job "digest": "61 9 \* \* 1-5" is not a valid cron expression \(minute: 61 is a invalid expression for minute\)/,
    );
  });

  it("refuses to prune delivery ids before GitHub stops redelivering them, saying why", async () => {
    const store = await open();
    const start = (inboxDays: number) =>
      createScheduler({
        jobs: [retention],
        config: [{ name: "retention", options: { inbox_days: inboxDays } }],
        services: { store, config: parseConfigFile("", "test.yaml") },
        logger: quiet(),
        metrics: createMetrics(),
      });
    expect(() => start(2)).toThrow(
      'jobs: job "retention" has invalid options: inbox_days: must be at least 3: delivery ids are kept while GitHub can still redeliver them (3 days).',
    );
    expect(() => start(3)).not.toThrow();
  });

  it("stops start-up when a job that posts has no channel, and fails a manual run of one left unlisted", async () => {
    const store = await open();
    const poster = defineJob({ ...recordingJob("poster").job, needsChannel: true, enabledByDefault: false });
    const create = (config: JobConfig[]) =>
      createScheduler({
        jobs: [poster],
        config,
        services: { store, config: parseConfigFile("", "test.yaml") },
        logger: quiet(),
        metrics: createMetrics(),
      });
    const reason =
      'job "poster" posts to Discord but has no channel: set its `channel` under `jobs:` or DISCORD_DEFAULT_CHANNEL_ID.';
    expect(() => create([{ name: "poster", options: {} }])).toThrow(`jobs: ${reason}`);

    const report = await create([]).run("poster");
    expect(report).toMatchObject({ outcome: "error", error: `The ${reason}` });
  });

  it("refuses an unknown time zone and a job name no job has", async () => {
    expect(() =>
      parseConfigFile(`jobs:\n  - name: digest\n    timezone: Mars/Olympus\n`, "switchboard.yaml"),
    ).toThrow(/unknown time zone "Mars\/Olympus"/);
    const store = await open();
    expect(() =>
      createScheduler({
        jobs: [recordingJob("retention").job],
        config: [{ name: "retension", options: {} }],
        services: { store, config: parseConfigFile("", "test.yaml") },
        logger: quiet(),
        metrics: createMetrics(),
      }),
    ).toThrow('jobs: there is no job named "retension"; known jobs: retention.');
  });
});
