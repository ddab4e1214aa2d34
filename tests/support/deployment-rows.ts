/**
 * Deployment rows for tests: every column with a plain default (a succeeded deployment of v1.2.0 to
 * production of acme/api that nobody requested from chat), so a test names only the columns it is about.
 */
import type { DeploymentRow, NewDeployment } from "../../src/store/deployment-repository.js";

/** A row to insert (no id). */
export function newDeployment(overrides: Partial<NewDeployment> = {}): NewDeployment {
  return {
    environment: "production",
    repo: "acme/api",
    ref: "v1.2.0",
    sha: "a".repeat(40),
    version: "1.2.0",
    method: "github-deployment",
    github_deployment_id: null,
    state: "success",
    announced_state: null,
    requested_by: null,
    requested_by_name: null,
    approved_by: "[]",
    reason: null,
    freeze_override: null,
    previous_sha: null,
    approval_channel_id: null,
    approval_message_id: null,
    status_description: null,
    log_url: null,
    created_at: 0,
    updated_at: 0,
    started_at: null,
    finished_at: null,
    ...overrides,
  };
}

/** A stored row, for pure renderers and policies. */
export function deploymentRow(overrides: Partial<DeploymentRow> = {}): DeploymentRow {
  return { id: 1, ...newDeployment(), ...overrides } as DeploymentRow;
}
