/**
 * The contract every scheduled job fulfils. A job is a named piece of work with a default schedule; the
 * scheduler (scheduler.ts) decides when it runs, records each run and makes sure only one process runs it.
 * Every job supports a dry run: it reports what it would do and changes nothing (no rows written or deleted,
 * nothing posted).
 */
import type { z } from "zod";
import type { ConfigFile } from "../config/config-file.js";
import type { Logger } from "../observability/logger.js";
import type { GitHubApi } from "../sources/github/github-api.js";
import type { LinearApi } from "../sources/linear/linear-api.js";
import type { Store } from "../store/database.js";

/** What jobs may use. Absent APIs have no credentials configured. */
export interface JobServices {
  store: Pick<Store, "db" | "dialect" | "sqlite">;
  config: ConfigFile;
  github?: GitHubApi;
  linear?: LinearApi;
}

export interface JobContext<Options = unknown> {
  dryRun: boolean;
  /** When this run started (epoch ms). */
  now: number;
  /** Start of the window this run covers: the last successful real run, else the job's default look-back. */
  since: number;
  /** A child logger carrying the job and run. */
  logger: Logger;
  services: JobServices;
  /** The job's options, parsed by its `options` schema. */
  options: Options;
  /** Where the job posts; undefined when none is configured. */
  channel: string | undefined;
  /** The time zone the schedule is read in (undefined: the system's); jobs use it for "business days". */
  timezone: string | undefined;
}

export interface JobResult {
  /** How many things the run handled (or would handle): rows pruned, reminders posted, lines in a digest. */
  items: number;
  /** One line for /jobs and the log: what was done, or in a dry run what would be. */
  summary: string;
}

export interface Job<Options = unknown> {
  name: string;
  description: string;
  /** Cron expression used when the config file gives none. */
  defaultSchedule: string;
  /** Whether the job runs without being listed under `jobs:` (only housekeeping should). */
  enabledByDefault: boolean;
  /** Whether a slot missed during downtime runs once after start-up, unless `catch_up` says otherwise. */
  catchUpByDefault: boolean;
  /** Jobs that post refuse to start without a channel (a function: whether these options need one). */
  needsChannel: boolean | ((options: Options) => boolean);
  /** How far back the first run looks, when there is no earlier run. */
  defaultLookBackMs: number;
  /** Parses the config file's `options` for this job; errors stop start-up. */
  options: z.ZodType<Options>;
  run(context: JobContext<Options>): Promise<JobResult>;
}

/** Keeps a job's option type while listing it among jobs of other option types. */
export function defineJob<Options>(job: Job<Options>): Job {
  return job as unknown as Job;
}

/** How many names a run's one-line summary lists before counting the rest: /jobs shows it in one message. */
const SUMMARY_NAMES = 10;

/** `a, b, c and 7 more`: the first names of a list for a run's summary. */
export function briefList(names: readonly string[], separator = ", "): string {
  const shown = names.slice(0, SUMMARY_NAMES).join(separator);
  const more = names.length - SUMMARY_NAMES;
  return more > 0 ? `${shown} and ${more} more` : shown;
}
