/**
 * Which deployment `/rollback` redeploys. Pure.
 */
import type { DeploymentRow } from "../store/deployment-repository.js";

/**
 * The last successful deployment before the current one that ran a different commit. `history` is one
 * environment's deployments, newest first. A success later marked inactive still ran there, so it counts.
 * undefined when the environment has never had two different successful versions.
 */
export function pickRollbackTarget(history: DeploymentRow[]): DeploymentRow | undefined {
  const ran = history.filter(
    (deployment) => deployment.state === "success" || deployment.state === "inactive",
  );
  const current = history.find((deployment) => deployment.state === "success") ?? ran[0];
  if (!current) return undefined;
  return ran.find((deployment) => deployment.id < current.id && deployment.sha !== current.sha);
}
