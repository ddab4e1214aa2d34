/**
 * `stale-prs`: reminds a channel of open pull requests nobody has touched for a few business days, and
 * mentions their requested reviewers who linked their GitHub login with /link (only they may be pinged).
 *
 * "Activity" is GitHub's `updated_at`, which moves on pushes, comments, reviews and label changes. Drafts,
 * PRs labelled wip / do-not-merge and PRs opened by bots are left alone. Each PR is reminded at most once
 * per period (by default the same number of business days), recorded in `pr_reminders`.
 */
import { z } from "zod";
import type { DiscordMessage } from "../discord/render/message.js";
import { NO_MENTIONS, fitMessage } from "../discord/render/message.js";
import { oneLine, truncate } from "../events/text.js";
import { planPost, withMentions } from "../pipeline/plan-messages.js";
import type { GitHubPullRequestSummary } from "../sources/github/github-api.js";
import { findLinkedDiscordUsers } from "../store/identity-repository.js";
import { enqueueMessages } from "../store/outbox-repository.js";
import { defineJob } from "./job.js";
import type { JobServices } from "./job.js";

const DAY_MS = 24 * 60 * 60 * 1000;

export const stalePrsOptions = z.strictObject({
  /** owner/name; default: the repositories the config file's routes name exactly (no globs). */
  repos: z.array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, "owner/name")).default([]),
  business_days: z.number().int().positive().default(2),
  exclude_labels: z.array(z.string()).default(["wip", "do-not-merge"]),
  /** Business days before the same PR is reminded again; default `business_days`. */
  remind_every_business_days: z.number().int().positive().optional(),
});

/** `from` plus `days` weekdays (Saturday and Sunday skipped), weekdays read in `timeZone`. */
export function addBusinessDays(from: number, days: number, timeZone: string | undefined): number {
  const weekday = new Intl.DateTimeFormat("en-US", { weekday: "short", ...(timeZone ? { timeZone } : {}) });
  let at = from;
  let added = 0;
  while (added < days) {
    at += DAY_MS;
    const day = weekday.format(at);
    if (day !== "Sat" && day !== "Sun") added++;
  }
  return at;
}

/** Whether a PR is one to remind about, by its own data (the reminder record is checked apart). */
export function isStale(
  pull: GitHubPullRequestSummary,
  rules: { now: number; businessDays: number; excludeLabels: string[]; timeZone: string | undefined },
): boolean {
  const excluded = new Set(rules.excludeLabels.map((label) => label.toLowerCase()));
  if (pull.state !== "open" || pull.draft) return false;
  if (pull.authorType === "Bot" || pull.author.endsWith("[bot]")) return false;
  if (pull.labels.some((label) => excluded.has(label.toLowerCase()))) return false;
  return addBusinessDays(Date.parse(pull.updatedAt), rules.businessDays, rules.timeZone) <= rules.now;
}

export function reposToWatch(configured: string[], services: JobServices): string[] {
  if (configured.length > 0) return configured;
  const fromRoutes = services.config.routes
    .filter((route) => route.source === "github")
    .flatMap((route) => route.match.repos ?? [])
    .filter((repo) => !repo.includes("*"));
  return [...new Set(fromRoutes.map((repo) => repo.toLowerCase()))];
}

export function renderReminder(pull: GitHubPullRequestSummary, businessDays: number): DiscordMessage {
  const reviewers = pull.requestedReviewers.length
    ? ` Waiting on ${pull.requestedReviewers.map((login) => `\`${login}\``).join(", ")}.`
    : " No reviewer is requested yet.";
  const title = truncate(oneLine(pull.title), 200);
  return fitMessage({
    content: `⏰ **${pull.repo}#${pull.number}** [${title}](<${pull.url}>) by \`${pull.author}\` has had no activity for ${businessDays} business day${businessDays === 1 ? "" : "s"}.${reviewers}`,
    allowed_mentions: NO_MENTIONS,
  });
}

export const stalePrs = defineJob({
  name: "stale-prs",
  description: "Remind a channel of open pull requests without activity for N business days",
  defaultSchedule: "0 10 * * 1-5",
  enabledByDefault: false,
  catchUpByDefault: false,
  needsChannel: true,
  defaultLookBackMs: DAY_MS,
  options: stalePrsOptions,
  async run({ dryRun, now, options, services, channel, timezone, logger }) {
    const github = services.github;
    if (!github) throw new Error("The GitHub API is not configured: set GITHUB_TOKEN.");
    const repos = reposToWatch(options.repos, services);
    if (repos.length === 0) {
      return {
        items: 0,
        summary: "No repositories to watch: set options.repos or a route with exact repo names.",
      };
    }
    const db = services.store.db;
    const period = options.remind_every_business_days ?? options.business_days;
    const due: GitHubPullRequestSummary[] = [];
    let remindedThisPeriod = 0;
    for (const repo of repos) {
      const pulls = await github.listPullRequests(repo, { state: "open" });
      for (const pull of pulls) {
        const stale = isStale(pull, {
          now,
          businessDays: options.business_days,
          excludeLabels: options.exclude_labels,
          timeZone: timezone,
        });
        if (!stale) continue;
        const key = `${pull.repo.toLowerCase()}#${pull.number}`;
        const last = await db
          .selectFrom("pr_reminders")
          .select("reminded_at")
          .where("pr_key", "=", key)
          .executeTakeFirst();
        if (last && addBusinessDays(last.reminded_at, period, timezone) > now) {
          remindedThisPeriod++;
          continue;
        }
        due.push(pull);
      }
    }
    if (dryRun || due.length === 0) {
      const list = due.map((pull) => `${pull.repo}#${pull.number}`).join(", ");
      return {
        items: due.length,
        summary:
          due.length === 0
            ? `No stale pull requests to remind about in ${repos.join(", ")}${
                remindedThisPeriod ? ` (${remindedThisPeriod} already reminded this period)` : ""
              }.`
            : `Would remind about ${due.length} pull request${due.length === 1 ? "" : "s"}: ${list}.`,
      };
    }
    for (const pull of due) {
      const logins = pull.requestedReviewers.filter((login) => !login.startsWith("@"));
      const mentions = await findLinkedDiscordUsers(db, {
        githubLogins: logins,
        linearUserIds: [],
        linearEmails: [],
      });
      const message = withMentions(renderReminder(pull, options.business_days), mentions);
      // The message and its reminder record together: a crash cannot leave a reminder posted but unrecorded.
      await db.transaction().execute(async (trx) => {
        await enqueueMessages(trx, [planPost({ channel: channel!, route: "job:stale-prs", message, now })]);
        const key = `${pull.repo.toLowerCase()}#${pull.number}`;
        await trx
          .insertInto("pr_reminders")
          .values({ pr_key: key, channel_id: channel!, reminded_at: now })
          .onConflict((conflict) =>
            conflict.column("pr_key").doUpdateSet({ channel_id: channel!, reminded_at: now }),
          )
          .execute();
      });
      logger.debug(
        { pull: `${pull.repo}#${pull.number}`, mentions: mentions.length },
        "Stale PR reminder queued",
      );
    }
    return {
      items: due.length,
      summary: `Reminded about ${due.length} pull request${due.length === 1 ? "" : "s"}: ${due
        .map((pull) => `${pull.repo}#${pull.number}`)
        .join(", ")}.`,
    };
  },
});
