/**
 * The life of one deployment, as GitHub's statuses tell it. Pure. Webhooks can arrive late, twice or out of
 * order, so a status only moves a deployment forward: a repeated or stale one changes nothing and announces
 * nothing.
 *
 *   awaiting_approval -> requested | rejected                      (chat)
 *   requested -> queued -> in_progress -> success | failure | error (GitHub)
 *   success -> inactive                                            (a newer deployment replaced it)
 *
 * failure, error, inactive and rejected are final: a retry is a new deployment.
 */
import type { DeploymentState } from "../store/schema.js";

/** GitHub deployment status states; `pending` is GitHub's older name for queued. */
const FROM_GITHUB: Record<string, DeploymentState> = {
  pending: "queued",
  queued: "queued",
  in_progress: "in_progress",
  success: "success",
  failure: "failure",
  error: "error",
  inactive: "inactive",
};

export function fromGitHubState(state: string): DeploymentState | undefined {
  return FROM_GITHUB[state.toLowerCase()];
}

/** How far along a state is; a status may only move a deployment to a later stage. */
const STAGE: Record<DeploymentState, number> = {
  awaiting_approval: 0,
  rejected: 5,
  requested: 1,
  queued: 2,
  in_progress: 3,
  success: 4,
  failure: 4,
  error: 4,
  inactive: 5,
};

const FINAL: ReadonlySet<DeploymentState> = new Set(["failure", "error", "inactive", "rejected"]);

/** The state after `incoming`, or undefined when `incoming` is stale or repeated and must be ignored. */
export function advance(current: DeploymentState, incoming: DeploymentState): DeploymentState | undefined {
  if (current === incoming || FINAL.has(current)) return undefined;
  if (current === "awaiting_approval") {
    return incoming === "requested" || incoming === "rejected" ? incoming : undefined;
  }
  if (incoming === "awaiting_approval" || incoming === "rejected" || incoming === "requested")
    return undefined;
  // Only a success is ever replaced; GitHub also marks never-finished deployments inactive when it gives up.
  if (incoming === "inactive")
    return current === "success" || STAGE[current] < STAGE.success ? incoming : undefined;
  return STAGE[incoming] > STAGE[current] ? incoming : undefined;
}

/** Nothing more will happen to a deployment in this state (success may still be replaced: inactive). */
export function isFinished(state: DeploymentState): boolean {
  return FINAL.has(state) || state === "success";
}

/** How a state reads to people: "in progress", "awaiting approval". */
export function describeState(state: DeploymentState): string {
  return state.replace(/_/g, " ");
}
