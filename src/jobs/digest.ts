/**
 * `digest`: a summary of the team's work since the last digest, posted on weekday mornings.
 *
 * - Linear: issues completed in the period, issues in progress, open issues labelled as blocked, and issues
 *   filed from chat (feedback captures) in the period.
 * - GitHub: pull requests merged in the period, open pull requests waiting for review for more than
 *   `awaiting_review_hours`, and failed workflow runs on each repository's default branch.
 * - Deployments and releases recorded in the period.
 *
 * One digest goes to the job's channel; with `channels`, one to each listed channel, holding only its own
 * repositories' and teams' lines (a team channel reads about its team's work, not every team's).
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
import type { NewOutboxRow } from "../store/outbox-repository.js";
import { listReleases } from "../store/release-repository.js";
import { defineJob } from "./job.js";
import type { JobContext } from "./job.js";
import { reposToWatch } from "./stale-prs.js";

const HOUR_MS = 60 * 60 * 1000;
/** Issues read per Linear list (Linear's `first:` maximum); a digest shows 15 per section anyway. */
const LINEAR_ROWS = 250;
/** Rows of deployments and releases read per digest; a period with more is summarised by its latest. */
const STORE_ROWS = 500;
/** A digest line longer than this is cut: one long title must not push a whole section out. */
const LINE_MAX = 300;

const repoList = z.array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, "owner/name"));
const teamList = z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,6}$/, "a Linear team key such as ENG"));

export const digestOptions = z.strictObject({
  /** owner/name; default: the repositories the config file's routes name exactly (no globs). */
  repos: repoList.default([]),
  /** Linear team keys; default every team. */
  teams: teamList.default([]),
  /**
   * One digest per channel, each with its own repositories and teams (default the job's): a team's channel
   * reads about its own work. Empty: one digest in the job's channel.
   */
  channels: z
    .array(
      z.strictObject({
        channel: z.string().regex(/^\d{17,20}$/, "a Discord channel id (17 to 20 digits)"),
        repos: repoList.optional(),
        teams: teamList.optional(),
      }),
    )
    .default([]),
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

// ---- Pure: one digest per channel ----

/** One line of a gathered section, with what it belongs to, so each channel's digest can keep its own. */
export interface DigestItem {
  line: string;
  /** owner/name, lower case. */
  repo?: string;
  /** Linear team key, upper case. */
  team?: string;
}

export interface GatheredSection {
  title: string;
  items: DigestItem[];
  standing?: boolean;
}

/** Where one digest goes and what it covers: `repos` lower case, `teams` upper case; empty teams: every team. */
export interface DigestScope {
  channel: string;
  repos: string[];
  teams: string[];
}

/** The sections one channel reads: the items of its repositories and teams. */
export function sectionsFor(sections: readonly GatheredSection[], scope: DigestScope): DigestSection[] {
  const keeps = (item: DigestItem) =>
    (item.repo === undefined || scope.repos.length === 0 || scope.repos.includes(item.repo)) &&
    (item.team === undefined || scope.teams.length === 0 || scope.teams.includes(item.team));
  return sections.map((section) => ({
    title: section.title,
    lines: section.items.filter(keeps).map((item) => item.line),
    ...(section.standing ? { standing: true } : {}),
  }));
}

/**
 * The channels that get a digest: each of `options.channels`, or else the job's channel, with the job's
 * repositories and teams unless an entry names its own.
 */
export function digestScopes(
  options: DigestOptions,
  channel: string | undefined,
  defaultRepos: readonly string[],
): DigestScope[] {
  const teams = (keys: readonly string[]) => keys.map((key) => key.toUpperCase());
  const repos = (names: readonly string[]) => names.map((name) => name.toLowerCase());
  if (options.channels.length === 0) {
    return channel ? [{ channel, repos: repos(defaultRepos), teams: teams(options.teams) }] : [];
  }
  return options.channels.map((entry) => ({
    channel: entry.channel,
    repos: repos(entry.repos ?? defaultRepos),
    teams: teams(entry.teams ?? options.teams),
  }));
}

// ---- I/O: gathering what happened ----

interface Gathered {
  sections: GatheredSection[];
  /** Sources left out, and why. */
  skipped: string[];
}

const teamOf = (issue: LinearIssue) => issue.team.key.toUpperCase();
const issueItem = (issue: LinearIssue): DigestItem => ({ line: issueLine(issue), team: teamOf(issue) });

async function linearSections(
  linear: LinearApi | undefined,
  context: JobContext<DigestOptions>,
): Promise<Gathered> {
  const { since, options, services } = context;
  const sections: GatheredSection[] = [];
  const skipped: string[] = [];

  if (linear) {
    // By completion time: an issue finished long ago and commented on today is not news.
    const completed = await linear.listIssuesCompletedSince(new Date(since).toISOString(), LINEAR_ROWS);
    // Started issues apart: in a large workspace a busy backlog would otherwise crowd them out of one list.
    const started = await linear.listIssuesInStateTypes(["started"], LINEAR_ROWS);
    const notStarted = await linear.listIssuesInStateTypes(["triage", "backlog", "unstarted"], LINEAR_ROWS);
    const open = [...started, ...notStarted];
    const blockedLabels = new Set(options.blocked_labels.map((label) => label.toLowerCase()));
    const isBlocked = (issue: LinearIssue) =>
      issue.labels.some((label) => blockedLabels.has(label.toLowerCase()));
    sections.push(
      { title: "✅ Completed", items: completed.map(issueItem) },
      {
        title: "🚧 In progress",
        standing: true,
        items: open.filter((issue) => issue.state.type === "started" && !isBlocked(issue)).map(issueItem),
      },
      { title: "⛔ Blocked", standing: true, items: open.filter(isBlocked).map(issueItem) },
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
    items: feedback.flatMap((row) =>
      row.issue_identifier && row.issue_url
        ? [
            {
              line: `${link(row.issue_identifier, row.issue_url)} filed from <#${row.channel_id}>`,
              team: row.issue_identifier.split("-")[0]!.toUpperCase(),
            },
          ]
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
  const merged: DigestItem[] = [];
  const waiting: DigestItem[] = [];
  const failed: DigestItem[] = [];
  const waitingSince = now - options.awaiting_review_hours * HOUR_MS;
  for (const repo of repos) {
    const closed = await github.listPullRequests(repo, { state: "closed", limit: 100 });
    for (const pull of closed) {
      if (!pull.mergedAt || Date.parse(pull.mergedAt) < since) continue;
      merged.push({
        line: `${link(`${pull.repo}#${pull.number}`, pull.url)} ${linkText(pull.title)} · ${oneLine(pull.author)}`,
        repo,
      });
    }
    const open = await github.listPullRequests(repo, { state: "open", limit: 100 });
    for (const pull of open) {
      if (pull.draft || pull.requestedReviewers.length === 0 || Date.parse(pull.createdAt) > waitingSince)
        continue;
      const reviewers = pull.requestedReviewers.map((login) => `\`${login}\``).join(", ");
      waiting.push({
        line: `${link(`${pull.repo}#${pull.number}`, pull.url)} ${linkText(pull.title)} · opened <t:${unix(Date.parse(pull.createdAt))}:R>, waiting on ${reviewers}`,
        repo,
      });
    }
    const repository = await github.getRepository(repo);
    if (repository) {
      const runs = await github.listWorkflowRuns(repo, {
        branch: repository.defaultBranch,
        status: "failure",
        since: new Date(since).toISOString(),
      });
      for (const run of runs) {
        failed.push({
          line: `${link(`${run.repo} ${run.name}`, run.url)} on \`${run.headBranch}\` · ${run.conclusion ?? "failed"} <t:${unix(Date.parse(run.createdAt))}:R>`,
          repo,
        });
      }
    }
  }
  return {
    sections: [
      { title: "🔀 Pull requests merged", items: merged },
      {
        title: `👀 Waiting for review over ${options.awaiting_review_hours} h`,
        items: waiting,
        standing: true,
      },
      { title: "❌ Failed workflow runs on default branches", items: failed },
    ],
    skipped: [],
  };
}

async function deploySections(context: JobContext<DigestOptions>): Promise<GatheredSection[]> {
  const { since, services } = context;
  const db = services.store.db;
  const deployments = (await listDeployments(db, { limit: STORE_ROWS }))
    .filter((row) => Math.max(row.created_at, row.finished_at ?? 0) >= since)
    .filter((row) => row.state !== "awaiting_approval" && row.state !== "rejected")
    .reverse();
  const releases = (await listReleases(db, { limit: STORE_ROWS }))
    .filter((row) => row.created_at >= since)
    .reverse();
  return [
    {
      title: "🚀 Deployments",
      items: deployments.map((row) => {
        const what = row.version ?? row.sha.slice(0, 7);
        const who = row.requested_by_name ? ` by ${oneLine(row.requested_by_name)}` : "";
        return {
          line: `\`${what}\` → **${oneLine(row.environment)}** (${row.repo}) · ${row.state.replace(/_/g, " ")}${who}`,
          repo: row.repo.toLowerCase(),
        };
      }),
    },
    {
      title: "🏷️ Releases",
      items: releases.map((row) => ({
        line: row.url ? `${link(`${row.repo} ${row.tag}`, row.url)}` : `${row.repo} \`${row.tag}\``,
        repo: row.repo.toLowerCase(),
      })),
    },
  ];
}

export const digest = defineJob({
  name: "digest",
  description: "Post a digest of Linear, GitHub and deployment activity since the last one",
  defaultSchedule: "0 9 * * 1-5",
  enabledByDefault: false,
  catchUpByDefault: true,
  needsChannel: (options) => options.channels.length === 0,
  defaultLookBackMs: 24 * HOUR_MS,
  options: digestOptions,
  async run(context) {
    const { dryRun, now, since, options, services, channel, logger } = context;
    const scopes = digestScopes(options, channel, reposToWatch(options.repos, services));
    const repos = [...new Set(scopes.flatMap((scope) => scope.repos))];
    const linear = await linearSections(services.linear, context);
    const github = await githubSections(services.github, context, repos);
    const gathered = [...linear.sections, ...github.sections, ...(await deploySections(context))];
    const skipped = [...linear.skipped, ...github.skipped];
    const left = skipped.length ? ` Left out: ${skipped.join("; ")}.` : "";

    let items = 0;
    const reports: string[] = [];
    const posts: NewOutboxRow[] = [];
    for (const scope of scopes) {
      const sections = sectionsFor(gathered, scope);
      const lines = sections.reduce((sum, section) => sum + section.lines.length, 0);
      const where = scopes.length > 1 ? `<#${scope.channel}>: ` : "";
      const happened = sections.some((section) => !section.standing && section.lines.length > 0);
      if (!happened && !options.post_when_empty) {
        reports.push(`${where}nothing to report since ${new Date(since).toISOString()}; posted nothing`);
        continue;
      }
      const header =
        lines === 0
          ? `**📰 Digest** since <t:${unix(since)}:f>: nothing to report.`
          : `**📰 Digest** since <t:${unix(since)}:f>`;
      const messages = renderDigest(header, sections, options.max_items_per_section);
      const counts = sections
        .filter((section) => section.lines.length > 0)
        .map((section) => `${section.lines.length} ${section.title.replace(/^\S+\s/, "").toLowerCase()}`)
        .join(", ");
      const what = `${messages.length} message${messages.length === 1 ? "" : "s"} (${counts || "nothing to report"})`;
      reports.push(`${where}${dryRun ? "would post" : "posted"} a digest in ${what}`);
      items += lines;
      posts.push(
        ...messages.map((message) => planPost({ channel: scope.channel, route: "job:digest", message, now })),
      );
    }
    const summary = reports.join("; ");
    const sentence = `${summary.charAt(0).toUpperCase()}${summary.slice(1)}.${left}`;
    if (dryRun || posts.length === 0) return { items, summary: sentence };
    // Every channel's messages in one write: a crash cannot post one channel's digest and lose another's.
    await enqueueMessages(services.store.db, posts);
    logger.debug({ messages: posts.length, items, channels: scopes.length }, "Digest queued");
    return { items, summary: sentence };
  },
});
