/**
 * Pure: a Linear issue as /linear shows it. The card answers "where does this stand and who has it?" at a
 * glance; the list answers "what is on my plate?".
 *
 * Titles, labels and descriptions are user text: titles are escaped where Markdown would read them, and
 * the messages mention nobody.
 */
import { oneLine, truncate } from "../../events/text.js";
import type { LinearIssue } from "../../sources/linear/linear-api.js";
import type { DiscordMessage, EmbedField } from "./message.js";
import { COLORS, NO_MENTIONS, escapeMarkdown, fitMessage } from "./message.js";

/** The card previews the description; the full text is one click away in Linear. */
const DESCRIPTION_PREVIEW = 500;
const LIST_TITLE_LENGTH = 80;

const PRIORITY_LABELS: Record<number, string> = {
  0: "No priority",
  1: "🔴 Urgent",
  2: "🟠 High",
  3: "🟡 Medium",
  4: "🔵 Low",
};

const STATE_ICONS: Record<string, string> = {
  triage: "📥",
  backlog: "🗂️",
  unstarted: "⚪",
  started: "🟡",
  completed: "✅",
  canceled: "⛔",
  duplicate: "⛔",
};

export function renderLinearIssueCard(issue: LinearIssue): DiscordMessage {
  const fields: EmbedField[] = [
    { name: "Status", value: stateLabel(issue), inline: true },
    { name: "Priority", value: priorityLabel(issue), inline: true },
    {
      name: "Assignee",
      value: issue.assignee ? escapeMarkdown(issue.assignee.name) : "Unassigned",
      inline: true,
    },
  ];
  if (issue.labels.length > 0) {
    fields.push({ name: "Labels", value: issue.labels.map(escapeMarkdown).join(", "), inline: false });
  }
  const description = issue.description?.trim();
  return fitMessage({
    embeds: [
      {
        title: `${issue.identifier} ${oneLine(issue.title)}`,
        url: issue.url,
        color: stateColor(issue),
        ...(description ? { description: truncate(description, DESCRIPTION_PREVIEW) } : {}),
        fields,
        footer: { text: `Linear · ${issue.team.key} ${issue.team.name}` },
        timestamp: issue.updatedAt,
      },
    ],
    allowed_mentions: NO_MENTIONS,
  });
}

/** `/linear mine`: one line per issue, most recently updated first (the order Linear returned). */
export function renderLinearIssueList(issues: LinearIssue[], heading: string): DiscordMessage {
  if (issues.length === 0) {
    return { content: `${heading}: none. 🎉`, allowed_mentions: NO_MENTIONS };
  }
  const lines = issues.map((issue) => {
    const title = escapeMarkdown(truncate(oneLine(issue.title), LIST_TITLE_LENGTH));
    const priority = issue.priority > 0 ? ` · ${priorityLabel(issue)}` : "";
    return `[${issue.identifier}](${issue.url}) ${title} · ${stateLabel(issue)}${priority}`;
  });
  return fitMessage({
    embeds: [
      {
        title: heading,
        color: COLORS.info,
        description: lines.join("\n"),
        footer: { text: `Linear · ${issues.length} open, most recently updated first` },
      },
    ],
    allowed_mentions: NO_MENTIONS,
  });
}

function stateLabel(issue: LinearIssue): string {
  const icon = STATE_ICONS[issue.state.type];
  return `${icon ? `${icon} ` : ""}${escapeMarkdown(issue.state.name)}`;
}

function priorityLabel(issue: LinearIssue): string {
  return PRIORITY_LABELS[issue.priority] ?? issue.priorityLabel;
}

/** The workflow state's own colour, as Linear shows it; by state type when Linear sent none we can read. */
function stateColor(issue: LinearIssue): number {
  const hex = /^#([0-9a-f]{6})$/i.exec(issue.state.color)?.[1];
  if (hex) return Number.parseInt(hex, 16);
  switch (issue.state.type) {
    case "completed":
      return COLORS.success;
    case "canceled":
    case "duplicate":
      return COLORS.neutral;
    case "started":
      return COLORS.warning;
    default:
      return COLORS.info;
  }
}
