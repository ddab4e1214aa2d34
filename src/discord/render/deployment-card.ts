/**
 * A deployment's card: what goes where, who asked and approved, and where it stands now. Posted once per
 * deployment and channel and edited in place as statuses arrive, so the channel reads one line of history
 * per deployment instead of one message per status.
 */
import { formatDuration, oneLine, truncate } from "../../events/text.js";
import { parseApprovers } from "../../deploy/deploy-policy.js";
import type { DeploymentState } from "../../store/schema.js";
import type { DeploymentRow } from "../../store/deployment-repository.js";
import type { DiscordMessage, EmbedField } from "./message.js";
import { COLORS, NO_MENTIONS, escapeMarkdown, fitMessage } from "./message.js";

export const DEPLOYMENT_STATE_LABELS: Record<DeploymentState, string> = {
  awaiting_approval: "⏳ Awaiting approval",
  rejected: "🚫 Rejected",
  requested: "📨 Requested",
  queued: "🕓 Queued",
  in_progress: "🚀 In progress",
  success: "✅ Succeeded",
  failure: "❌ Failed",
  error: "💥 Errored",
  inactive: "💤 Replaced by a newer deployment",
};

const STATE_COLORS: Record<DeploymentState, number> = {
  awaiting_approval: COLORS.warning,
  rejected: COLORS.neutral,
  requested: COLORS.info,
  queued: COLORS.info,
  in_progress: COLORS.info,
  success: COLORS.success,
  failure: COLORS.failure,
  error: COLORS.failure,
  inactive: COLORS.neutral,
};

const SNOWFLAKE = /^\d{17,20}$/;

export function renderDeploymentCard(deployment: DeploymentRow): DiscordMessage {
  const what = deploymentLabel(deployment);
  const fields: EmbedField[] = [
    { name: "State", value: DEPLOYMENT_STATE_LABELS[deployment.state] ?? deployment.state, inline: true },
    { name: "Environment", value: escapeMarkdown(deployment.environment), inline: true },
    { name: "Repository", value: escapeMarkdown(deployment.repo), inline: true },
    { name: "Version", value: escapeMarkdown(what), inline: true },
  ];
  if (deployment.sha) fields.push({ name: "Commit", value: `\`${shortSha(deployment.sha)}\``, inline: true });
  const requester = personLabel(deployment.requested_by, deployment.requested_by_name);
  if (requester) fields.push({ name: "Requested by", value: requester, inline: true });
  const approvers = parseApprovers(deployment.approved_by).filter((id) => SNOWFLAKE.test(id));
  if (approvers.length > 0) {
    fields.push({ name: "Approved by", value: approvers.map((id) => `<@${id}>`).join(", "), inline: true });
  }
  if (deployment.started_at !== null) {
    fields.push({ name: "Started", value: discordTime(deployment.started_at), inline: true });
  }
  if (deployment.finished_at !== null) {
    fields.push({ name: "Finished", value: discordTime(deployment.finished_at), inline: true });
    if (deployment.started_at !== null) {
      fields.push({
        name: "Duration",
        value: formatDuration((deployment.finished_at - deployment.started_at) / 1000),
        inline: true,
      });
    }
  }
  if (deployment.reason) {
    fields.push({ name: "Reason", value: escapeMarkdown(deployment.reason), inline: false });
  }
  const logUrl = webUrl(deployment.log_url);
  if (logUrl) fields.push({ name: "Logs", value: `[View the deployment log](${logUrl})`, inline: false });
  return fitMessage({
    embeds: [
      {
        title: truncate(oneLine(`Deploy ${what} to ${deployment.environment}`), 256),
        ...(logUrl ? { url: logUrl } : {}),
        ...(deployment.status_description ? { description: deployment.status_description } : {}),
        color: STATE_COLORS[deployment.state] ?? COLORS.info,
        fields,
        footer: { text: `Deployment #${deployment.id} · ${deployment.method}` },
      },
    ],
    allowed_mentions: NO_MENTIONS,
  });
}

/** `v1.2.3`, or the ref (`main`, `abc1234…`) when the deployment is not of a release. */
export function deploymentLabel(deployment: Pick<DeploymentRow, "version" | "ref">): string {
  if (deployment.version) return deployment.version;
  return /^[0-9a-f]{40}$/i.test(deployment.ref) ? shortSha(deployment.ref) : deployment.ref;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/** A Discord user id shows as a mention (embeds never ping); anyone else (a GitHub login) by name. */
export function personLabel(id: string | null, name: string | null): string | undefined {
  if (id && SNOWFLAKE.test(id)) return `<@${id}>`;
  const shown = name ?? id;
  return shown ? escapeMarkdown(shown) : undefined;
}

/** Discord renders `<t:unix:f>` in each reader's own time zone. */
function discordTime(ms: number): string {
  return `<t:${Math.floor(ms / 1000)}:f>`;
}

/** Only http(s) links become a masked link; anything else a status carries is left out. */
function webUrl(url: string | null): string | undefined {
  if (!url || !/^https?:\/\/[^\s()<>]+$/i.test(url)) return undefined;
  return url;
}
