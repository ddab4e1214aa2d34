/**
 * Deployments, one row per deployment of one ref to one environment: requested from chat (awaiting approval,
 * then sent to GitHub) or learnt from a `deployment` webhook. The tracker moves `state` as statuses arrive.
 */
import type { Insertable, Kysely, Selectable, Updateable } from "kysely";
import type { DatabaseSchema, DeploymentState, DeploymentTable } from "./schema.js";

export type DeploymentRow = Selectable<DeploymentTable>;
export type NewDeployment = Insertable<DeploymentTable>;

/** States of a deployment that never reached GitHub: they say nothing about what runs in the environment. */
const NOT_STARTED: DeploymentState[] = ["awaiting_approval", "rejected"];

export async function insertDeployment(
  db: Kysely<DatabaseSchema>,
  row: NewDeployment,
): Promise<DeploymentRow> {
  return db.insertInto("deployments").values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findDeployment(
  db: Kysely<DatabaseSchema>,
  id: number,
): Promise<DeploymentRow | undefined> {
  return db.selectFrom("deployments").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function findDeploymentByGitHubId(
  db: Kysely<DatabaseSchema>,
  githubId: string,
): Promise<DeploymentRow | undefined> {
  return db
    .selectFrom("deployments")
    .selectAll()
    .where("github_deployment_id", "=", githubId)
    .orderBy("id", "desc")
    .executeTakeFirst();
}

/**
 * A deployment requested from chat that GitHub has not yet named: a workflow dispatch returns no deployment
 * id (the workflow creates the GitHub deployment itself), and a created deployment's webhook may be processed
 * before its id is saved. The first `deployment` webhook of the same repository, environment and commit is
 * matched to the oldest such row, so it is not recorded a second time as started outside chat.
 */
export async function findDispatchedDeployment(
  db: Kysely<DatabaseSchema>,
  match: { repo: string; environment: string; sha: string },
): Promise<DeploymentRow | undefined> {
  return db
    .selectFrom("deployments")
    .selectAll()
    .where("method", "in", ["workflow-dispatch", "github-deployment"])
    .where("github_deployment_id", "is", null)
    .where("state", "=", "requested")
    .where("repo", "=", match.repo)
    .where("environment", "=", match.environment)
    .where("sha", "=", match.sha)
    .orderBy("id", "asc")
    .executeTakeFirst();
}

export async function updateDeployment(
  db: Kysely<DatabaseSchema>,
  id: number,
  patch: Updateable<DeploymentTable>,
): Promise<void> {
  await db.updateTable("deployments").set(patch).where("id", "=", id).execute();
}

/** Stores GitHub's id for the deployment unless it has one already (the tracker may have matched it first). */
export async function recordGitHubDeploymentId(
  db: Kysely<DatabaseSchema>,
  id: number,
  githubId: string,
  at: number,
): Promise<void> {
  await db
    .updateTable("deployments")
    .set({ github_deployment_id: githubId, updated_at: at })
    .where("id", "=", id)
    .where("github_deployment_id", "is", null)
    .execute();
}

/**
 * Marks `state` announced, only while nothing was announced yet and the deployment is still in that state.
 * true: the caller posts the card. false: someone else (the tracker) announced it first.
 */
export async function claimAnnouncement(
  db: Kysely<DatabaseSchema>,
  id: number,
  state: DeploymentState,
): Promise<boolean> {
  const result = await db
    .updateTable("deployments")
    .set({ announced_state: state })
    .where("id", "=", id)
    .where("announced_state", "is", null)
    .where("state", "=", state)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** What runs in the environment now: its newest successful deployment. */
export async function currentDeployment(
  db: Kysely<DatabaseSchema>,
  environment: string,
): Promise<DeploymentRow | undefined> {
  return db
    .selectFrom("deployments")
    .selectAll()
    .where("environment", "=", environment)
    .where("state", "=", "success")
    .orderBy("id", "desc")
    .executeTakeFirst();
}

/** Each environment's newest deployment that reached GitHub (in flight, finished or replaced). */
export async function latestDeploymentPerEnvironment(
  db: Kysely<DatabaseSchema>,
  environments: string[],
): Promise<Map<string, DeploymentRow>> {
  const latest = new Map<string, DeploymentRow>();
  for (const environment of environments) {
    const row = await db
      .selectFrom("deployments")
      .selectAll()
      .where("environment", "=", environment)
      .where("state", "not in", NOT_STARTED)
      .orderBy("id", "desc")
      .executeTakeFirst();
    if (row) latest.set(environment, row);
  }
  return latest;
}

/** Newest first; every state, including requests still awaiting approval. */
export async function listDeployments(
  db: Kysely<DatabaseSchema>,
  filter: { environment?: string; limit: number },
): Promise<DeploymentRow[]> {
  let query = db.selectFrom("deployments").selectAll();
  if (filter.environment !== undefined) query = query.where("environment", "=", filter.environment);
  return query.orderBy("id", "desc").limit(filter.limit).execute();
}
