/**
 * Deployments requested from chat: `/deploy to`, `/rollback`, and the Approve / Reject buttons.
 *
 *   request -> refused (locked, frozen)                                  nothing stored, nothing sent
 *           -> awaiting_approval -> approve (another person, N times) -> requested (sent to GitHub)
 *                                -> reject                            -> rejected
 *           -> requested at once where the environment needs no approval
 *
 * "Sent to GitHub" is a GitHub Deployment for the deploying CI to act on, or a workflow dispatch; from there
 * the tracker (deployment-tracker.ts) follows the webhooks. Who may do what is decided in deploy-policy.ts;
 * capabilities are checked by the caller, which knows the Discord roles. Collaborators are passed in, so the
 * commands and tests share one path.
 */
import type { Kysely } from "kysely";
import type { ConfigFile, EnvironmentConfig, ReleaseConfig } from "../config/config-file.js";
import { UserError } from "../errors.js";
import type { GitHubApi, GitHubCommit, GitHubComparison } from "../sources/github/github-api.js";
import { recordAudit } from "../store/audit-repository.js";
import {
  claimAnnouncement,
  currentDeployment,
  findDeployment,
  insertDeployment,
  recordGitHubDeploymentId,
} from "../store/deployment-repository.js";
import type { DeploymentRow } from "../store/deployment-repository.js";
import { findLock, lockEnvironment, unlockEnvironment } from "../store/environment-lock-repository.js";
import type { EnvironmentLockRow } from "../store/environment-lock-repository.js";
import { enqueueMessages } from "../store/outbox-repository.js";
import { listReleases } from "../store/release-repository.js";
import type { DatabaseSchema } from "../store/schema.js";
import { activeFreeze, checkApprover, checkDeployAllowed, parseApprovers } from "./deploy-policy.js";
import { planDeploymentCard } from "./deployment-tracker.js";
import { compareSemVer, formatSemVer, latestVersionTag, parseSemVer, parseVersionTag } from "./semver.js";

/** What the deploy flow needs; `CommandServices` provides all of it. */
export interface DeployServices {
  db: Kysely<DatabaseSchema>;
  config: ConfigFile;
  clock: () => number;
  github?: GitHubApi | undefined;
  /** Where deployment cards go for environments without a `channel`. */
  defaultChannel?: string | undefined;
  /** Called after outbox rows were stored, so the outbox worker sends them at once. */
  onEnqueued?: (() => void) | undefined;
}

/** A Discord member, as deployments record them. */
export interface Person {
  id: string;
  name: string;
}

/** Where an audited decision was taken. */
export interface AuditPlace {
  guildId?: string | undefined;
  channelId?: string | undefined;
}

/** What a ref resolved to. `version` is set when the ref is a release tag (`v1.2.0` -> `1.2.0`). */
export interface DeployTarget {
  ref: string;
  sha: string;
  version: string | null;
}

/**
 * What a deployment changes, for the approval card: the commits between what runs in the environment now
 * and what would run. `removed` lists the commits a rollback takes out.
 */
export type DeployRange =
  | { kind: "first" }
  | { kind: "same"; previous: DeploymentRow }
  | {
      kind: "compared";
      previous: DeploymentRow;
      comparison: GitHubComparison;
      removed: GitHubCommit[];
    }
  | { kind: "unavailable"; previous: DeploymentRow; error: string };

export interface DeployRequest {
  environment: string;
  /** A tag or commit; default the latest release. Ignored when `target` is given. */
  ref?: string | undefined;
  /** Already resolved (a rollback redeploys a known commit). */
  target?: DeployTarget;
  requester: Person & { isAdmin: boolean };
  /** An admin's reason to deploy through a freeze. */
  overrideReason?: string | undefined;
  /** Why, shown on the cards: "rollback to v1.2.0". */
  reason?: string | undefined;
  place?: AuditPlace;
}

export interface DeployRequestResult {
  deployment: DeploymentRow;
  environment: EnvironmentConfig;
  range: DeployRange;
  /** Set when an admin deployed through a freeze: what was overridden and why (audited). */
  overridden?: string;
}

const COMMITS_SHOWN_IN_AUTOCOMPLETE = 10;
const FULL_SHA = /^[0-9a-f]{40}$/i;
const FREEZE_OVERRIDE_ACTION = "deploy freeze-override";

export function findEnvironment(config: ConfigFile, name: string): EnvironmentConfig {
  const environment = config.environments.find((candidate) => candidate.name === name.trim());
  if (environment) return environment;
  const known = config.environments.map((candidate) => `\`${candidate.name}\``).join(", ");
  throw new UserError(
    known
      ? `There is no environment named "${name.trim()}": choose one of ${known}.`
      : "No environments are configured: the operator adds them under `environments` in the config file.",
  );
}

/** The `releases` entry whose versions deploy to `environment`: named by `release`, else the one for its repo. */
export function releaseConfigFor(
  config: ConfigFile,
  environment: EnvironmentConfig,
): ReleaseConfig | undefined {
  if (environment.release !== undefined) {
    return config.releases.find((release) => release.name === environment.release);
  }
  return config.releases.find((release) => release.repo.toLowerCase() === environment.repo.toLowerCase());
}

export function requireGitHub(services: Pick<DeployServices, "github">): GitHubApi {
  if (services.github) return services.github;
  throw new UserError(
    "The GitHub API is not configured on this Switchboard: the operator needs to set GITHUB_TOKEN (or a GitHub App).",
  );
}

/**
 * The commit `ref` names, and its version when it is a release tag. A bare version (`1.2.0`) is read as its
 * tag (`v1.2.0`). Without a ref: the latest stable release (prereleases only when there is nothing else),
 * from the releases Switchboard recorded and the repository's tags.
 */
export async function resolveDeployTarget(
  services: DeployServices,
  environment: EnvironmentConfig,
  ref: string | undefined,
): Promise<DeployTarget> {
  const github = requireGitHub(services);
  const release = releaseConfigFor(services.config, environment);
  const prefix = release?.tag_prefix ?? "v";
  const wanted = ref?.trim() || (await latestReleaseTag(services, environment, release));
  if (!wanted) {
    throw new UserError(
      `${environment.repo} has no release yet: give a tag or commit (\`ref:\`), or cut a release with /release preview.`,
    );
  }
  const asTag = parseSemVer(wanted) && !FULL_SHA.test(wanted) ? prefix + wanted : wanted;
  const candidates = asTag === wanted ? [wanted] : [asTag, wanted];
  for (const candidate of candidates) {
    const sha = await github.resolveRef(environment.repo, candidate);
    if (sha) {
      const version = parseVersionTag(candidate, prefix);
      return { ref: candidate, sha, version: version ? formatSemVer(version) : null };
    }
  }
  throw new UserError(
    `${environment.repo} has no tag, branch or commit \`${wanted.replace(/`/g, "'")}\`: pick one from the suggestions, or give a full commit sha.`,
  );
}

async function latestReleaseTag(
  services: DeployServices,
  environment: EnvironmentConfig,
  release: ReleaseConfig | undefined,
): Promise<string | undefined> {
  const prefix = release?.tag_prefix ?? "v";
  const recorded = await listReleases(services.db, {
    ...(release ? { releaseName: release.name } : {}),
    limit: 20,
  });
  const tags = await requireGitHub(services).listTags(environment.repo, 100);
  const names = [
    ...recorded
      .filter((row) => row.repo.toLowerCase() === environment.repo.toLowerCase())
      .map((row) => ({ name: row.tag })),
    ...tags.map((tag) => ({ name: tag.name })),
  ];
  const latest =
    latestVersionTag(names, prefix, { includePrereleases: false }) ?? latestVersionTag(names, prefix);
  return latest?.tag.name;
}

/**
 * Checks lock and freeze, resolves the ref, and records the request: awaiting approval where the environment
 * needs it, else sent to GitHub at once. Refusals throw a UserError and store nothing.
 */
export async function requestDeployment(
  services: DeployServices,
  request: DeployRequest,
): Promise<DeployRequestResult> {
  const environment = findEnvironment(services.config, request.environment);
  requireGitHub(services);
  const now = services.clock();
  const freeze = activeFreeze(services.config.freezes, environment.name, now);
  const decision = checkDeployAllowed({
    environment,
    requesterId: request.requester.id,
    lock: await findLock(services.db, environment.name),
    freeze,
    overrideReason: request.overrideReason,
    requesterIsAdmin: request.requester.isAdmin,
  });
  if (!decision.allowed) throw new UserError(decision.reason);

  const target = request.target ?? (await resolveDeployTarget(services, environment, request.ref));
  const range = await describeRange(services, environment, target.sha);
  const previous = range.kind === "first" ? undefined : range.previous;
  const needsApproval = environment.approvals > 0;
  const reasons = [request.reason, decision.overridden].filter(Boolean);
  const deployment = await insertDeployment(services.db, {
    environment: environment.name,
    repo: environment.repo,
    ref: target.ref,
    sha: target.sha,
    version: target.version,
    method: environment.method,
    github_deployment_id: null,
    state: needsApproval ? "awaiting_approval" : "requested",
    announced_state: null,
    requested_by: request.requester.id,
    requested_by_name: request.requester.name,
    approved_by: "[]",
    reason: reasons.length > 0 ? reasons.join("; ") : null,
    freeze_override: decision.overridden ? (freeze?.name ?? null) : null,
    previous_sha: previous?.sha ?? null,
    approval_channel_id: null,
    approval_message_id: null,
    status_description: null,
    log_url: null,
    created_at: now,
    updated_at: now,
    started_at: null,
    finished_at: null,
  });
  if (decision.overridden) {
    await audit(services, request.requester, request.place, {
      action: FREEZE_OVERRIDE_ACTION,
      options: {
        environment: environment.name,
        ref: target.ref,
        deployment: deployment.id,
        freeze: freeze?.name,
      },
      capability: "admin",
      detail: decision.overridden,
    });
  }
  const sent = needsApproval ? deployment : await sendToGitHub(services, deployment, environment, []);
  return {
    deployment: sent,
    environment,
    range,
    ...(decision.overridden ? { overridden: decision.overridden } : {}),
  };
}

/**
 * The commits between what runs in the environment now and `sha`. GitHub failing to compare (a commit
 * force-pushed away) does not stop a deployment: the card says the range is unknown.
 */
export async function describeRange(
  services: DeployServices,
  environment: EnvironmentConfig,
  sha: string,
  previousSha?: string | null,
): Promise<DeployRange> {
  const running = await currentDeployment(services.db, environment.name);
  const previous =
    running && running.repo.toLowerCase() === environment.repo.toLowerCase() ? running : undefined;
  if (!previous) return { kind: "first" };
  const base = previousSha ?? previous.sha;
  if (base === sha) return { kind: "same", previous };
  const github = requireGitHub(services);
  try {
    const comparison = await github.compareCommits(environment.repo, base, sha);
    const removed =
      comparison.behindBy > 0 ? (await github.compareCommits(environment.repo, sha, base)).commits : [];
    return { kind: "compared", previous, comparison, removed };
  } catch (error) {
    return { kind: "unavailable", previous, error: error instanceof Error ? error.message : String(error) };
  }
}

export interface ApprovalResult {
  deployment: DeploymentRow;
  environment: EnvironmentConfig;
  /** true when this approval was the last one needed and the deployment was sent to GitHub. */
  complete: boolean;
}

/**
 * One approval by someone other than the requester. The last one needed sends the deployment to GitHub,
 * after checking the lock and freeze again: they may have come into force while the request waited.
 */
export async function approveDeployment(
  services: DeployServices,
  id: number,
  approver: Person,
): Promise<ApprovalResult> {
  const { deployment, environment } = await findPendingDeployment(services, id);
  const decision = checkApprover({
    deployment,
    approverId: approver.id,
    approvalsNeeded: environment.approvals,
  });
  if (!decision.allowed) throw new UserError(decision.reason);
  if (decision.complete) await checkStillAllowed(services, deployment, environment);

  const approvers = [...parseApprovers(deployment.approved_by), approver.id];
  const now = services.clock();
  // Compare-and-set on the approvals seen: of two people pressing at once, one counts and the other retries.
  const result = await services.db
    .updateTable("deployments")
    .set({
      approved_by: JSON.stringify(approvers),
      updated_at: now,
      ...(decision.complete ? { state: "requested" as const } : {}),
    })
    .where("id", "=", deployment.id)
    .where("state", "=", "awaiting_approval")
    .where("approved_by", "=", deployment.approved_by)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) {
    throw new UserError(
      "Someone else acted on this deployment at the same moment: look at the card and try again.",
    );
  }
  const approved: DeploymentRow = {
    ...deployment,
    approved_by: JSON.stringify(approvers),
    updated_at: now,
    ...(decision.complete ? { state: "requested" as const } : {}),
  };
  if (!decision.complete) return { deployment: approved, environment, complete: false };
  const names = await approverNames(services.db, approvers, approver);
  const sent = await sendToGitHub(services, approved, environment, names);
  return { deployment: sent, environment, complete: true };
}

/** Refuses a pending deployment. Like approving, it is for someone other than the requester. */
export async function rejectDeployment(
  services: DeployServices,
  id: number,
  rejecter: Person,
): Promise<{ deployment: DeploymentRow; environment: EnvironmentConfig }> {
  const { deployment, environment } = await findPendingDeployment(services, id);
  if (deployment.state !== "awaiting_approval") {
    throw new UserError(
      `This deployment is no longer awaiting approval (it is ${deployment.state.replace(/_/g, " ")}).`,
    );
  }
  if (deployment.requested_by === rejecter.id) {
    throw new UserError("You requested this deployment: another person has to approve or reject it.");
  }
  const now = services.clock();
  const result = await services.db
    .updateTable("deployments")
    .set({
      state: "rejected",
      status_description: `Rejected by ${rejecter.name}`,
      updated_at: now,
      finished_at: now,
    })
    .where("id", "=", deployment.id)
    .where("state", "=", "awaiting_approval")
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) {
    throw new UserError("Someone else acted on this deployment at the same moment: look at the card.");
  }
  return {
    deployment: {
      ...deployment,
      state: "rejected",
      status_description: `Rejected by ${rejecter.name}`,
      updated_at: now,
      finished_at: now,
    },
    environment,
  };
}

async function findPendingDeployment(
  services: DeployServices,
  id: number,
): Promise<{ deployment: DeploymentRow; environment: EnvironmentConfig }> {
  const deployment = Number.isSafeInteger(id) ? await findDeployment(services.db, id) : undefined;
  if (!deployment) throw new UserError(`There is no deployment #${id}: it may have been cleaned up.`);
  const environment = services.config.environments.find(
    (candidate) => candidate.name === deployment.environment,
  );
  if (!environment) {
    throw new UserError(
      `Environment ${deployment.environment} is no longer in the config file: request the deployment again.`,
    );
  }
  return { deployment, environment };
}

/**
 * A lock taken, or a freeze begun, while the request waited stops it, unless an admin overrode that very
 * freeze when requesting it.
 */
async function checkStillAllowed(
  services: DeployServices,
  deployment: DeploymentRow,
  environment: EnvironmentConfig,
): Promise<void> {
  const freeze = activeFreeze(services.config.freezes, environment.name, services.clock());
  const overridden = freeze !== undefined && deployment.freeze_override === freeze.name;
  const decision = checkDeployAllowed({
    environment,
    requesterId: deployment.requested_by ?? "",
    lock: await findLock(services.db, environment.name),
    freeze: overridden ? undefined : freeze,
    requesterIsAdmin: false,
  });
  if (!decision.allowed) throw new UserError(`Not deployed: ${decision.reason}`);
}

/**
 * Display names of the approvers, for the payload the deploying CI receives. The last approver is at hand;
 * earlier ones are named in the audit log, which records every approval with the member's name.
 */
async function approverNames(db: Kysely<DatabaseSchema>, ids: string[], latest: Person): Promise<Person[]> {
  const earlier = ids.filter((id) => id !== latest.id);
  const rows =
    earlier.length === 0
      ? []
      : await db
          .selectFrom("audit_log")
          .select(["user_id", "user_name"])
          .where("user_id", "in", earlier)
          .orderBy("id", "desc")
          .execute();
  return ids.map((id) =>
    id === latest.id ? latest : { id, name: rows.find((row) => row.user_id === id)?.user_name ?? id },
  );
}

/**
 * Creates the GitHub Deployment, or dispatches the workflow, then records it and enqueues the deployment's
 * card. When GitHub refuses, the deployment is marked `error` with GitHub's reason and the error goes on.
 */
export async function sendToGitHub(
  services: DeployServices,
  deployment: DeploymentRow,
  environment: EnvironmentConfig,
  approvers: Person[],
): Promise<DeploymentRow> {
  const github = requireGitHub(services);
  let githubId: string | null = null;
  try {
    if (environment.method === "workflow-dispatch") {
      const workflow = environment.workflow ?? "";
      const ref = environment.workflow_ref ?? (await defaultBranch(github, environment.repo));
      await github.dispatchWorkflow(environment.repo, workflow, ref, workflowInputs(environment, deployment));
    } else {
      const created = await github.createDeployment(environment.repo, {
        // A release tag reads well in GitHub; anything else is pinned to the commit that was approved.
        ref: deployment.version ? deployment.ref : deployment.sha,
        environment: environment.name,
        description: describeDeployment(deployment),
        payload: deploymentPayload(deployment, approvers),
        productionEnvironment: environment.production,
      });
      githubId = String(created.id);
    }
  } catch (error) {
    const now = services.clock();
    const message = error instanceof Error ? error.message : String(error);
    // Unless GitHub's webhooks already tell it is on its way: the answer was lost, not the deployment.
    await services.db
      .updateTable("deployments")
      .set({
        state: "error",
        status_description: `GitHub refused it: ${message}`.slice(0, 500),
        updated_at: now,
        finished_at: now,
      })
      .where("id", "=", deployment.id)
      .where("state", "=", "requested")
      .where("github_deployment_id", "is", null)
      .execute();
    throw error;
  }

  const now = services.clock();
  let sent: DeploymentRow = { ...deployment, github_deployment_id: githubId, updated_at: now };
  let card: ReturnType<typeof planDeploymentCard>;
  await services.db.transaction().execute(async (trx) => {
    // GitHub's webhooks may have been handled already: the tracker then matched them to this row
    // (findDispatchedDeployment), stored the id, moved the state on and posted the card. Keep what it knows:
    // both writes below only fill what is still empty, so they are safe against a tracker running meanwhile.
    if (githubId !== null) await recordGitHubDeploymentId(trx, deployment.id, githubId, now);
    const current = (await findDeployment(trx, deployment.id)) ?? deployment;
    sent = { ...current, github_deployment_id: current.github_deployment_id ?? githubId, updated_at: now };
    if (current.announced_state !== null) return;
    card = planDeploymentCard(sent, environment, services.defaultChannel, now);
    if (card && (await claimAnnouncement(trx, deployment.id, current.state))) {
      await enqueueMessages(trx, [card]);
      sent = { ...sent, announced_state: current.state };
    } else {
      card = undefined;
    }
  });
  if (card) services.onEnqueued?.();
  return sent;
}

async function defaultBranch(github: GitHubApi, repo: string): Promise<string> {
  const repository = await github.getRepository(repo);
  if (!repository) {
    throw new UserError(`Repository ${repo} was not found, or the configured GitHub token cannot see it.`);
  }
  return repository.defaultBranch;
}

/** The environment's configured inputs with `{ref}`, `{sha}`, `{version}` and `{environment}` filled in. */
export function workflowInputs(
  environment: EnvironmentConfig,
  deployment: Pick<DeploymentRow, "ref" | "sha" | "version">,
): Record<string, string> {
  const values: Record<string, string> = {
    ref: deployment.ref,
    sha: deployment.sha,
    version: deployment.version ?? "",
    environment: environment.name,
  };
  return Object.fromEntries(
    Object.entries(environment.inputs).map(([name, template]) => [
      name,
      template.replace(/\{(ref|sha|version|environment)\}/g, (_, key: string) => values[key] ?? ""),
    ]),
  );
}

/** What the deploying CI receives: who asked, who approved (Discord names and ids), and our row id. */
export function deploymentPayload(
  deployment: Pick<DeploymentRow, "id" | "requested_by" | "requested_by_name" | "version" | "reason">,
  approvers: Person[],
): Record<string, unknown> {
  return {
    requested_by: { id: deployment.requested_by, name: deployment.requested_by_name },
    approved_by: approvers.map((person) => ({ id: person.id, name: person.name })),
    switchboard_deployment_id: deployment.id,
    ...(deployment.version ? { version: deployment.version } : {}),
    ...(deployment.reason ? { reason: deployment.reason } : {}),
  };
}

function describeDeployment(deployment: DeploymentRow): string {
  const what = deployment.version ? deployment.ref : deployment.sha.slice(0, 7);
  const by = deployment.requested_by_name ? ` requested by ${deployment.requested_by_name}` : "";
  // GitHub rejects descriptions over 140 characters.
  return `Deploy ${what} to ${deployment.environment}${by} via Switchboard`.slice(0, 140);
}

/** Takes the environment's lock; refuses when someone else holds it. */
export async function lockForDeploys(
  services: DeployServices,
  input: { environment: string; holder: Person; reason: string },
): Promise<{ lock: EnvironmentLockRow; alreadyHeld: boolean }> {
  const environment = findEnvironment(services.config, input.environment);
  const reason = input.reason.trim();
  if (!reason) throw new UserError("Say why you lock it (`reason:`), so others know when to ask.");
  const held = await findLock(services.db, environment.name);
  if (held?.locked_by === input.holder.id) return { lock: held, alreadyHeld: true };
  const lock = await lockEnvironment(services.db, {
    environment: environment.name,
    locked_by: input.holder.id,
    locked_by_name: input.holder.name,
    reason,
    locked_at: services.clock(),
  });
  if (lock.locked_by !== input.holder.id) {
    throw new UserError(
      `${environment.name} is already locked by ${lock.locked_by_name} (<@${lock.locked_by}>) since <t:${Math.floor(lock.locked_at / 1000)}:R>: ${lock.reason}`,
    );
  }
  return { lock, alreadyHeld: false };
}

/** Removes the lock: the holder may, anyone else only as an admin. Answers the lock that was removed. */
export async function unlockForDeploys(
  services: DeployServices,
  input: { environment: string; user: Person & { isAdmin: boolean } },
): Promise<EnvironmentLockRow> {
  const environment = findEnvironment(services.config, input.environment);
  const lock = await findLock(services.db, environment.name);
  if (!lock) throw new UserError(`${environment.name} is not locked.`);
  if (lock.locked_by !== input.user.id && !input.user.isAdmin) {
    throw new UserError(
      `${environment.name} is locked by ${lock.locked_by_name} (<@${lock.locked_by}>): ${lock.reason}. Only they or an admin may unlock it.`,
    );
  }
  await unlockEnvironment(services.db, environment.name);
  return lock;
}

/** Recent release tags and commits of the environment's repository, newest first, for autocomplete. */
export async function suggestRefs(
  services: DeployServices,
  environment: EnvironmentConfig,
): Promise<Array<{ name: string; value: string }>> {
  const github = requireGitHub(services);
  const release = releaseConfigFor(services.config, environment);
  const prefix = release?.tag_prefix ?? "v";
  const tags = (await github.listTags(environment.repo, 100))
    .flatMap((tag) => {
      const version = parseVersionTag(tag.name, prefix);
      return version ? [{ tag, version }] : [];
    })
    .sort((a, b) => compareSemVer(b.version, a.version))
    .map(({ tag }) => ({ name: `${tag.name} (release)`, value: tag.name }));
  const branch = release?.branch ?? (await defaultBranch(github, environment.repo));
  const commits = await github.listCommits(environment.repo, {
    sha: branch,
    ...(release?.path ? { path: release.path } : {}),
    limit: COMMITS_SHOWN_IN_AUTOCOMPLETE,
  });
  return [
    ...tags,
    ...commits.map((commit) => ({
      name: `${commit.sha.slice(0, 7)} ${commit.message.split("\n", 1)[0] ?? ""}`.slice(0, 100),
      value: commit.sha,
    })),
  ];
}

async function audit(
  services: DeployServices,
  user: Person,
  place: AuditPlace | undefined,
  entry: { action: string; options: Record<string, unknown>; capability: string; detail: string },
): Promise<void> {
  await recordAudit(services.db, {
    at: services.clock(),
    user_id: user.id,
    user_name: user.name,
    action: entry.action,
    options: JSON.stringify(entry.options),
    capability: entry.capability,
    outcome: "ok",
    detail: entry.detail,
    guild_id: place?.guildId ?? null,
    channel_id: place?.channelId ?? null,
  });
}
