/**
 * GitHub `deployment` and `deployment_status` webhook bodies, from the real fixtures with a deployment's id,
 * environment and commit put in: what GitHub sends when the deploying CI creates a deployment or reports on
 * one. Tests sign and post them through the receiver.
 */
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";

export interface DeploymentShape {
  /** GitHub's deployment id. */
  id: number;
  /** Default `production`. */
  environment?: string;
  /** Default `a` × 40. */
  sha?: string;
  /** Default `main`. */
  ref?: string;
  creator?: string;
  /** What Switchboard puts in the payload of a deployment requested from chat. */
  payload?: Record<string, unknown>;
}

export interface DeploymentDelivery {
  event: string;
  payload: Record<string, unknown>;
}

/** A `deployment` (created) delivery. */
export function deploymentDelivery(shape: DeploymentShape): DeploymentDelivery {
  const { event, payload } = loadGitHubFixture("deployment.created");
  const body = structuredClone(payload) as Record<string, unknown>;
  body.deployment = deploymentJson(body.deployment as Record<string, unknown>, shape);
  return { event, payload: body };
}

/** A `deployment_status` (created) delivery moving the deployment to `state`. */
export function deploymentStatusDelivery(
  shape: DeploymentShape,
  state: string,
  status: { description?: string; logUrl?: string } = {},
): DeploymentDelivery {
  const { event, payload } = loadGitHubFixture("deployment_status.created.success");
  const body = structuredClone(payload) as Record<string, unknown>;
  body.deployment = deploymentJson(body.deployment as Record<string, unknown>, shape);
  body.deployment_status = {
    ...(body.deployment_status as object),
    state,
    environment: shape.environment ?? "production",
    description: status.description ?? "",
    log_url: status.logUrl ?? "",
    created_at: new Date().toISOString(),
  };
  return { event, payload: body };
}

function deploymentJson(base: Record<string, unknown>, shape: DeploymentShape): Record<string, unknown> {
  return {
    ...base,
    id: shape.id,
    environment: shape.environment ?? "production",
    sha: shape.sha ?? "a".repeat(40),
    ref: shape.ref ?? "main",
    creator: { ...(base.creator as object), login: shape.creator ?? "Codertocat" },
    created_at: new Date().toISOString(),
    ...(shape.payload ? { payload: shape.payload } : {}),
  };
}
