/** Job runs and per-job state (pause switch, next slot): what /jobs list shows and catch-up reads. */
import type { Insertable, Kysely, Selectable } from "kysely";
import type { DatabaseSchema, JobRunTable, JobStateTable } from "./schema.js";

export type JobRun = Selectable<JobRunTable>;
export type NewJobRun = Insertable<JobRunTable>;
export type JobState = Selectable<JobStateTable>;

export async function recordJobRun(db: Kysely<DatabaseSchema>, run: NewJobRun): Promise<void> {
  await db.insertInto("job_runs").values(run).execute();
}

/** The latest runs of one job, newest first. */
export async function listJobRuns(db: Kysely<DatabaseSchema>, job: string, limit: number): Promise<JobRun[]> {
  return db
    .selectFrom("job_runs")
    .selectAll()
    .where("job", "=", job)
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}

/** Each job's latest run, keyed by job name. */
export async function latestJobRuns(db: Kysely<DatabaseSchema>): Promise<Map<string, JobRun>> {
  const latest = db
    .selectFrom("job_runs")
    .select((eb) => eb.fn.max("id").as("id"))
    .groupBy("job");
  const rows = await db.selectFrom("job_runs").selectAll().where("id", "in", latest).execute();
  return new Map(rows.map((row) => [row.job, row]));
}

/** When the job last finished a real (not dry) run without error: the start of the next run's window. */
export async function lastSuccessfulRunAt(
  db: Kysely<DatabaseSchema>,
  job: string,
): Promise<number | undefined> {
  const row = await db
    .selectFrom("job_runs")
    .select("started_at")
    .where("job", "=", job)
    .where("outcome", "=", "ok")
    .where("dry_run", "=", 0)
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  return row?.started_at;
}

export async function listJobStates(db: Kysely<DatabaseSchema>): Promise<Map<string, JobState>> {
  const rows = await db.selectFrom("job_state").selectAll().execute();
  return new Map(rows.map((row) => [row.job, row]));
}

export async function findJobState(db: Kysely<DatabaseSchema>, job: string): Promise<JobState | undefined> {
  return db.selectFrom("job_state").selectAll().where("job", "=", job).executeTakeFirst();
}

/** Sets the given parts of a job's state and keeps the others. */
export async function saveJobState(
  db: Kysely<DatabaseSchema>,
  job: string,
  changes: Partial<Pick<JobState, "paused" | "paused_by" | "next_run_at" | "cursor">> & {
    updated_at: number;
  },
): Promise<void> {
  await db
    .insertInto("job_state")
    .values({ job, paused: 0, paused_by: null, next_run_at: null, cursor: null, ...changes })
    .onConflict((conflict) => conflict.column("job").doUpdateSet(changes))
    .execute();
}
