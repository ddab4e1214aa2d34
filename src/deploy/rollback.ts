/**
 * Which deployment `/rollback` redeploys. Pure.
 */
import type { DeploymentRow } from "../store/deployment-repository.js";

/**
 * The last successful deployment before the current one that ran a different commit. `history` is one
 * environment's deployments of one repository, newest first. A success later marked inactive still ran
 * there, so it counts; a deployment GitHub marked inactive before it ever finished never ran, so it does not.
 * undefined when the environment has never had two different successful versions.
 */
export function pickRollbackTarget(history: DeploymentRow[]): DeploymentRow | undefined {
  const ran = history.filter(ranThere);
  const current = history.find((deployment) => deployment.state === "success") ?? ran[0];
  if (!current) return undefined;
  return ran.find((deployment) => deployment.id < current.id && deployment.sha !== current.sha);
}

/** Succeeded, now or before a newer deployment replaced it (only a success has `finished_at` and turns inactive). */
function ranThere(deployment: DeploymentRow): boolean {
  return (
    deployment.state === "success" || (deployment.state === "inactive" && deployment.finished_at !== null)
  );
}
