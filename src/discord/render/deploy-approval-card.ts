/**
 * Pure: the card that asks for a deployment's approval, posted in the channel where it was requested. It
 * lists what would change (the commits between what runs there now and what would run) and carries
 * Approve / Reject buttons (`deploy:approve:<id>`, `deploy:reject:<id>`). Once decided, the same card is
 * edited in place: the buttons go and the card says who decided.
 */
import type { APIActionRowComponent, APIButtonComponent } from "discord-api-types/v10";
import { ButtonStyle, ComponentType } from "discord-api-types/v10";
import type { EnvironmentConfig } from "../../config/config-file.js";
import type { DeployRange } from "../../deploy/deploy-service.js";
import { oneLine, firstLine, truncate } from "../../events/text.js";
import type { GitHubCommit } from "../../sources/github/github-api.js";
import type { DeploymentRow } from "../../store/deployment-repository.js";
import { parseApprovers } from "../../deploy/deploy-policy.js";
import { DEPLOYMENT_STATE_LABELS, deploymentLabel, personLabel, shortSha } from "./deployment-card.js";
import type { DiscordMessage, EmbedField } from "./message.js";
import { COLORS, LIMITS, NO_MENTIONS, escapeMarkdown, fitMessage } from "./message.js";

/** Commits listed on the card; the rest are counted. */
export const COMMITS_SHOWN = 15;
const SUBJECT_LENGTH = 72;

export type ApprovalCard = DiscordMessage & {
  components: Array<APIActionRowComponent<APIButtonComponent>>;
};

/**
 * `changes` is the card's commit list (`describeChanges`): rendered once when the deployment is requested and
 * carried over from the card itself when it is edited, so a button press costs no GitHub call.
 */
export function renderApprovalCard(input: {
  deployment: DeploymentRow;
  environment: EnvironmentConfig;
  changes: string;
}): ApprovalCard {
  const { deployment, environment, changes } = input;
  const pending = deployment.state === "awaiting_approval";
  // On this card `error` only ever means GitHub refused the approved deployment (the status description says why).
  const refused = deployment.state === "error";
  const what = deploymentLabel(deployment);
  const approvers = parseApprovers(deployment.approved_by);
  const fields: EmbedField[] = [
    { name: "Environment", value: escapeMarkdown(environment.name), inline: true },
    { name: "Version", value: escapeMarkdown(what), inline: true },
    { name: "Commit", value: `\`${shortSha(deployment.sha)}\``, inline: true },
    {
      name: "Requested by",
      value: personLabel(deployment.requested_by, deployment.requested_by_name) ?? "someone",
      inline: true,
    },
    {
      name: "Approvals",
      value: `${approvers.length} of ${Math.max(1, environment.approvals)}${approvers.length > 0 ? `: ${approvers.map((id) => `<@${id}>`).join(", ")}` : ""}`,
      inline: true,
    },
  ];
  if (deployment.reason)
    fields.push({ name: "Reason", value: escapeMarkdown(deployment.reason), inline: false });
  if (!pending) {
    fields.unshift({
      name: "State",
      value: `${DEPLOYMENT_STATE_LABELS[deployment.state] ?? deployment.state}${(deployment.state === "rejected" || refused) && deployment.status_description ? ` · ${escapeMarkdown(truncate(oneLine(deployment.status_description), 300))}` : ""}`,
      inline: false,
    });
  }
  const title = pending
    ? `Approve deploying ${what} to ${environment.name}?`
    : deployment.state === "rejected"
      ? `Rejected: ${what} to ${environment.name}`
      : refused
        ? `Approved, but GitHub refused to deploy ${what} to ${environment.name}`
        : `Approved: deploying ${what} to ${environment.name}`;
  const message = fitMessage({
    embeds: [
      {
        title: truncate(oneLine(title), LIMITS.embedTitle),
        color: pending
          ? COLORS.warning
          : deployment.state === "rejected"
            ? COLORS.neutral
            : refused
              ? COLORS.failure
              : COLORS.success,
        description: changes,
        fields,
        footer: { text: `Deployment #${deployment.id} · ${environment.repo} · ${deployment.method}` },
      },
    ],
    allowed_mentions: NO_MENTIONS,
  });
  return { ...message, components: pending ? [approvalButtons(deployment.id)] : [] };
}

export function approvalButtons(deploymentId: number): APIActionRowComponent<APIButtonComponent> {
  return {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        style: ButtonStyle.Success,
        label: "Approve",
        custom_id: `deploy:approve:${deploymentId}`,
      },
      {
        type: ComponentType.Button,
        style: ButtonStyle.Danger,
        label: "Reject",
        custom_id: `deploy:reject:${deploymentId}`,
      },
    ],
  };
}

/** What the deployment changes: what runs there now, then the commits to ship (or take out). */
export function describeChanges(range: DeployRange, repo: string): string {
  if (range.kind === "first") {
    return "Nothing is recorded as running there yet: this is its first deployment through Switchboard.";
  }
  return `Runs there now: ${runningLabel(range.previous)}\n\n${describeCommits(range, repo)}`;
}

function describeCommits(range: Exclude<DeployRange, { kind: "first" }>, repo: string): string {
  switch (range.kind) {
    case "same":
      return "The same commit already runs there: this redeploys it.";
    case "unavailable":
      return `GitHub could not compare the commits (${escapeMarkdown(truncate(oneLine(range.error), 200))}).`;
    case "compared": {
      const { comparison, removed } = range;
      const parts: string[] = [];
      if (comparison.aheadBy > 0) {
        parts.push(
          `**${count(comparison.aheadBy, "commit")} to ship:**\n${commitLines(comparison.commits, comparison.aheadBy, repo)}`,
        );
      }
      if (comparison.behindBy > 0) {
        parts.push(
          `**${count(comparison.behindBy, "commit")} to take out (rollback):**\n${commitLines(removed, comparison.behindBy, repo)}`,
        );
      }
      return parts.join("\n\n") || "No commits differ from what runs there now.";
    }
  }
}

/** Newest first, at most COMMITS_SHOWN, each `[abc1234](url) subject · author`. */
function commitLines(commits: GitHubCommit[], total: number, repo: string): string {
  const newestFirst = [...commits].reverse();
  const lines = newestFirst.slice(0, COMMITS_SHOWN).map((commit) => {
    const subject = escapeMarkdown(truncate(oneLine(firstLine(commit.message)), SUBJECT_LENGTH));
    const author = escapeMarkdown(commit.author ?? commit.authorName);
    const url = /^https?:\/\//.test(commit.url)
      ? commit.url
      : `https://github.com/${repo}/commit/${commit.sha}`;
    return `[\`${shortSha(commit.sha)}\`](${url}) ${subject} · ${author}`;
  });
  const more = total - lines.length;
  if (more > 0) lines.push(`…and ${count(more, "more commit")}`);
  return lines.join("\n");
}

function runningLabel(previous: DeploymentRow): string {
  const label = deploymentLabel(previous);
  const sha = `\`${shortSha(previous.sha)}\``;
  return label === shortSha(previous.sha) ? sha : `**${escapeMarkdown(label)}** ${sha}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
