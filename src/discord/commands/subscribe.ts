/**
 * `/subscribe github|linear`: a rule, stored in the database, that posts matching events to a channel beside
 * the config file's routes. Repositories and teams are checked against the API when it is configured, so a
 * typo is refused now instead of silently never firing.
 */
import { isDeepStrictEqual } from "node:util";
import type {
  APIApplicationCommandBasicOption,
  APIApplicationCommandOptionChoice,
  APIChatInputApplicationCommandInteractionData,
} from "discord-api-types/v10";
import { ApplicationCommandOptionType, ChannelType } from "discord-api-types/v10";
import type { Kysely } from "kysely";
import { AuthError, NotFoundError, RateLimitedError, UserError } from "../../errors.js";
import { truncate } from "../../events/text.js";
import type { Logger } from "../../observability/logger.js";
import { findIdentityLink } from "../../store/identity-repository.js";
import type { DatabaseSchema } from "../../store/schema.js";
import {
  createSubscription,
  listSubscriptions,
  type SubscriptionSource,
} from "../../store/subscription-repository.js";
import {
  OPTION,
  describeRule,
  excludeAuthor,
  parseSubscribeOptions,
  requireGuild,
  splitList,
} from "../subscription-options.js";
import type { SubscriptionRequest } from "../subscription-options.js";
import type { Command, CommandContext, CommandServices } from "./command.js";

const THREAD_TYPES: ReadonlySet<number> = new Set([
  ChannelType.PublicThread,
  ChannelType.PrivateThread,
  ChannelType.AnnouncementThread,
]);
const MAX_LIST_LENGTH = 500;

const sharedOptions: APIApplicationCommandBasicOption[] = [
  {
    type: ApplicationCommandOptionType.String,
    name: OPTION.labels,
    description: "Only items with one of these labels (comma-separated)",
    max_length: MAX_LIST_LENGTH,
  },
  {
    type: ApplicationCommandOptionType.String,
    name: OPTION.excludeLabels,
    description: "Skip items with any of these labels (comma-separated)",
    max_length: MAX_LIST_LENGTH,
  },
  {
    type: ApplicationCommandOptionType.String,
    name: OPTION.style,
    description: "full: an embed per event (default); compact: one line each",
    choices: [
      { name: "full", value: "full" },
      { name: "compact", value: "compact" },
    ],
  },
  {
    type: ApplicationCommandOptionType.String,
    name: OPTION.threads,
    description: "per-item: one card and thread per PR or issue (default); none: plain messages",
    choices: [
      { name: "per-item", value: "per-item" },
      { name: "none", value: "none" },
    ],
  },
  {
    type: ApplicationCommandOptionType.Channel,
    name: OPTION.channel,
    description: "Where to post (default: this channel)",
    // Forums and voice channels take no plain messages; threads do, without per-item threads.
    channel_types: [
      ChannelType.GuildText,
      ChannelType.GuildAnnouncement,
      ChannelType.PublicThread,
      ChannelType.PrivateThread,
      ChannelType.AnnouncementThread,
    ],
  },
  {
    type: ApplicationCommandOptionType.Boolean,
    name: OPTION.muteOwn,
    description: "Skip events you cause yourself (needs /link)",
  },
];

const githubOptions: APIApplicationCommandBasicOption[] = [
  {
    type: ApplicationCommandOptionType.String,
    name: OPTION.repo,
    description: "owner/name or a glob such as acme/* (comma-separated)",
    required: true,
    max_length: MAX_LIST_LENGTH,
  },
  {
    type: ApplicationCommandOptionType.String,
    name: OPTION.events,
    description: "Event globs such as pull_request.*, push, release.published (default: all)",
    max_length: MAX_LIST_LENGTH,
  },
  {
    type: ApplicationCommandOptionType.String,
    name: OPTION.branch,
    description: "Only these branches, e.g. main, release/* (comma-separated)",
    max_length: MAX_LIST_LENGTH,
  },
  {
    type: ApplicationCommandOptionType.String,
    name: OPTION.excludeAuthors,
    description: "Skip events by these logins; `bots` skips every bot (comma-separated)",
    max_length: MAX_LIST_LENGTH,
  },
  {
    type: ApplicationCommandOptionType.Boolean,
    name: OPTION.drafts,
    description: "Include draft pull requests (default: True)",
  },
  ...sharedOptions,
];

const linearOptions: APIApplicationCommandBasicOption[] = [
  {
    type: ApplicationCommandOptionType.String,
    name: OPTION.team,
    description: "Team key such as ENG (comma-separated)",
    required: true,
    autocomplete: true,
    max_length: MAX_LIST_LENGTH,
  },
  {
    type: ApplicationCommandOptionType.String,
    name: OPTION.project,
    description: "Only these project names (comma-separated)",
    max_length: MAX_LIST_LENGTH,
  },
  {
    type: ApplicationCommandOptionType.String,
    name: OPTION.events,
    description: "Event globs such as Issue.create, Issue.*, Comment.create (default: all)",
    max_length: MAX_LIST_LENGTH,
  },
  ...sharedOptions,
];

export const command: Command = {
  data: {
    name: "subscribe",
    description: "Post GitHub or Linear events to a channel",
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "github",
        description: "Post events from GitHub repositories",
        options: githubOptions,
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "linear",
        description: "Post events from Linear teams",
        options: linearOptions,
      },
    ],
  },
  access: { default: "manage-subscriptions" },
  // The confirmation is public: the channel sees what will be posted in it and who can undo it.
  ephemeral: false,

  async execute(context) {
    const { options, services, user } = context;
    const guildId = requireGuild(context.guildId);
    let request = parseSubscribeOptions(options.subcommand, options.values, context.channelId);
    refuseThreadsInThread(context, request);
    if (request.muteOwn) {
      const identity = await linkedIdentity(services.db, user.id, request.source);
      request = { ...request, rule: excludeAuthor(request.rule, identity) };
    }
    const { request: verified, notes } = await verifyNames(request, services, context.logger);

    const existing = await listSubscriptions(services.db, { guildId, channelId: verified.channel });
    const duplicate = existing.find(
      (subscription) =>
        subscription.source === verified.source && isDeepStrictEqual(subscription.rule, verified.rule),
    );
    if (duplicate) {
      throw new UserError(
        `<#${verified.channel}> already has this subscription: #${duplicate.id}. /subscriptions lists them.`,
      );
    }

    const subscription = await createSubscription(services.db, {
      guildId,
      channelId: verified.channel,
      source: verified.source,
      rule: verified.rule,
      createdBy: user.id,
      at: services.clock(),
    });
    context.logger.info(
      { subscription: subscription.id, channel: subscription.channelId, source: subscription.source },
      "Subscription created",
    );
    const lines = [
      `Subscribed <#${subscription.channelId}> to \`${describeRule(verified.source, verified.rule)}\` as subscription **#${subscription.id}**. Stop it with \`/unsubscribe id:${subscription.id}\`.`,
      ...notes.map((note) => `Note: ${note}`),
    ];
    await context.respond.reply({ content: lines.join("\n") });
  },

  /** Linear team keys, for the entry after the last comma. */
  async autocomplete({ options, services }) {
    if (options.focused?.name !== OPTION.team || !services.linear) return [];
    const typed = options.focused.value;
    const cut = typed.lastIndexOf(",");
    const before = cut === -1 ? [] : splitList(typed.slice(0, cut));
    const partial = typed
      .slice(cut + 1)
      .trim()
      .toLowerCase();
    const prefix = before.length > 0 ? `${before.join(", ")}, ` : "";
    const teams = await services.linear.listTeams();
    return teams
      .filter(
        (team) => team.key.toLowerCase().startsWith(partial) || team.name.toLowerCase().includes(partial),
      )
      .slice(0, 25)
      .map((team): APIApplicationCommandOptionChoice => ({
        name: truncate(`${team.key}: ${team.name}`, 100),
        value: `${prefix}${team.key}`.slice(0, 100),
      }));
  },
};

/** Discord cannot start a thread inside a thread, so per-item threads need a real channel. */
function refuseThreadsInThread(context: CommandContext, request: SubscriptionRequest): void {
  if (request.rule.threads !== "per-item") return;
  const data = context.interaction.data as Partial<APIChatInputApplicationCommandInteractionData> | undefined;
  const type =
    request.channel === context.channelId
      ? context.interaction.channel?.type
      : data?.resolved?.channels?.[request.channel]?.type;
  if (type !== undefined && THREAD_TYPES.has(type)) {
    throw new UserError(
      `<#${request.channel}> is a thread, and a thread cannot hold a thread per item: add \`threads:none\`, or subscribe its parent channel.`,
    );
  }
}

/** The subscriber's GitHub login or Linear name from /link; mute-own is refused without one. */
async function linkedIdentity(
  db: Kysely<DatabaseSchema>,
  discordUserId: string,
  source: SubscriptionSource,
): Promise<string> {
  const link = await findIdentityLink(db, discordUserId);
  // Events name GitHub actors by login and Linear actors by name, so those are what authors.exclude needs.
  const identity = source === "github" ? link?.github_login : link?.linear_name;
  if (!identity) {
    const what = source === "github" ? "GitHub login" : "Linear account";
    throw new UserError(
      `mute-own needs your ${what}, and your Discord account is not linked to one: run /link first, then subscribe again.`,
    );
  }
  return identity;
}

/**
 * Confirms exact repositories or team keys with the API, replacing each with its canonical spelling. Missing
 * ones are refused by name; an API that is not configured or does not answer is noted, not fatal.
 */
async function verifyNames(
  request: SubscriptionRequest,
  services: CommandServices,
  logger: Logger,
): Promise<{ request: SubscriptionRequest; notes: string[] }> {
  if (request.namesToVerify.length === 0) return { request, notes: [] };
  const names = request.namesToVerify;
  const notes: string[] = [];
  const missing: string[] = [];
  const canonical = new Map<string, string>();

  const lookUp = async (name: string, find: (name: string) => Promise<string | undefined>) => {
    try {
      const found = await find(name);
      if (found === undefined) missing.push(name);
      else canonical.set(name, found);
    } catch (error) {
      if (error instanceof NotFoundError) {
        missing.push(name);
        return;
      }
      logger.warn({ err: error, name, source: request.source }, "Could not verify a subscription target");
      // Typed failures are written for people; anything else may carry internals, so it stays in the log.
      const reason =
        error instanceof AuthError || error instanceof RateLimitedError
          ? error.message
          : "the API call failed, the operator can find why in the logs";
      notes.push(`${name} could not be verified (${reason}); subscribed anyway.`);
    }
  };

  if (request.source === "github") {
    const github = services.github;
    if (!github) {
      notes.push(
        `${names.join(", ")} could not be verified: the GitHub API is not configured (the operator can set GITHUB_TOKEN).`,
      );
      return { request, notes };
    }
    await Promise.all(
      names.map((name) => lookUp(name, async (n) => (await github.getRepository(n))?.fullName)),
    );
    if (missing.length > 0) {
      throw new UserError(
        missing
          .map((name) => `${name} does not exist or the GitHub credentials cannot see it.`)
          .concat("Check the owner/name, or give the GitHub token or app access to the repository.")
          .join("\n"),
      );
    }
  } else {
    const linear = services.linear;
    if (!linear) {
      notes.push(
        `${names.join(", ")} could not be verified: the Linear API is not configured (the operator can set LINEAR_API_KEY).`,
      );
      return { request, notes };
    }
    await Promise.all(names.map((name) => lookUp(name, async (n) => (await linear.findTeam(n))?.key)));
    if (missing.length > 0) {
      const known = await linear.listTeams().catch(() => []);
      throw new UserError(
        missing
          .map((key) => `Linear team ${key} does not exist or the Linear API key cannot see it.`)
          .concat(
            known.length > 0
              ? `Teams it can see: ${known.map((team) => team.key).join(", ")}.`
              : "Check the team key (ENG for ENG-123).",
          )
          .join("\n"),
      );
    }
  }

  const rename = (list: string[] | undefined) => list?.map((name) => canonical.get(name) ?? name);
  const match =
    request.source === "github"
      ? { ...request.rule.match, repos: rename(request.rule.match.repos) }
      : { ...request.rule.match, teams: rename(request.rule.match.teams) };
  return { request: { ...request, rule: { ...request.rule, match } }, notes };
}
