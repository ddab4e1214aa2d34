/**
 * `digest`: a summary of the team's work since the last digest, posted on weekday mornings.
 *
 * - Linear: issues completed in the period, issues in progress, open issues labelled as blocked, and issues
 *   filed from chat (feedback captures) in the period.
 * - GitHub: pull requests merged in the period, open pull requests waiting for review for more than
 *   `awaiting_review_hours`, and failed workflow runs on each repository's default branch.
 * - Deployments and releases recorded in the period.
 *
 * The period starts at the last successful digest (the first one: a day back). A source without credentials
 * is left out, and said so in the run's summary. The digest is plain Markdown content, one section after the
 * other, split between sections (or, for a long section, between lines) into as many messages as Discord's
 * 2,000-character limit needs. When nothing happened in the period (only standing lists such as "in progress"
 * have entries) it posts nothing, unless `post_when_empty` is on.
 */
import { z } from "zod";
import type { DiscordMessage } from "../discord/render/message.js";
import { LIMITS, NO_MENTIONS } from "../discord/render/message.js";
import { oneLine, truncate } from "../events/text.js";
import { planPost } from "../pipeline/plan-messages.js";
import type { GitHubApi } from "../sources/github/github-api.js";
import type { LinearApi, LinearIssue } from "../sources/linear/linear-api.js";
import { listDeployments } from "../store/deployment-repository.js";
import { enqueueMessages } from "../store/outbox-repository.js";
import { listReleases } from "../store/release-repository.js";
import { defineJob } from "./job.js";
import type { JobContext } from "./job.js";
import { reposToWatch } from "./stale-prs.js";

const HOUR_MS = 60 * 60 * 1000;
/** Linear's `first:` limit per request, and how many pages of updates one digest reads at most. */
const LINEAR_PAGE = 50;
const LINEAR_PAGES = 10;
/** Rows of deployments and releases read per digest; a period with more is summarised by its latest. */
const STORE_ROWS = 500;
/** A digest line longer than this is cut: one long title must not push a whole section out. */
const LINE_MAX = 300;

export const digestOptions = z.strictObject({
  /** owner/name; default: the repositories the config file's routes name exactly (no globs). */
  repos: z.array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, "owner/name")).default([]),
  /** Linear team keys; default every team. */
  teams: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,6}$/, "a Linear team key such as ENG")).default([]),
  /** Labels that mark an issue as blocked (compared without regard to case). */
  blocked_labels: z.array(z.string().min(1)).default(["blocked"]),
  /** An open pull request with pending review requests counts as waiting once it is this old. */
  awaiting_review_hours: z.number().positive().default(24),
  /** Lines per section; the rest is counted ("…and 4 more"). */
  max_items_per_section: z.number().int().positive().max(100).default(15),
  /** Post "nothing to report" instead of staying silent when the period was quiet. */
  post_when_empty: z.boolean().default(false),
});

export type DigestOptions = z.infer<typeof digestOptions>;

export interface DigestSection {
  /** `✅ Completed in Linear`. */
  title: string;
  /** Markdown lines, one per item, already formatted. */
  lines: string[];
  /** A standing state (in progress, blocked, waiting) rather than activity in the period: alone, not worth a digest. */
  standing?: boolean;
}

// ---- Pure: formatting and splitting ----

/** Markdown link text cannot hold brackets, and a line must stay one line. */
function linkText(text: string): string {
  return oneLine(text).replace(/[[\]]/g, (bracket) => (bracket === "[" ? "(" : ")"));
}

function link(text: string, url: string): string {
  return `[${linkText(text)}](<${url}>)`;
}

const unix = (ms: number) => Math.floor(ms / 1000);

export function issueLine(issue: LinearIssue): string {
  const who = issue.assignee ? ` · ${oneLine(issue.assignee.displayName || issue.assignee.name)}` : "";
  return `${link(issue.identifier, issue.url)} ${linkText(issue.title)}${who}`;
}

/**
 * The digest as messages: a header, then each non-empty section as a bold title and bulleted lines. Sections
 * are kept whole in one message when they fit; a section longer than a message continues in the next one,
 * its title repeated with "(continued)". Every message fits Discord's content limit.
 */
export function renderDigest(
  header: string,
  sections: readonly DigestSection[],
  maxPerSection: number,
): DiscordMessage[] {
  const limit = LIMITS.content;
  const blocks = sections
    .filter((section) => section.lines.length > 0)
    .map((section) => {
      const shown = section.lines.slice(0, maxPerSection).map((line) => `• ${truncate(line, LINE_MAX)}`);
      const more = section.lines.length - shown.length;
      if (more > 0) shown.push(`…and ${more} more`);
      return { title: `**${section.title}** (${section.lines.length})`, lines: shown };
    });
  const messages: string[] = [];
  let current = truncate(header, limit);
  const flush = () => {
    if (current.trim()) messages.push(current);
    current = "";
  };
  const append = (text: string) => {
    current = current ? `${current}\n${text}` : text;
  };
  for (const block of blocks) {
    const whole = [block.title, ...block.lines].join("\n");
    const separator = current ? "\n\n" : "";
    if (current.length + separator.length + whole.length <= limit) {
      current = `${current}${separator}${whole}`;
      continue;
    }
    if (whole.length <= limit) {
      flush();
      current = whole;
      continue;
    }
    // Longer than a message: go on line by line, repeating the title where a message breaks.
    if (current.length + separator.length + block.title.length > limit) flush();
    current = current ? `${current}\n\n${block.title}` : block.title;
    for (const line of block.lines) {
      if (current.length + 1 + line.length > limit) {
        flush();
        append(`${block.title} (continued)`);
      }
      append(line);
    }
  }
  flush();
  return messages.map((content) => ({ content, allowed_mentions: NO_MENTIONS }));
}

// ---- I/O: gathering what happened ----

interface Gathered {
  sections: DigestSection[];
  /** Sources left out, and why. */
  skipped: string[];
}

function matchesTeam(issue: LinearIssue, teams: ReadonlySet<string>): boolean {
  return teams.size === 0 || teams.has(issue.team.key.toUpperCase());
}

async function linearSections(
  linear: LinearApi | undefined,
  context: JobContext<DigestOptions>,
): Promise<Gathered> {
  const { since, options, services } = context;
  const sections: DigestSection[] = [];
  const skipped: string[] = [];
  const teams = new Set(options.teams.map((team) => team.toUpperCase()));

  if (linear) {
    const completed: LinearIssue[] = [];
    let cursor = new Date(since).toISOString();
    for (let page = 0; page < LINEAR_PAGES; page++) {
      const updated = await linear.listIssuesUpdatedSince(cursor, LINEAR_PAGE);
      completed.push(...updated.filter((issue) => issue.state.type === "completed"));
      if (updated.length < LINEAR_PAGE) break;
      cursor = updated.at(-1)!.updatedAt;
    }
    const open = await linear.listIssuesInStateTypes(["triage", "backlog", "unstarted", "started"], 250);
    const blockedLabels = new Set(options.blocked_labels.map((label) => label.toLowerCase()));
    const isBlocked = (issue: LinearIssue) =>
      issue.labels.some((label) => blockedLabels.has(label.toLowerCase()));
    sections.push(
      {
        title: "✅ Completed",
        lines: completed.filter((issue) => matchesTeam(issue, teams)).map(issueLine),
      },
      {
        title: "🚧 In progress",
        standing: true,
        lines: open
          .filter((issue) => issue.state.type === "started" && !isBlocked(issue) && matchesTeam(issue, teams))
          .map(issueLine),
      },
      {
        title: "⛔ Blocked",
        standing: true,
        lines: open.filter((issue) => isBlocked(issue) && matchesTeam(issue, teams)).map(issueLine),
      },
    );
  } else {
    skipped.push("Linear (set LINEAR_API_KEY)");
  }

  // Feedback filed from chat is in our own store: listed even without Linear credentials now.
  const feedback = await services.store.db
    .selectFrom("feedback_captures")
    .select(["issue_identifier", "issue_url", "channel_id", "created_at"])
    .where("status", "=", "created")
    .where("created_at", ">=", since)
    .orderBy("created_at", "asc")
    .execute();
  sections.push({
    title: "💬 New feedback from chat",
    lines: feedback.flatMap((row) =>
      row.issue_identifier && row.issue_url
        ? [`${link(row.issue_identifier, row.issue_url)} filed from <#${row.channel_id}>`]
        : [],
    ),
  });
  return { sections, skipped };
}

async function githubSections(
  github: GitHubApi | undefined,
  context: JobContext<DigestOptions>,
  repos: string[],
): Promise<Gathered> {
  const { since, now, options } = context;
  if (!github) return { sections: [], skipped: ["GitHub (set GITHUB_TOKEN)"] };
  if (repos.length === 0) {
    return {
      sections: [],
      skipped: ["GitHub (no repositories: set options.repos or routes with exact repo names)"],
    };
  }
  const merged: string[] = [];
  const waiting: string[] = [];
  const failed: string[] = [];
  const waitingSince = now - options.awaiting_review_hours * HOUR_MS;
  for (const repo of repos) {
    const closed = await github.listPullRequests(repo, { state: "closed", limit: 100 });
    for (const pull of closed) {
      if (!pull.mergedAt || Date.parse(pull.mergedAt) < since) continue;
      merged.push(
        `${link(`${pull.repo}#${pull.number}`, pull.url)} ${linkText(pull.title)} · ${oneLine(pull.author)}`,
      );
    }
    const open = await github.listPullRequests(repo, { state: "open", limit: 100 });
    for (const pull of open) {
      if (pull.draft || pull.requestedReviewers.length === 0 || Date.parse(pull.createdAt) > waitingSince)
        continue;
      const reviewers = pull.requestedReviewers.map((login) => `\`${login}\``).join(", ");
      waiting.push(
        `${link(`${pull.repo}#${pull.number}`, pull.url)} ${linkText(pull.title)} · opened <t:${unix(Date.parse(pull.createdAt))}:R>, waiting on ${reviewers}`,
      );
    }
    {
      const repository = await github.getRepository(repo);
      if (repository) {
        const runs = await github.listWorkflowRuns(repo, {
          branch: repository.defaultBranch,
          status: "failure",
          since: new Date(since).toISOString(),
        });
        for (const run of runs) {
          failed.push(
            `${link(`${run.repo} ${run.name}`, run.url)} on \`${run.headBranch}\` · ${run.conclusion ?? "failed"} <t:${unix(Date.parse(run.createdAt))}:R>`,
          );
        }
      }
    }
  }
  return {
    sections: [
      { title: "🔀 Pull requests merged", lines: merged },
      {
        title: `👀 Waiting for review over ${options.awaiting_review_hours} h`,
        lines: waiting,
        standing: true,
      },
      { title: "❌ Failed workflow runs on default branches", lines: failed },
    ],
    skipped: [],
  };
}

async function deploySections(context: JobContext<DigestOptions>, repos: string[]): Promise<DigestSection[]> {
  const { since, services } = context;
  const db = services.store.db;
  const inRepos = (repo: string) => repos.length === 0 || repos.includes(repo.toLowerCase());
  const deployments = (await listDeployments(db, { limit: STORE_ROWS }))
    .filter((row) => Math.max(row.created_at, row.finished_at ?? 0) >= since && inRepos(row.repo))
    .filter((row) => row.state !== "awaiting_approval" && row.state !== "rejected")
    .reverse();
  const releases = (await listReleases(db, { limit: STORE_ROWS }))
    .filter((row) => row.created_at >= since && inRepos(row.repo))
    .reverse();
  return [
    {
      title: "🚀 Deployments",
      lines: deployments.map((row) => {
        const what = row.version ?? row.sha.slice(0, 7);
        const who = row.requested_by_name ? ` by ${oneLine(row.requested_by_name)}` : "";
        return `\`${what}\` → **${oneLine(row.environment)}** (${row.repo}) · ${row.state.replace(/_/g, " ")}${who}`;
      }),
    },
    {
      title: "🏷️ Releases",
      lines: releases.map((row) =>
        row.url ? `${link(`${row.repo} ${row.tag}`, row.url)}` : `${row.repo} \`${row.tag}\``,
      ),
    },
  ];
}

export const digest = defineJob({
  name: "digest",
  description: "Post a digest of Linear, GitHub and deployment activity since the last one",
  defaultSchedule: "0 9 * * 1-5",
  enabledByDefault: false,
  catchUpByDefault: true,
  needsChannel: true,
  defaultLookBackMs: 24 * HOUR_MS,
  options: digestOptions,
  async run(context) {
    const { dryRun, now, since, options, services, channel, logger } = context;
    const repos = reposToWatch(options.repos, services).map((repo) => repo.toLowerCase());
    const linear = await linearSections(services.linear, context);
    const github = await githubSections(services.github, context, repos);
    const sections = [...linear.sections, ...github.sections, ...(await deploySections(context, repos))];
    const skipped = [...linear.skipped, ...github.skipped];
    const items = sections.reduce((sum, section) => sum + section.lines.length, 0);
    const left = skipped.length ? ` Left out: ${skipped.join("; ")}.` : "";

    const happened = sections.some((section) => !section.standing && section.lines.length > 0);
    if (!happened && !options.post_when_empty) {
      return {
        items: 0,
        summary: `Nothing to report since ${new Date(since).toISOString()}; posted nothing.${left}`,
      };
    }
    const header =
      items === 0
        ? `**📰 Digest** since <t:${unix(since)}:f>: nothing to report.`
        : `**📰 Digest** since <t:${unix(since)}:f>`;
    const messages = renderDigest(header, sections, options.max_items_per_section);
    const counts = sections
      .filter((section) => section.lines.length > 0)
      .map((section) => `${section.lines.length} ${section.title.replace(/^\S+\s/, "").toLowerCase()}`)
      .join(", ");
    const what = `${messages.length} message${messages.length === 1 ? "" : "s"} (${counts || "nothing to report"})`;
    if (dryRun) return { items, summary: `Would post a digest in ${what}.${left}` };

    await enqueueMessages(
      services.store.db,
      messages.map((message) => planPost({ channel: channel!, route: "job:digest", message, now })),
    );
    logger.debug({ messages: messages.length, items }, "Digest queued");
    return { items, summary: `Posted a digest in ${what}.${left}` };
  },
});
