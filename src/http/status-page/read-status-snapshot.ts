/**
 * Gathers the status page's facts from the store and config, through the same repositories as `/deploy
 * status`, `/status` and `/readyz`, and shapes them with the pure buildStatusSnapshot.
 */
import type { Kysely } from "kysely";
import type { ConfigFile } from "../../config/config-file.js";
import {
  currentDeployment,
  latestDeploymentPerEnvironment,
  listDeployments,
} from "../../store/deployment-repository.js";
import type { DeploymentRow } from "../../store/deployment-repository.js";
import { listLocks } from "../../store/environment-lock-repository.js";
import { countDeliveriesByStatus, latestDeliveryTimes } from "../../store/inbox-repository.js";
import { countMessagesByStatus, listDeadMessages } from "../../store/outbox-repository.js";
import { listReleases } from "../../store/release-repository.js";
import type { DatabaseSchema } from "../../store/schema.js";
import { buildStatusSnapshot } from "./status-snapshot.js";
import type { StatusSnapshot } from "./status-snapshot.js";

/** How much history the page shows: enough to see what happened today, small enough to scan. */
export const RECENT_DEPLOYMENTS = 20;
export const RECENT_RELEASES = 10;
const DEAD_LETTERS_SHOWN = 5;

export interface StatusSnapshotSources {
  db: Kysely<DatabaseSchema>;
  config: Pick<ConfigFile, "environments" | "freezes">;
  clock: () => number;
  /** This instance's version (packageVersion(), read once at start-up). */
  version: string;
}

export async function readStatusSnapshot(sources: StatusSnapshotSources): Promise<StatusSnapshot> {
  const { db, config } = sources;
  const names = config.environments.map((environment) => environment.name);
  const [latest, running, locks, deployments, releases, inbox, outbox, lastDeliveries] = await Promise.all([
    latestDeploymentPerEnvironment(db, names),
    currentDeployments(db, names),
    listLocks(db),
    listDeployments(db, { limit: RECENT_DEPLOYMENTS }),
    listReleases(db, { limit: RECENT_RELEASES }),
    countDeliveriesByStatus(db),
    countMessagesByStatus(db),
    latestDeliveryTimes(db),
  ]);
  const deadLetters = outbox.dead > 0 ? await listDeadMessages(db, DEAD_LETTERS_SHOWN) : [];
  return buildStatusSnapshot({
    now: sources.clock(),
    version: sources.version,
    environments: config.environments,
    freezes: config.freezes,
    latest,
    running,
    locks,
    deployments,
    releases,
    inbox: { pending: inbox.pending, failed: inbox.failed },
    outbox: { pending: outbox.pending, dead: outbox.dead },
    lastDeliveries,
    deadLetters,
  });
}

async function currentDeployments(
  db: Kysely<DatabaseSchema>,
  environments: string[],
): Promise<Map<string, DeploymentRow>> {
  const running = new Map<string, DeploymentRow>();
  for (const environment of environments) {
    const row = await currentDeployment(db, environment);
    if (row) running.set(environment, row);
  }
  return running;
}
