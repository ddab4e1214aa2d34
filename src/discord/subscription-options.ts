/**
 * /subscribe options -> a rule in the config file's route shape, and back: the one-line description that
 * listings, autocomplete and replies show, in the words a user types. Pure, so every message a user can get
 * for a typo is tested without Discord.
 *
 * List options are comma-separated (`acme/api, acme/web`). A value that cannot be right is refused with a
 * UserError saying what to type instead; a value that is merely unknown to us (a label, a branch) is taken.
 */
import { emitterEventNames } from "@octokit/webhooks";
import { z } from "zod";
import type { RouteMatch } from "../config/config-file.js";
import { UserError } from "../errors.js";
import { BOTS_KEYWORD } from "../pipeline/router.js";
import type { Subscription, SubscriptionRule, SubscriptionSource } from "../store/subscription-repository.js";
import type { OptionValue } from "./interaction.js";
import { inlineCode } from "./render/message.js";

export interface SubscriptionRequest {
  source: SubscriptionSource;
  channel: string;
  rule: SubscriptionRule;
  /** Mute events the subscriber causes: their linked identity joins `authors.exclude`. */
  muteOwn: boolean;
  /** Exact repository names or team keys the API should confirm; globs are taken on trust. */
  namesToVerify: string[];
}

/** Option names, shared with the command's registration data so the two cannot drift apart. */
export const OPTION = {
  repo: "repo",
  team: "team",
  project: "project",
  events: "events",
  branch: "branch",
  labels: "labels",
  excludeLabels: "exclude-labels",
  excludeAuthors: "exclude-authors",
  drafts: "drafts",
  style: "style",
  threads: "threads",
  channel: "channel",
  muteOwn: "mute-own",
} as const;

const SNOWFLAKE = /^\d{17,20}$/;
// GitHub owners are letters, digits and hyphens; repository names add `.` and `_`. `*` makes a glob.
const REPOSITORY = /^[A-Za-z0-9*][A-Za-z0-9*-]*\/[A-Za-z0-9._*-]+$/;
const GITHUB_URL = /^https?:\/\/(?:www\.)?github\.com\/([^/\s]+\/[^/\s]+?)(?:\.git)?\/?$/i;
const TEAM_KEY = /^[A-Za-z0-9_*]{1,20}$/;
const GITHUB_LOGIN = /^[A-Za-z0-9*][A-Za-z0-9*-]*(?:\[bot\])?$/;
// Git refuses these in branch names (git-check-ref-format); a space is the usual sign of a wrong option.
const BRANCH = /^[^\s~^:?[\\]+$/;
const EVENT_SHAPE = /^[A-Za-z_*]+(?:\.[A-Za-z_*]+)?$/;

/** `pull_request` -> its actions, from @octokit/webhooks' list of every event GitHub sends. */
const GITHUB_EVENTS = new Map<string, Set<string>>();
for (const name of emitterEventNames) {
  const [event, action] = name.split(".") as [string, string | undefined];
  const actions = GITHUB_EVENTS.get(event) ?? new Set<string>();
  if (action) actions.add(action);
  GITHUB_EVENTS.set(event, actions);
}

/**
 * Linear's webhook data-change models (https://linear.app/developers/webhooks) and its three actions. A typo
 * here would otherwise make a subscription that silently never fires.
 */
const LINEAR_MODELS = [
  "Issue",
  "Comment",
  "Attachment",
  "IssueLabel",
  "Reaction",
  "Project",
  "ProjectUpdate",
  "Document",
  "Initiative",
  "InitiativeUpdate",
  "Cycle",
  "Customer",
  "CustomerNeed",
  "User",
  "IssueSLA",
];
const LINEAR_ACTIONS = ["create", "update", "remove"];

type ItemCheck = (item: string) => { value: string } | { error: string };

/** A comma-separated option: trimmed, empty entries dropped, duplicates (ignoring case) removed. */
export function splitList(text: string): string[] {
  const seen = new Set<string>();
  const items: string[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "" || seen.has(item.toLowerCase())) continue;
    seen.add(item.toLowerCase());
    items.push(item);
  }
  return items;
}

function list(option: string, example: string, check: ItemCheck) {
  return z.string({ error: `${option} is missing: type ${example}.` }).transform((text, ctx) => {
    const values: string[] = [];
    for (const item of splitList(text)) {
      const result = check(item);
      if ("error" in result) {
        ctx.addIssue({ code: "custom", message: result.error });
        return z.NEVER;
      }
      if (!values.some((value) => value.toLowerCase() === result.value.toLowerCase()))
        values.push(result.value);
    }
    if (values.length === 0) {
      ctx.addIssue({ code: "custom", message: `${option} is empty: type ${example}.` });
      return z.NEVER;
    }
    return values;
  });
}

const checkRepository: ItemCheck = (item) => {
  const value = item.match(GITHUB_URL)?.[1] ?? item;
  if (REPOSITORY.test(value)) return { value };
  return {
    error: `${inlineCode(item)} is not a repository: type owner/name (acme/api) or a glob such as acme/*, several separated by commas.`,
  };
};

const checkTeam: ItemCheck = (item) =>
  TEAM_KEY.test(item)
    ? { value: item.toUpperCase() }
    : {
        error: `${inlineCode(item)} is not a Linear team key: type the key that starts the team's issue ids (ENG for ENG-123), several separated by commas.`,
      };

const checkText =
  (what: string): ItemCheck =>
  (item) =>
    item.length <= 100
      ? { value: item }
      : { error: `A ${what} is at most 100 characters: shorten ${inlineCode(`${item.slice(0, 40)}…`)}.` };

const checkBranch: ItemCheck = (item) =>
  BRANCH.test(item)
    ? { value: item }
    : {
        error: `${inlineCode(item)} is not a branch name: type a branch such as main or a glob such as release/*, several separated by commas.`,
      };

const checkAuthor: ItemCheck = (item) =>
  item.toLowerCase() === BOTS_KEYWORD
    ? { value: BOTS_KEYWORD }
    : GITHUB_LOGIN.test(item)
      ? { value: item }
      : {
          error: `${inlineCode(item)} is not a GitHub login: type logins such as octocat or dependabot[bot], or \`${BOTS_KEYWORD}\` for every bot.`,
        };

const checkGitHubEvent: ItemCheck = (item) => {
  const glob = item.toLowerCase();
  const example = "such as pull_request.*, issues.opened, push or release.published";
  if (!EVENT_SHAPE.test(glob))
    return { error: `${inlineCode(item)} is not an event: type an event ${example}.` };
  const [event, action] = glob.split(".") as [string, string | undefined];
  if (event.includes("*")) return { value: glob };
  const actions = GITHUB_EVENTS.get(event);
  if (!actions) return { error: `${inlineCode(item)} is not a GitHub event: type an event ${example}.` };
  if (action === undefined || action.includes("*") || actions.has(action)) return { value: glob };
  if (actions.size === 0)
    return { error: `GitHub's \`${event}\` event has no actions: type just \`${event}\`.` };
  return {
    error: `${inlineCode(item)} is not a ${event} action: type \`${event}.*\` or one of ${[...actions].sort().join(", ")}.`,
  };
};

const checkLinearEvent: ItemCheck = (item) => {
  const example = "Model.action, such as Issue.create, Issue.* or Comment.create";
  if (!EVENT_SHAPE.test(item)) return { error: `${inlineCode(item)} is not an event: type ${example}.` };
  const [model, action] = item.split(".") as [string, string | undefined];
  const knownModel = LINEAR_MODELS.find((name) => name.toLowerCase() === model.toLowerCase());
  if (!model.includes("*") && !knownModel) {
    return {
      error: `${inlineCode(item)} is not a Linear event: type ${example} (models: ${LINEAR_MODELS.join(", ")}).`,
    };
  }
  if (action !== undefined && !action.includes("*") && !LINEAR_ACTIONS.includes(action.toLowerCase())) {
    return {
      error: `${inlineCode(item)} is not a Linear action: type ${model}.create, ${model}.update, ${model}.remove or ${model}.*.`,
    };
  }
  const canonical = knownModel ?? model;
  return { value: action === undefined ? canonical : `${canonical}.${action.toLowerCase()}` };
};

const CHANNEL_EXPECTED = "channel must be a Discord channel: pick one from the list Discord offers.";
const channel = z.string({ error: CHANNEL_EXPECTED }).regex(SNOWFLAKE, CHANNEL_EXPECTED);
const flag = (option: string) => z.boolean({ error: `${option} is True or False.` });

const shared = {
  [OPTION.labels]: list(OPTION.labels, "label names such as bug, security", checkText("label")).optional(),
  [OPTION.excludeLabels]: list(
    OPTION.excludeLabels,
    "label names such as wontfix, duplicate",
    checkText("label"),
  ).optional(),
  [OPTION.style]: z.enum(["full", "compact"], { error: "style is full or compact." }).default("full"),
  [OPTION.threads]: z
    .enum(["per-item", "none"], { error: "threads is per-item or none." })
    .default("per-item"),
  [OPTION.channel]: channel.optional(),
  [OPTION.muteOwn]: flag(OPTION.muteOwn).default(false),
};

const githubOptionsSchema = z.object({
  ...shared,
  [OPTION.repo]: list(OPTION.repo, "owner/name such as acme/api, or a glob such as acme/*", checkRepository),
  [OPTION.events]: list(OPTION.events, "events such as pull_request.*, push", checkGitHubEvent).optional(),
  [OPTION.branch]: list(OPTION.branch, "a branch such as main", checkBranch).optional(),
  [OPTION.excludeAuthors]: list(
    OPTION.excludeAuthors,
    `logins such as dependabot[bot], or ${BOTS_KEYWORD}`,
    checkAuthor,
  ).optional(),
  [OPTION.drafts]: flag(OPTION.drafts).optional(),
});

const linearOptionsSchema = z.object({
  ...shared,
  [OPTION.team]: list(OPTION.team, "a team key such as ENG", checkTeam),
  [OPTION.project]: list(OPTION.project, "a project name", checkText("project name")).optional(),
  [OPTION.events]: list(OPTION.events, "events such as Issue.create, Comment.*", checkLinearEvent).optional(),
});

/**
 * Reads `/subscribe github|linear` options. `currentChannel` is where the command ran: the default target.
 */
export function parseSubscribeOptions(
  subcommand: string | undefined,
  values: ReadonlyMap<string, OptionValue>,
  currentChannel: string | undefined,
): SubscriptionRequest {
  const input = Object.fromEntries(values);
  if (subcommand === "github") {
    const options = parseOrRefuse(githubOptionsSchema, input);
    const match: RouteMatch = {
      repos: options.repo,
      ...(options.events ? { events: options.events } : {}),
      ...(options.branch ? { branches: options.branch } : {}),
      ...labelFilter(options.labels, options["exclude-labels"]),
      ...(options["exclude-authors"]
        ? { authors: { include: [], exclude: options["exclude-authors"] } }
        : {}),
      ...(options.drafts === false ? { drafts: false } : {}),
    };
    return {
      source: "github",
      channel: targetChannel(options.channel, currentChannel),
      rule: { match, style: options.style, threads: options.threads },
      muteOwn: options["mute-own"],
      namesToVerify: options.repo.filter((name) => !name.includes("*")),
    };
  }
  if (subcommand === "linear") {
    const options = parseOrRefuse(linearOptionsSchema, input);
    const match: RouteMatch = {
      teams: options.team,
      ...(options.project ? { projects: options.project } : {}),
      ...(options.events ? { events: options.events } : {}),
      ...labelFilter(options.labels, options["exclude-labels"]),
    };
    return {
      source: "linear",
      channel: targetChannel(options.channel, currentChannel),
      rule: { match, style: options.style, threads: options.threads },
      muteOwn: options["mute-own"],
      namesToVerify: options.team.filter((key) => !key.includes("*")),
    };
  }
  throw new UserError("Choose what to subscribe to: `/subscribe github` or `/subscribe linear`.");
}

/** The rule with `author` added to its excluded authors (mute-own). */
export function excludeAuthor(rule: SubscriptionRule, author: string): SubscriptionRule {
  const authors = rule.match.authors ?? { include: [], exclude: [] };
  if (authors.exclude.some((name) => name.toLowerCase() === author.toLowerCase())) return rule;
  return {
    ...rule,
    match: { ...rule.match, authors: { ...authors, exclude: [...authors.exclude, author] } },
  };
}

/** Subscriptions belong to a guild's channels; the guild id, or a refusal in a direct message. */
export function requireGuild(guildId: string | undefined): string {
  if (!guildId) {
    throw new UserError(
      "Subscriptions belong to a server's channels: run this in a server, not a direct message.",
    );
  }
  return guildId;
}

/** `12`, `#12` or a number -> 12. */
export function parseSubscriptionId(value: OptionValue | undefined): number {
  const text = String(value ?? "").trim();
  const digits = /^#?(\d{1,12})$/.exec(text)?.[1];
  if (digits === undefined) {
    throw new UserError(
      `${inlineCode(text)} is not a subscription number: pick one from the list, or type the number /subscriptions shows (such as 12). Routes from the config file are changed in the file.`,
    );
  }
  return Number(digits);
}

/**
 * `github acme/api pull_request.* branch:main -labels:wontfix compact`: the rule in the words a user types.
 * Plain text without backticks, so callers may show it as is (autocomplete) or in a code span (messages).
 */
export function describeRule(source: SubscriptionSource, rule: SubscriptionRule): string {
  const { match } = rule;
  const parts: string[] = [source];
  const scope = source === "github" ? match.repos : match.teams;
  parts.push(scope?.length ? scope.join(",") : source === "github" ? "every repo" : "every team");
  if (match.projects?.length) parts.push(`project:${match.projects.join(",")}`);
  parts.push(match.events?.length ? match.events.join(",") : "all events");
  if (match.branches?.length) parts.push(`branch:${match.branches.join(",")}`);
  if (match.labels?.any.length) parts.push(`labels:${match.labels.any.join(",")}`);
  if (match.labels?.all.length) parts.push(`all-labels:${match.labels.all.join(",")}`);
  if (match.labels?.none.length) parts.push(`-labels:${match.labels.none.join(",")}`);
  if (match.authors?.include.length) parts.push(`authors:${match.authors.include.join(",")}`);
  if (match.authors?.exclude.length) parts.push(`-authors:${match.authors.exclude.join(",")}`);
  if (match.drafts === false) parts.push("no drafts");
  if (rule.style === "compact") parts.push("compact");
  if (rule.threads === "none") parts.push("no threads");
  return quote(parts.join(" "));
}

/** describeRule for a stored subscription, whose rule may no longer be readable. */
export function describeSubscription(
  subscription: Pick<Subscription, "source" | "rule" | "ruleProblem">,
): string {
  if (subscription.rule) return describeRule(subscription.source, subscription.rule);
  return quote(`${subscription.source} (unreadable rule: ${subscription.ruleProblem ?? "unknown problem"})`);
}

function labelFilter(any: string[] | undefined, none: string[] | undefined): Pick<RouteMatch, "labels"> {
  return any || none ? { labels: { any: any ?? [], all: [], none: none ?? [] } } : {};
}

function targetChannel(option: string | undefined, current: string | undefined): string {
  const target = option ?? current;
  if (!target) throw new UserError("Pick the channel to post in with the `channel` option.");
  return target;
}

/** Every schema above carries its own message, written for the user; the first problem is reported. */
function parseOrRefuse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new UserError(
    parsed.error.issues[0]?.message ?? "These options cannot be read: check them and try again.",
  );
}

/** User text shown inside a code span: a backtick would end the span early. */
function quote(text: string): string {
  return text.replaceAll("`", "'");
}
