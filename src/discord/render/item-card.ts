/**
 * The card at the top of an item's thread: what the PR or issue is and where it stands now. It is edited in
 * place as events arrive, so it always shows the latest state while the thread keeps the history.
 */
import { oneLine, truncate } from "../../events/text.js";
import type { ItemSnapshot } from "../../events/domain-event.js";
import type { DiscordMessage, EmbedField } from "./message.js";
import { COLORS, NO_MENTIONS, fitMessage } from "./message.js";

const STATUS_LABELS: Record<string, string> = {
  open: "🟢 Open",
  draft: "📝 Draft",
  approved: "✅ Approved",
  changes_requested: "🟠 Changes requested",
  merged: "🟣 Merged",
  closed: "⚪ Closed",
};

const KIND_LABELS: Record<ItemSnapshot["kind"], string> = {
  pull_request: "Pull request",
  issue: "Issue",
  linear_issue: "Linear issue",
};

export function renderItemCard(item: ItemSnapshot): DiscordMessage {
  const fields: EmbedField[] = [
    { name: "Status", value: STATUS_LABELS[item.status] ?? item.status, inline: true },
  ];
  if (item.author) fields.push({ name: "Author", value: item.author, inline: true });
  if (item.assignee) fields.push({ name: "Assignee", value: item.assignee, inline: true });
  if (item.labels.length > 0) fields.push({ name: "Labels", value: item.labels.join(", "), inline: false });
  return fitMessage({
    embeds: [
      {
        title: `${item.reference} ${item.title}`,
        url: item.url,
        color: statusColor(item),
        fields,
        footer: { text: `${KIND_LABELS[item.kind]} · ${item.container}` },
      },
    ],
    allowed_mentions: NO_MENTIONS,
  });
}

/** Discord thread names are at most 100 characters. */
export function itemThreadName(item: ItemSnapshot): string {
  return truncate(oneLine(`${item.reference} ${item.title}`), 100);
}

function statusColor(item: ItemSnapshot): number {
  switch (item.status) {
    case "merged":
      return COLORS.merged;
    case "closed":
      return COLORS.neutral;
    case "approved":
      return COLORS.success;
    case "draft":
    case "changes_requested":
      return COLORS.warning;
    case "open":
      return COLORS.info;
  }
  // Linear workflow states are named by each team; the common finished ones get their colours.
  if (/^(done|completed|released|shipped)$/i.test(item.status)) return COLORS.success;
  if (/^(canceled|cancelled|duplicate)$/i.test(item.status)) return COLORS.neutral;
  return COLORS.info;
}
