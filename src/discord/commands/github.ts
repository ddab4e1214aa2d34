/**
 * `/github pr <repo> <number>`: a pull request's card (state, checks, reviews).
 * `/github prs [repo] [author]`: open pull requests awaiting review, oldest first.
 *
 * Viewing is open to everyone. Answers are public, so a card can be shown to the channel; mistakes in the
 * input are answered ephemerally before any API call.
 *
 * `prs` needs a repository or an author: GitHub has no single request for "every repository this token
 * can see", and walking them one by one would be slow and burn the rate limit. With a repository, it lists
 * that repository; with an author, their pull requests wherever the token can see them; with both, both.
 */
import { ApplicationCommandOptionType } from "discord-api-types/v10";
import type { APIApplicationCommandOptionChoice } from "discord-api-types/v10";
import { UserError } from "../../errors.js";
import type { GitHubApi } from "../../sources/github/github-api.js";
import { GITHUB_LOGIN, GITHUB_REPO } from "../../sources/github/github-api.js";
import { explainingApiFailures } from "../api-failure.js";
import { inlineCode } from "../render/message.js";
import { renderPullRequestCard, renderPullRequestList } from "../render/pull-request-card.js";
import type { Command, CommandContext } from "./command.js";

/** How many pull requests /github prs lists; the embed says how many more matched. */
const LIST_LIMIT = 20;
const AUTOCOMPLETE_CHOICES = 25;

export const command: Command = {
  data: {
    name: "github",
    description: "Look at pull requests on GitHub",
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "pr",
        description: "Show a pull request: state, checks and reviews",
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: "repo",
            description: "Repository as owner/name, e.g. acme/api",
            required: true,
            autocomplete: true,
            max_length: 140,
          },
          {
            type: ApplicationCommandOptionType.Integer,
            name: "number",
            description: "Pull request number",
            required: true,
            min_value: 1,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "prs",
        description: "Open pull requests awaiting review, oldest first (give a repo, an author or both)",
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: "repo",
            description: "Repository as owner/name",
            autocomplete: true,
            max_length: 140,
          },
          {
            type: ApplicationCommandOptionType.String,
            name: "author",
            description: "GitHub login of the author",
            max_length: 40,
          },
        ],
      },
    ],
  },
  access: { default: null },
  ephemeral: false,

  async execute(context) {
    if (context.options.subcommand === "pr") return showPullRequest(context);
    if (context.options.subcommand === "prs") return listPullRequests(context);
    throw new UserError("Use /github pr or /github prs.");
  },

  /** Repositories named in the config file's routes (not globs), matching what has been typed. */
  async autocomplete({ options, services }): Promise<APIApplicationCommandOptionChoice[]> {
    const typed = (options.focused?.value ?? "").trim().toLowerCase();
    const repos = new Set<string>();
    for (const route of services.config.routes) {
      for (const repo of route.match.repos ?? []) if (GITHUB_REPO.test(repo)) repos.add(repo);
    }
    return [...repos]
      .filter((repo) => repo.toLowerCase().includes(typed))
      .sort()
      .slice(0, AUTOCOMPLETE_CHOICES)
      .map((repo) => ({ name: repo, value: repo }));
  },
};

async function showPullRequest(context: CommandContext): Promise<void> {
  const repo = parseRepo(context.options.values.get("repo"));
  const number = Number(context.options.values.get("number"));
  if (!Number.isInteger(number) || number < 1)
    throw new UserError("Give the pull request's number, e.g. 42.");
  const github = requireGitHub(context);
  const pr = await explainingApiFailures("GitHub", context.logger, async () => {
    const found = await github.getPullRequest(repo, number);
    if (found) return found;
    // Say which of the two is missing: a mistyped repository and a wrong number need different fixes.
    if (!(await github.getRepository(repo))) throw new UserError(repositoryNotFound(repo));
    throw new UserError(`${repo} has no pull request #${number} (an issue number will not work here).`);
  });
  await context.respond.reply(renderPullRequestCard(pr));
}

async function listPullRequests(context: CommandContext): Promise<void> {
  const rawRepo = context.options.values.get("repo");
  const rawAuthor = context.options.values.get("author");
  const repo = rawRepo === undefined ? undefined : parseRepo(rawRepo);
  const author = rawAuthor === undefined ? undefined : parseGitHubLogin(rawAuthor);
  if (!repo && !author) {
    throw new UserError(
      "Name a repository (`repo:` owner/name), an author (`author:` GitHub login) or both: listing every repository the token can see would take a request per repository.",
    );
  }
  const github = requireGitHub(context);
  const list = await explainingApiFailures("GitHub", context.logger, async () => {
    if (repo && !(await github.getRepository(repo))) throw new UserError(repositoryNotFound(repo));
    return github.listOpenPullRequests({
      ...(repo ? { repo } : {}),
      ...(author ? { author } : {}),
      limit: LIST_LIMIT,
    });
  });
  await context.respond.reply(
    renderPullRequestList(list, { ...(repo ? { repo } : {}), ...(author ? { author } : {}) }),
  );
}

function requireGitHub(context: CommandContext): GitHubApi {
  if (context.services.github) return context.services.github;
  throw new UserError(
    "The GitHub API is not configured on this Switchboard: the operator needs to set GITHUB_TOKEN.",
  );
}

function parseRepo(value: unknown): string {
  const text = String(value ?? "")
    .trim()
    .replace(/^https?:\/\/github\.com\//i, "")
    .replace(/\/+$/, "");
  if (!GITHUB_REPO.test(text)) {
    throw new UserError(
      `${inlineCode(String(value))} is not a repository: give it as owner/name, e.g. acme/api.`,
    );
  }
  return text;
}

/** A GitHub login as typed, `@octocat`, or a profile link (`https://github.com/octocat`). */
export function parseGitHubLogin(value: unknown): string {
  const text = String(value ?? "")
    .trim()
    .replace(/^https?:\/\/github\.com\//i, "")
    .replace(/^@/, "")
    .replace(/\/+$/, "");
  if (!GITHUB_LOGIN.test(text)) {
    throw new UserError(
      `${inlineCode(String(value))} is not a GitHub login: logins are 1 to 39 letters, digits or single hyphens, e.g. octocat.`,
    );
  }
  return text;
}

function repositoryNotFound(repo: string): string {
  return `Repository ${repo} was not found, or the configured GitHub token cannot see it.`;
}
