/**
 * `linear-github-sync`: links pull requests to the Linear issues they name, and moves an issue on when its
 * pull request is merged.
 *
 * A pull request names an issue by its key (`ENG-123`) in its title, its description or its branch. Branches
 * are usually lower case (`ada/eng-123-fix-login`, Linear's own "copy git branch name"), so they are read
 * upper-cased and only the workspace's team keys count there, which keeps `utf-8` or `step-2` from matching.
 * Each run looks at the open pull requests and at those merged since the last run (the first run: the past
 * week), in the repositories of `repos` (default: the exact repositories the routes name, as stale-prs).
 *
 * Everything it does is idempotent: an attached URL is not attached again, and an issue already in the target
 * state, or in any completed or canceled state (`Released`, `Won't do`), is left alone, so the job never moves
 * work backwards. Keys that name no issue are skipped and reported.
 */
import { z } from "zod";
import { pullRequestLinearKeys } from "../deploy/conventional-commits.js";
import { NotFoundError } from "../errors.js";
import type { GitHubPullRequestSummary } from "../sources/github/github-api.js";
import type { LinearApi } from "../sources/linear/linear-api.js";
import { briefList, defineJob } from "./job.js";
import { reposToWatch } from "./stale-prs.js";

const DAY_MS = 24 * 60 * 60 * 1000;

export const linearGitHubSyncOptions = z.strictObject({
  /** owner/name; default: the repositories the config file's routes name exactly (no globs). */
  repos: z.array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, "owner/name")).default([]),
  /** Attach each pull request to the issues it names. */
  attach: z.boolean().default(true),
  /** The workflow state (by name) a merged pull request's issues move to; null leaves states alone. */
  merged_state: z.string().min(1).nullable().default("Done"),
  /** Pull requests read per repository and state, most recently updated first. */
  max_pull_requests: z.number().int().positive().max(1000).default(100),
});

export type LinearGitHubSyncOptions = z.infer<typeof linearGitHubSyncOptions>;

/** One change the run makes (or, in a dry run, would make). */
type Action =
  | { kind: "attach"; key: string; pull: GitHubPullRequestSummary }
  | { kind: "move"; key: string; pull: GitHubPullRequestSummary; from: string };

export const linearGitHubSync = defineJob({
  name: "linear-github-sync",
  description: "Attach pull requests to the Linear issues they name; move issues on when merged",
  defaultSchedule: "*/10 * * * *",
  enabledByDefault: false,
  catchUpByDefault: false,
  needsChannel: false,
  defaultLookBackMs: 7 * DAY_MS,
  options: linearGitHubSyncOptions,
  async run({ dryRun, since, options, services, logger }) {
    const github = services.github;
    const linear = services.linear;
    if (!github) throw new Error("The GitHub API is not configured: set GITHUB_TOKEN.");
    if (!linear) throw new Error("The Linear API is not configured: set LINEAR_API_KEY.");
    const repos = reposToWatch(options.repos, services);
    if (repos.length === 0) {
      return {
        items: 0,
        summary: "No repositories to watch: set options.repos or a route with exact repo names.",
      };
    }
    const teamKeys = (await linear.listTeams()).map((team) => team.key);

    const pulls: GitHubPullRequestSummary[] = [];
    for (const repo of repos) {
      const limit = options.max_pull_requests;
      pulls.push(...(await github.listPullRequests(repo, { state: "open", limit })));
      const closed = await github.listPullRequests(repo, { state: "closed", limit });
      pulls.push(...closed.filter((pull) => pull.mergedAt && Date.parse(pull.mergedAt) >= since));
    }

    const actions: Action[] = [];
    const unknownKeys = new Set<string>();
    const issueCache = new Map<string, { state: string; closed: boolean; urls: string[] } | undefined>();
    for (const pull of pulls) {
      for (const key of pullRequestLinearKeys(pull, teamKeys)) {
        if (!issueCache.has(key)) {
          const issue = await linear.getIssue(key);
          const urls = issue && options.attach ? await attachmentsOf(linear, key) : [];
          const closed = issue ? ["completed", "canceled"].includes(issue.state.type) : false;
          issueCache.set(key, issue && urls ? { state: issue.state.name, closed, urls } : undefined);
        }
        const issue = issueCache.get(key);
        if (!issue) {
          unknownKeys.add(key);
          continue;
        }
        if (options.attach && !issue.urls.includes(pull.url)) {
          actions.push({ kind: "attach", key, pull });
          issue.urls.push(pull.url);
        }
        const target = options.merged_state;
        const moves = pull.state === "merged" && target && !issue.closed;
        if (moves && issue.state.toLowerCase() !== target.toLowerCase()) {
          actions.push({ kind: "move", key, pull, from: issue.state });
          issue.state = target;
        }
      }
    }

    const done: string[] = [];
    const refused: string[] = [];
    for (const action of actions) {
      const reference = `${action.pull.repo}#${action.pull.number}`;
      const line =
        action.kind === "attach"
          ? `${reference} → ${action.key}`
          : `${action.key} ${action.from} → ${options.merged_state}`;
      if (dryRun) {
        done.push(line);
        continue;
      }
      if (action.kind === "attach") {
        await linear.attachUrl(action.key, action.pull.url, `${reference} ${action.pull.title}`);
      } else if (!(await linear.moveIssueToState(action.key, options.merged_state!))) {
        refused.push(action.key);
        logger.warn(
          { issue: action.key, state: options.merged_state },
          "The issue's team has no workflow state of this name: set options.merged_state to one it has",
        );
        continue;
      }
      logger.debug({ action: action.kind, issue: action.key, pull: reference }, "Synced");
      done.push(line);
    }

    const attaches = actions.filter((action) => action.kind === "attach").length;
    const moves = actions.length - attaches - refused.length;
    const notes = [
      unknownKeys.size ? `${unknownKeys.size} key(s) name no issue: ${briefList([...unknownKeys])}` : "",
      refused.length ? `no "${options.merged_state}" state for ${briefList(refused)}` : "",
    ].filter(Boolean);
    const head =
      done.length === 0
        ? `Nothing to sync in ${pulls.length} pull request${pulls.length === 1 ? "" : "s"}`
        : `${dryRun ? "Would attach" : "Attached"} ${attaches} pull request link${attaches === 1 ? "" : "s"}, ` +
          `${dryRun ? "would move" : "moved"} ${moves} issue${moves === 1 ? "" : "s"}: ${briefList(done, "; ")}`;
    return { items: done.length, summary: `${[head, ...notes].join("; ")}.` };
  },
});

/** The issue's attached URLs; undefined when it vanished between the two calls. */
async function attachmentsOf(linear: LinearApi, key: string): Promise<string[] | undefined> {
  try {
    return await linear.listAttachmentUrls(key);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}
