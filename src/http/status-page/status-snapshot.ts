/**
 * What the status page and `GET /api/deployments` show: each configured environment, the recent deployments
 * and releases, and delivery health. Pure: store rows and config in, a plain object out, the same for the
 * HTML page and the JSON API. Times are ISO 8601 (UTC) so the JSON reads well; durations are in seconds.
 *
 * Only what people may see in a team channel goes in: names, versions, commits, reasons. No ids of Discord
 * messages, no tokens, no release notes (they live on GitHub).
 */
import type { EnvironmentConfig, FreezeConfig } from "../../config/config-file.js";
import { activeFreeze, describeFreeze } from "../../deploy/deploy-policy.js";
import { isFinished } from "../../deploy/deployment-state.js";
import { truncate } from "../../events/text.js";
import { scrubWebhookTokens } from "../../observability/logger.js";
import type { DeploymentRow } from "../../store/deployment-repository.js";
import type { EnvironmentLockRow } from "../../store/environment-lock-repository.js";
import type { OutboxRow } from "../../store/outbox-repository.js";
import type { ReleaseRow } from "../../store/release-repository.js";
import type { DeploymentState } from "../../store/schema.js";

export interface DeploymentView {
  id: number;
  environment: string;
  repo: string;
  /** What was asked for: a tag, branch or commit. */
  ref: string;
  sha: string;
  version: string | null;
  /** github-deployment | workflow-dispatch | external */
  method: string;
  state: DeploymentState;
  /** Who asked for it (Discord name), or who started it on GitHub. */
  requestedBy: string | null;
  reason: string | null;
  /** The latest status's description from GitHub. */
  description: string | null;
  logUrl: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** How long it ran, or has been running; null for requests that never reached GitHub. */
  durationSeconds: number | null;
}

export interface EnvironmentStatus {
  name: string;
  repo: string;
  production: boolean;
  approvals: number;
  /** The newest deployment that reached GitHub: in flight, finished or failed. null before the first. */
  latest: DeploymentView | null;
  /** What runs there now: the newest successful deployment (the same as `latest` when that succeeded). */
  running: DeploymentView | null;
  lock: { by: string; reason: string; since: string } | null;
  freeze: { name: string; description: string } | null;
}

export interface ReleaseView {
  name: string;
  repo: string;
  version: string;
  tag: string;
  sha: string;
  prerelease: boolean;
  url: string | null;
  createdBy: string | null;
  createdAt: string;
}

export interface DeliveryHealth {
  /** Webhook deliveries waiting to be processed, and those that failed for good. */
  inbox: { pending: number; failed: number };
  /** Discord messages waiting to be sent, and dead letters that need an operator. */
  outbox: { pending: number; dead: number };
  /** When each source last delivered; null when it never has. */
  lastDelivery: { github: string | null; linear: string | null };
  /** The newest dead letters, with Discord's answer. */
  deadLetters: { id: number; channel: string; error: string | null }[];
}

export interface StatusSnapshot {
  generatedAt: string;
  version: string;
  environments: EnvironmentStatus[];
  deployments: DeploymentView[];
  releases: ReleaseView[];
  health: DeliveryHealth;
}

/** The facts read from the store and config (see read-status-snapshot.ts). */
export interface StatusFacts {
  now: number;
  version: string;
  environments: readonly EnvironmentConfig[];
  freezes: readonly FreezeConfig[];
  latest: ReadonlyMap<string, DeploymentRow>;
  running: ReadonlyMap<string, DeploymentRow>;
  locks: readonly EnvironmentLockRow[];
  deployments: readonly DeploymentRow[];
  releases: readonly ReleaseRow[];
  inbox: { pending: number; failed: number };
  outbox: { pending: number; dead: number };
  lastDeliveries: Record<string, number>;
  deadLetters: readonly OutboxRow[];
}

export function buildStatusSnapshot(facts: StatusFacts): StatusSnapshot {
  const { now } = facts;
  const view = (row: DeploymentRow | undefined) => (row ? deploymentView(row, now) : null);
  return {
    generatedAt: iso(now),
    version: facts.version,
    environments: facts.environments.map((environment) => {
      const lock = facts.locks.find((candidate) => candidate.environment === environment.name);
      const freeze = activeFreeze(facts.freezes, environment.name, now);
      return {
        name: environment.name,
        repo: environment.repo,
        production: environment.production,
        approvals: environment.approvals,
        latest: view(facts.latest.get(environment.name)),
        running: view(facts.running.get(environment.name)),
        lock: lock ? { by: lock.locked_by_name, reason: lock.reason, since: iso(lock.locked_at) } : null,
        freeze: freeze ? { name: freeze.name, description: describeFreeze(freeze) } : null,
      };
    }),
    deployments: facts.deployments.map((row) => deploymentView(row, now)),
    releases: facts.releases.map(releaseView),
    health: {
      inbox: facts.inbox,
      outbox: facts.outbox,
      lastDelivery: {
        github: optionalIso(facts.lastDeliveries.github),
        linear: optionalIso(facts.lastDeliveries.linear),
      },
      deadLetters: facts.deadLetters.map((row) => ({
        id: row.id,
        channel: row.channel_id,
        // Discord's answer, cut: the page lists a few, the store keeps the rest. An error from a channel
        // webhook can quote its URL, whose last segment is a token: the page is readable by anyone who reaches it.
        error: row.last_error === null ? null : truncate(scrubWebhookTokens(row.last_error), 300),
      })),
    },
  };
}

export function deploymentView(row: DeploymentRow, now: number): DeploymentView {
  return {
    id: row.id,
    environment: row.environment,
    repo: row.repo,
    ref: row.ref,
    sha: row.sha,
    version: row.version,
    method: row.method,
    state: row.state,
    requestedBy: row.requested_by_name ?? row.requested_by,
    reason: row.reason,
    description: row.status_description,
    logUrl: row.log_url,
    createdAt: iso(row.created_at),
    startedAt: optionalIso(row.started_at),
    finishedAt: optionalIso(row.finished_at),
    durationSeconds: deploymentDurationSeconds(row, now),
  };
}

/**
 * From when the deployment started (or was created, for ones learnt from a webhook before any status) until
 * it finished, or until `now` while it is still moving. A request that never reached GitHub (awaiting
 * approval, rejected) has no duration.
 */
export function deploymentDurationSeconds(row: DeploymentRow, now: number): number | null {
  if (row.state === "awaiting_approval" || row.state === "rejected") return null;
  const start = row.started_at ?? row.created_at;
  // A finished row without finished_at (an older success marked inactive): its last change is the end.
  const end = row.finished_at ?? (isFinished(row.state) ? row.updated_at : now);
  return Math.max(0, Math.round((end - start) / 1000));
}

function releaseView(row: ReleaseRow): ReleaseView {
  return {
    name: row.release_name,
    repo: row.repo,
    version: row.version,
    tag: row.tag,
    sha: row.target_sha,
    prerelease: row.prerelease !== 0,
    url: row.url,
    createdBy: row.created_by_name ?? row.created_by,
    createdAt: iso(row.created_at),
  };
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function optionalIso(epochMs: number | null | undefined): string | null {
  return epochMs === null || epochMs === undefined ? null : iso(epochMs);
}
