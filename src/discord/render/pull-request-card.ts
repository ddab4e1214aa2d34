/**
 * Pure: a pull request as /github shows it. The card answers "can this merge?" at a glance (state, checks,
 * who approved, who is still asked), and the list answers "what is waiting for review?", oldest first.
 *
 * Titles, labels and branch names are user text: they are escaped where Markdown would read them, and the
 * messages mention nobody.
 */
import { oneLine, truncate } from "../../events/text.js";
import type {
  GitHubPullRequest,
  GitHubPullRequestList,
  GitHubReview,
  GitHubReviewState,
} from "../../sources/github/github-api.js";
import type { DiscordMessage, EmbedField } from "./message.js";
import { COLORS, NO_MENTIONS, escapeMarkdown, fitMessage, inlineCode } from "./message.js";

const MAX_FAILED_CHECKS_NAMED = 5;
const LIST_TITLE_LENGTH = 90;
/** Git refuses ref names longer than this, so a real branch is never cut. */
const BRANCH_LENGTH = 255;

const STATE_LABELS: Record<GitHubPullRequest["state"] | "draft", string> = {
  open: "🟢 Open",
  draft: "📝 Draft",
  merged: "🟣 Merged",
  closed: "⚪ Closed",
};

const REVIEW_LABELS: Record<GitHubReviewState, { icon: string; verb: string }> = {
  approved: { icon: "✅", verb: "approved" },
  changes_requested: { icon: "🟠", verb: "requested changes" },
  commented: { icon: "💬", verb: "commented" },
  dismissed: { icon: "⚪", verb: "review dismissed" },
};

export function renderPullRequestCard(pr: GitHubPullRequest): DiscordMessage {
  const fields: EmbedField[] = [
    {
      name: "State",
      value: STATE_LABELS[pr.state === "open" && pr.draft ? "draft" : pr.state],
      inline: true,
    },
    { name: "Checks", value: describeChecks(pr), inline: true },
  ];
  if (pr.additions !== undefined && pr.deletions !== undefined) {
    const files = pr.changedFiles !== undefined ? ` in ${plural(pr.changedFiles, "file")}` : "";
    fields.push({ name: "Changes", value: `+${pr.additions} −${pr.deletions}${files}`, inline: true });
  }
  fields.push({ name: "Reviews", value: describeReviews(pr.reviews, pr.requestedReviewers), inline: false });
  if (pr.labels.length > 0) {
    fields.push({ name: "Labels", value: pr.labels.map(escapeMarkdown).join(", "), inline: false });
  }
  return fitMessage({
    embeds: [
      {
        title: `#${pr.number} ${oneLine(pr.title)}`,
        url: pr.url,
        color: cardColor(pr),
        description: `**${pr.author}** wants to merge ${inlineCode(pr.headBranch, BRANCH_LENGTH)} into ${inlineCode(pr.baseBranch, BRANCH_LENGTH)} · opened ${relativeTime(pr.createdAt)}`,
        fields,
        footer: { text: `GitHub · ${pr.repo}` },
        timestamp: pr.updatedAt,
      },
    ],
    allowed_mentions: NO_MENTIONS,
  });
}

/** What /github prs was asked for, to title the list. */
export interface PullRequestListScope {
  repo?: string;
  author?: string;
}

export function renderPullRequestList(
  list: GitHubPullRequestList,
  scope: PullRequestListScope,
): DiscordMessage {
  const where = [scope.repo ? `in ${scope.repo}` : "", scope.author ? `by ${scope.author}` : ""]
    .filter(Boolean)
    .join(" ");
  if (list.items.length === 0) {
    return { content: `No open pull requests are awaiting review ${where}.`, allowed_mentions: NO_MENTIONS };
  }
  const lines = list.items.map((item, index) => {
    const reference = scope.repo ? `#${item.number}` : `${item.repo}#${item.number}`;
    const title = escapeMarkdown(truncate(oneLine(item.title), LIST_TITLE_LENGTH));
    const by = scope.author ? "" : ` by **${item.author}**`;
    return `${index + 1}. [${reference}](${item.url}) ${title}${by}, opened ${relativeTime(item.createdAt)}`;
  });
  const more = list.total - list.items.length;
  return fitMessage({
    embeds: [
      {
        title: `Awaiting review ${where}`,
        color: COLORS.info,
        description: lines.join("\n"),
        footer: {
          text: `Open, not draft, not yet approved · oldest first${more > 0 ? ` · ${list.items.length} of ${list.total} shown` : ""}`,
        },
      },
    ],
    allowed_mentions: NO_MENTIONS,
  });
}

function describeChecks(pr: GitHubPullRequest): string {
  const { passed, failed, pending, failedNames } = pr.checks;
  if (passed + failed + pending === 0) return "No checks";
  const counts = [
    failed > 0 ? `❌ ${failed} failed` : "",
    pending > 0 ? `⏳ ${pending} pending` : "",
    passed > 0 ? `✅ ${passed} passed` : "",
  ].filter(Boolean);
  const named = failedNames.slice(0, MAX_FAILED_CHECKS_NAMED).map(escapeMarkdown);
  if (failedNames.length > named.length) named.push(`and ${failedNames.length - named.length} more`);
  return [counts.join(" · "), named.length > 0 ? `Failed: ${named.join(", ")}` : ""]
    .filter(Boolean)
    .join("\n");
}

function describeReviews(reviews: GitHubReview[], requested: string[]): string {
  const lines = reviews.map((review) => {
    const label = REVIEW_LABELS[review.state];
    return `${label.icon} **${review.reviewer}** ${label.verb}`;
  });
  if (requested.length > 0) lines.push(`⏳ Waiting on ${requested.map((name) => `**${name}**`).join(", ")}`);
  return lines.length > 0 ? lines.join("\n") : "No reviews yet";
}

/** Merged and closed say so; an open PR is red with failing checks or changes requested, green when ready. */
function cardColor(pr: GitHubPullRequest): number {
  if (pr.state === "merged") return COLORS.merged;
  if (pr.state === "closed") return COLORS.neutral;
  if (pr.draft) return COLORS.warning;
  if (pr.checks.failed > 0) return COLORS.failure;
  const states = new Set(pr.reviews.map((review) => review.state));
  if (states.has("changes_requested")) return COLORS.warning;
  if (states.has("approved") && pr.checks.pending === 0) return COLORS.success;
  return COLORS.info;
}

/** Discord renders `<t:unix:R>` as "3 days ago" in each reader's own locale and time zone. */
function relativeTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? "at an unknown time" : `<t:${Math.floor(ms / 1000)}:R>`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
