/**
 * Deployment tracking: `deployment` and `deployment_status` webhooks move one row per deployment through
 * its states (deployment-state.ts), whether it was requested from chat or started outside it, and keep its
 * card up to date. Runs inside the inbox worker's per-delivery transaction, so the state, the card and the
 * ship notice are stored together with the delivery or not at all.
 *
 * A status that is stale or repeated (GitHub redelivers, statuses overtake each other) changes nothing and
 * announces nothing: one deployment is announced once per state however many statuses arrive.
 */
import type { Kysely } from "kysely";
import type { EnvironmentConfig } from "../config/config-file.js";
import type { DomainEvent, GitHubEvent } from "../events/domain-event.js";
import { deploymentLabel, renderDeploymentCard } from "../discord/render/deployment-card.js";
import type { DiscordMessage } from "../discord/render/message.js";
import { fitMessage } from "../discord/render/message.js";
import { planCard, planPost } from "../pipeline/plan-messages.js";
import {
  currentDeployment,
  findDeployment,
  findDeploymentByGitHubId,
  findDispatchedDeployment,
  insertDeployment,
  recordGitHubDeploymentId,
  updateDeployment,
} from "../store/deployment-repository.js";
import type { DeploymentRow } from "../store/deployment-repository.js";
import type { NewOutboxRow } from "../store/outbox-repository.js";
import { findReleaseByTag } from "../store/release-repository.js";
import type { DatabaseSchema, DeploymentState } from "../store/schema.js";
import { insertShipNotice } from "../store/ship-notice-repository.js";
import { advance, fromGitHubState } from "./deployment-state.js";

export type DeploymentEvent = Extract<
  GitHubEvent,
  { kind: "github.deployment" | "github.deployment_status" }
>;

export function isDeploymentEvent(event: DomainEvent): event is DeploymentEvent {
  return event.kind === "github.deployment" || event.kind === "github.deployment_status";
}

/** The `route` outbox rows of deployment cards and on-call pings carry (logs and metrics name it). */
export const DEPLOYMENTS_ROUTE = "deployments";

/** One card per deployment and channel. */
export function deploymentCardKey(deploymentId: number): string {
  return `deployment:${deploymentId}`;
}

/** Where an environment's cards go: its `channel`, else the default channel; undefined: nowhere. */
export function deploymentChannel(
  environment: EnvironmentConfig | undefined,
  defaultChannel: string | undefined,
): string | undefined {
  return environment?.channel ?? defaultChannel;
}

/**
 * The outbox row that posts `deployment`'s card, or edits it in place when it was posted before; undefined
 * when there is no channel for it. Callers that enqueue it should also store `announced_state:
 * deployment.state`, so the tracker does not announce the same state again.
 */
export function planDeploymentCard(
  deployment: DeploymentRow,
  environment: EnvironmentConfig | undefined,
  defaultChannel: string | undefined,
  now: number,
  origin: { inboxId: number | null; originAt: number } = { inboxId: null, originAt: now },
): NewOutboxRow | undefined {
  const channel = deploymentChannel(environment, defaultChannel);
  if (!channel) return undefined;
  return planCard({
    channel,
    route: DEPLOYMENTS_ROUTE,
    itemKey: deploymentCardKey(deployment.id),
    message: renderDeploymentCard(deployment),
    inboxId: origin.inboxId,
    originAt: origin.originAt,
    now,
  });
}

/** Column changes to a deployment row (every column but its id). */
type DeploymentPatch = Partial<Omit<DeploymentRow, "id">>;

export interface DeploymentTrackingContext {
  environments: readonly EnvironmentConfig[];
  defaultChannel: string | undefined;
  inboxId: number | null;
  /** When the delivery arrived. */
  originAt: number;
  now: number;
}

export interface DeploymentTracking {
  /** Card upserts and the on-call ping, to enqueue with the delivery. */
  rows: NewOutboxRow[];
  /**
   * The channel with this deployment's card. The card tells that channel everything the event says, so the
   * route deliveries of the event to it are dropped rather than posted beside the card.
   */
  cardChannel: string | undefined;
  /** The state the deployment moved to, for metrics; absent when the event moved nothing. */
  reached?: { environment: string; state: DeploymentState };
}

/** Finds or creates the event's deployment, moves its state, and answers what to post. */
export async function trackDeployment(
  db: Kysely<DatabaseSchema>,
  event: DeploymentEvent,
  context: DeploymentTrackingContext,
): Promise<DeploymentTracking> {
  const environment = findEnvironment(context.environments, event);
  const cardChannel = deploymentChannel(environment, context.defaultChannel);
  const origin = { inboxId: context.inboxId, originAt: context.originAt };
  const { deployment, created } = await findOrCreateDeployment(db, event, environment, context.now);

  let next: DeploymentState | undefined;
  if (event.kind === "github.deployment_status") {
    const incoming = fromGitHubState(event.status.state);
    next = incoming ? advance(deployment.state, incoming) : undefined;
  }
  // Nothing moved: a `deployment` event for a row we already know, or a stale or repeated status.
  if (!next && !created) return { rows: [], cardChannel };

  const rows: NewOutboxRow[] = [];
  const patch: DeploymentPatch = { updated_at: context.now };
  if (next && event.kind === "github.deployment_status") {
    Object.assign(patch, statusPatch(deployment, next, event, context.now));
    if (next === "success") {
      const replaced = await replacePreviousSuccess(db, deployment, environment, context, origin);
      if (replaced) {
        rows.push(...replaced.rows);
        // What ran until now starts the shipped range, even when another deployment succeeded after this one
        // was requested: its issues were told then.
        patch.previous_sha = replaced.sha;
      }
      // Only configured environments tell Linear: a preview per pull request should not comment "shipped".
      if (environment) await insertShipNotice(db, deployment.id, context.now);
    }
  }
  const updated: DeploymentRow = { ...deployment, ...patch };
  if (cardChannel && updated.state !== deployment.announced_state) {
    patch.announced_state = updated.state;
    rows.unshift(planDeploymentCard(updated, environment, context.defaultChannel, context.now, origin)!);
    if ((next === "failure" || next === "error") && environment?.on_call_role) {
      rows.push(
        planPost({
          channel: cardChannel,
          route: DEPLOYMENTS_ROUTE,
          message: renderOnCallPing(updated, environment.on_call_role),
          now: context.now,
        }),
      );
    }
  }
  await updateDeployment(db, deployment.id, patch);
  return {
    rows,
    cardChannel,
    ...(next ? { reached: { environment: deployment.environment, state: next } } : {}),
  };
}

/**
 * The configured environment a deployment belongs to: same name and repository. A deployment of another
 * repository to an environment of the same name is tracked like one to an unconfigured environment.
 */
function findEnvironment(
  environments: readonly EnvironmentConfig[],
  event: DeploymentEvent,
): EnvironmentConfig | undefined {
  return environments.find(
    (environment) =>
      environment.name === event.deployment.environment &&
      environment.repo.toLowerCase() === event.repo.toLowerCase(),
  );
}

/**
 * The row by GitHub deployment id; else a workflow dispatch of the same commit still waiting for its id (the
 * workflow created the deployment); else a new "external" row: a deployment started outside chat.
 */
async function findOrCreateDeployment(
  db: Kysely<DatabaseSchema>,
  event: DeploymentEvent,
  environment: EnvironmentConfig | undefined,
  now: number,
): Promise<{ deployment: DeploymentRow; created: boolean }> {
  const info = event.deployment;
  const githubId = String(info.id);
  const known = await findDeploymentByGitHubId(db, githubId);
  if (known) return { deployment: known, created: false };
  const repo = environment?.repo ?? event.repo;
  // A deployment requested from chat names its row in the payload: the exact match, even when two
  // deployments of the same commit to the same environment are in flight.
  const requested = info.switchboardId ? await findDeployment(db, info.switchboardId) : undefined;
  if (
    requested &&
    requested.github_deployment_id === null &&
    requested.environment === info.environment &&
    requested.repo.toLowerCase() === repo.toLowerCase()
  ) {
    await recordGitHubDeploymentId(db, requested.id, githubId, now);
    return { deployment: { ...requested, github_deployment_id: githubId }, created: false };
  }
  const dispatched = await findDispatchedDeployment(db, {
    repo,
    environment: info.environment,
    sha: info.sha,
  });
  if (dispatched) {
    await updateDeployment(db, dispatched.id, { github_deployment_id: githubId, updated_at: now });
    return { deployment: { ...dispatched, github_deployment_id: githubId }, created: false };
  }
  const release = await findReleaseByTag(db, repo, info.ref);
  const running = await currentDeployment(db, info.environment);
  const deployment = await insertDeployment(db, {
    environment: info.environment,
    repo,
    ref: info.ref,
    sha: info.sha,
    version: release?.version ?? null,
    method: "external",
    github_deployment_id: githubId,
    state: "requested",
    announced_state: null,
    requested_by: null,
    requested_by_name: info.creator || null,
    approved_by: "[]",
    reason: null,
    previous_sha: running?.repo === repo ? running.sha : null,
    approval_channel_id: null,
    approval_message_id: null,
    status_description: info.description || null,
    log_url: null,
    created_at: now,
    updated_at: now,
    started_at: null,
    finished_at: null,
  });
  return { deployment, created: true };
}

type DeploymentStatusEvent = Extract<DeploymentEvent, { kind: "github.deployment_status" }>;

/** The state and what the status tells about it: description, log, and when it started and finished. */
function statusPatch(
  deployment: DeploymentRow,
  next: DeploymentState,
  event: DeploymentStatusEvent,
  now: number,
): DeploymentPatch {
  // The status's own time, not ours: a delivery that waited in a backlog still shows when things happened.
  const parsed = Date.parse(event.occurredAt);
  const at = Number.isFinite(parsed) ? parsed : now;
  const patch: DeploymentPatch = { state: next };
  if (event.status.description) patch.status_description = event.status.description;
  const logUrl = event.status.logUrl || event.status.targetUrl;
  if (logUrl) patch.log_url = logUrl;
  if (next !== "inactive" && deployment.started_at === null) patch.started_at = at;
  if (next === "success" || next === "failure" || next === "error") patch.finished_at = at;
  return patch;
}

/**
 * A newer success replaces what ran in the environment: the previous success turns inactive and its card
 * says so. GitHub may send its own `inactive` status for it too; that one then finds it inactive already and
 * changes nothing. Answers the replaced commit (the start of the shipped range) and the card edit.
 */
async function replacePreviousSuccess(
  db: Kysely<DatabaseSchema>,
  deployment: DeploymentRow,
  environment: EnvironmentConfig | undefined,
  context: DeploymentTrackingContext,
  origin: { inboxId: number | null; originAt: number },
): Promise<{ sha: string; rows: NewOutboxRow[] } | undefined> {
  const previous = await currentDeployment(db, deployment.environment);
  // An older deployment's success arriving late does not replace a newer one.
  if (!previous || previous.id >= deployment.id || previous.repo !== deployment.repo) return undefined;
  const replaced: DeploymentRow = { ...previous, state: "inactive", updated_at: context.now };
  const card =
    previous.announced_state !== null
      ? planDeploymentCard(replaced, environment, context.defaultChannel, context.now, origin)
      : undefined;
  await updateDeployment(db, previous.id, {
    state: "inactive",
    updated_at: context.now,
    ...(card ? { announced_state: "inactive" } : {}),
  });
  return { sha: previous.sha, rows: card ? [card] : [] };
}

/**
 * The failure post that wakes the on-call role. Only that role may be pinged: user text in the description
 * cannot mention anyone else.
 */
export function renderOnCallPing(deployment: DeploymentRow, roleId: string): DiscordMessage {
  const what = `${deploymentLabel(deployment)} to ${deployment.environment} (${deployment.repo})`;
  const verb = deployment.state === "error" ? "errored" : "failed";
  const reason = deployment.status_description ? `: ${deployment.status_description}` : "";
  const log =
    deployment.log_url && /^https?:\/\//i.test(deployment.log_url) ? ` Logs: <${deployment.log_url}>` : "";
  return fitMessage({
    content: `<@&${roleId}> Deployment of ${what} ${verb}${reason}.${log}`,
    allowed_mentions: { parse: [], roles: [roleId] },
  });
}
