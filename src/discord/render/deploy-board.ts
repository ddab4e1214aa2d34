/**
 * Pure: `/deploy status` (a board of environments: what runs, who deployed it, when, how it went, how long
 * it took, and whether the environment is locked or frozen) and `/deploy history` (one line per
 * deployment, newest first). Embeds never ping; people show as mentions so readers see current names.
 */
import { formatDuration, oneLine, truncate } from "../../events/text.js";
import type { EnvironmentConfig } from "../../config/config-file.js";
import type { DeploymentRow } from "../../store/deployment-repository.js";
import type { EnvironmentLockRow } from "../../store/environment-lock-repository.js";
import { DEPLOYMENT_STATE_LABELS, deploymentLabel, personLabel, shortSha } from "./deployment-card.js";
import type { DiscordMessage, EmbedField } from "./message.js";
import { COLORS, LIMITS, NO_MENTIONS, escapeMarkdown, fitMessage } from "./message.js";

const REASON_LENGTH = 120;

export interface EnvironmentStatus {
  environment: EnvironmentConfig;
  /** The newest deployment that reached GitHub (in flight, finished or replaced). */
  latest?: DeploymentRow | undefined;
  /** What runs there: the newest success. */
  running?: DeploymentRow | undefined;
  lock?: EnvironmentLockRow | undefined;
  /** The freeze in force, described (deploy-policy's describeFreeze). */
  freeze?: string | undefined;
}

export function renderDeployBoard(statuses: EnvironmentStatus[], now: number): DiscordMessage {
  if (statuses.length === 0) {
    return {
      content:
        "No environments are configured: the operator adds them under `environments` in the config file.",
      allowed_mentions: NO_MENTIONS,
    };
  }
  const fields: EmbedField[] = statuses.slice(0, LIMITS.embedFields).map((status) => ({
    name: environmentTitle(status),
    value: environmentLines(status, now).join("\n"),
    inline: false,
  }));
  const more = statuses.length - fields.length;
  return fitMessage({
    embeds: [
      {
        title: "Deployments",
        color: boardColor(statuses),
        fields,
        footer: {
          text: `/deploy history <environment> for more${more > 0 ? ` · ${more} more environments not shown` : ""}`,
        },
      },
    ],
    allowed_mentions: NO_MENTIONS,
  });
}

function environmentTitle(status: EnvironmentStatus): string {
  const marks = [status.lock ? "🔒" : "", status.freeze ? "❄️" : ""].filter(Boolean).join(" ");
  const kind = status.environment.production ? " (production)" : "";
  return `${status.environment.name}${kind}${marks ? ` ${marks}` : ""}`;
}

function environmentLines(status: EnvironmentStatus, now: number): string[] {
  const { latest, running, lock, freeze } = status;
  const lines: string[] = [];
  if (!latest) {
    lines.push(`Nothing deployed through Switchboard yet · ${escapeMarkdown(status.environment.repo)}`);
  } else {
    lines.push(describeDeployment(latest, now));
    if (running && running.id !== latest.id) lines.push(`Still running: ${versionAndCommit(running)}`);
  }
  if (lock) {
    lines.push(
      `🔒 Locked by ${person(lock.locked_by, lock.locked_by_name)} ${when(lock.locked_at)}: ${escapeMarkdown(truncate(oneLine(lock.reason), REASON_LENGTH))}`,
    );
  }
  // The operator wrote the freeze in the config file: it is shown as written.
  if (freeze) lines.push(`❄️ Frozen: ${freeze}`);
  return lines;
}

/** `✅ Succeeded · **1.2.0** \`abc1234\`` then `by @ada <t:…:R> · took 2m 05s`. */
function describeDeployment(deployment: DeploymentRow, now: number): string {
  const state = DEPLOYMENT_STATE_LABELS[deployment.state] ?? deployment.state;
  return `${state} · ${versionAndCommit(deployment)}\n${whoWhenHowLong(deployment, now)}`;
}

/** `by @ada <t:…:R> · took 2m 05s`; deployments started outside chat may name nobody. */
function whoWhenHowLong(deployment: DeploymentRow, now: number): string {
  const who =
    deployment.requested_by || deployment.requested_by_name
      ? `by ${person(deployment.requested_by, deployment.requested_by_name)} `
      : "";
  const at = deployment.finished_at ?? deployment.started_at ?? deployment.created_at;
  const took = duration(deployment, now);
  return `${who}${when(at)}${took ? ` · ${took}` : ""}`;
}

function versionAndCommit(deployment: DeploymentRow): string {
  const label = deploymentLabel(deployment);
  const commit = `\`${shortSha(deployment.sha)}\``;
  return label === shortSha(deployment.sha) ? commit : `**${escapeMarkdown(label)}** ${commit}`;
}

/** "took 2m 05s" when finished, "running for 40s" while it runs, nothing before it started. */
function duration(deployment: DeploymentRow, now: number): string | undefined {
  if (deployment.started_at === null) return undefined;
  if (deployment.finished_at !== null)
    return `took ${formatDuration((deployment.finished_at - deployment.started_at) / 1000)}`;
  if (deployment.state === "inactive") return undefined;
  return `running for ${formatDuration((now - deployment.started_at) / 1000)}`;
}

function boardColor(statuses: EnvironmentStatus[]): number {
  const states = statuses.map((status) => status.latest?.state);
  if (states.some((state) => state === "failure" || state === "error")) return COLORS.failure;
  if (states.some((state) => state === "queued" || state === "in_progress" || state === "requested"))
    return COLORS.info;
  if (statuses.some((status) => status.lock || status.freeze)) return COLORS.warning;
  return COLORS.success;
}

/** `/deploy history`: the environment's deployments, newest first, including requests and rejections. */
export function renderDeployHistory(
  environment: EnvironmentConfig,
  deployments: DeploymentRow[],
  now: number,
): DiscordMessage {
  if (deployments.length === 0) {
    return {
      content: `Nothing has been deployed to ${environment.name} through Switchboard yet.`,
      allowed_mentions: NO_MENTIONS,
    };
  }
  const lines = deployments.map((deployment) => {
    const state = DEPLOYMENT_STATE_LABELS[deployment.state] ?? deployment.state;
    const reason = deployment.reason
      ? ` · ${escapeMarkdown(truncate(oneLine(deployment.reason), REASON_LENGTH))}`
      : "";
    return `\`#${deployment.id}\` ${state} · ${versionAndCommit(deployment)} ${whoWhenHowLong(deployment, now)}${reason}`;
  });
  return fitMessage({
    embeds: [
      {
        title: `Deployments to ${environment.name}`,
        color: COLORS.info,
        description: keepWholeLines(lines, LIMITS.embedDescription),
        footer: { text: `${environment.repo} · newest first` },
      },
    ],
    allowed_mentions: NO_MENTIONS,
  });
}

/** As many whole lines as fit, so a cut never leaves half a mention or timestamp behind. */
function keepWholeLines(lines: string[], max: number): string {
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    if (length + line.length + 1 > max) break;
    kept.push(line);
    length += line.length + 1;
  }
  return kept.join("\n");
}

function person(id: string | null, name: string | null): string {
  return personLabel(id, name) ?? "someone";
}

/** Discord renders `<t:unix:R>` as "3 minutes ago" for each reader. */
function when(ms: number): string {
  return `<t:${Math.floor(ms / 1000)}:R>`;
}
