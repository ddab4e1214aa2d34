/**
 * Feedback capture: a Discord message becomes one Linear issue (its text, author, attachment links and a
 * jump link back), in the team its channel maps to under `discord.feedback`, and the bot answers in a
 * thread on the message with the issue's link. Both ways in use it: the "Create Linear issue" context-menu
 * command and a reaction with the configured emoji (📌 by default).
 *
 * Exactly one issue per message, however many reactions arrive and from however many processes:
 * - the message id is claimed in the store (feedback_captures) before Linear is asked, so of concurrent
 *   attempts one creates and the others stand back; a later attempt finds the issue and creates nothing;
 * - the issue's id is derived from the message id, so an attempt that retries after a crash or an unanswered
 *   request first looks for that id and adopts the issue if the earlier attempt did create it.
 */
import { createHash } from "node:crypto";
import type { REST } from "@discordjs/rest";
import { DiscordAPIError } from "@discordjs/rest";
import type { APIMessage, GatewayMessageReactionAddDispatchData } from "discord-api-types/v10";
import { Routes } from "discord-api-types/v10";
import type { Kysely } from "kysely";
import type { ConfigFile } from "../config/config-file.js";
import { RateLimitedError, UserError } from "../errors.js";
import { oneLine, truncate } from "../events/text.js";
import type { Logger } from "../observability/logger.js";
import { DISCORD_CODES } from "../pipeline/sinks/delivery-errors.js";
import type { LinearApi, LinearIssue } from "../sources/linear/linear-api.js";
import { recordAudit } from "../store/audit-repository.js";
import {
  claimFeedbackCapture,
  completeFeedbackCapture,
  findFeedbackCapture,
  releaseFeedbackClaim,
} from "../store/feedback-repository.js";
import type { DatabaseSchema } from "../store/schema.js";
import { checkAccess } from "./access.js";
import { auditDetailOf } from "./interaction-audit.js";
import type { AuditOutcome } from "./interaction-audit.js";
import type { DiscordMessage } from "./render/message.js";
import { NO_MENTIONS, escapeMarkdown } from "./render/message.js";

/**
 * A claim still 'creating' after this long was left by a crash: the next attempt may take it over. Longer
 * than any attempt takes (a few Linear and Discord requests, each bounded by its client's timeout).
 */
export const FEEDBACK_CLAIM_TIMEOUT_MS = 2 * 60_000;
const TITLE_LENGTH = 80;
/** Linear takes long descriptions; a Discord message is at most 4,000 characters with Nitro anyway. */
const QUOTED_TEXT_LENGTH = 8_000;
const THREAD_NAME_LENGTH = 100;
/** A day without messages before Discord archives the reply thread. */
const THREAD_ARCHIVE_MINUTES = 1440;

export const LINEAR_NOT_CONNECTED =
  "Linear is not connected to this Switchboard: the operator needs to set LINEAR_API_KEY.";

/** The Discord REST calls feedback capture makes; `createRestFeedbackDiscord` is the real one. */
export interface FeedbackDiscord {
  fetchMessage(channelId: string, messageId: string): Promise<APIMessage>;
  /** Start a thread on the message (or use the one it already has) and post the message in it. */
  replyInThread(
    channelId: string,
    messageId: string,
    threadName: string,
    message: DiscordMessage,
  ): Promise<void>;
}

export interface FeedbackDeps {
  db: Kysely<DatabaseSchema>;
  config: ConfigFile;
  /** Absent without LINEAR_API_KEY. */
  linear: LinearApi | undefined;
  /** Absent without DISCORD_TOKEN: the issue is still created, without the thread reply. */
  discord: FeedbackDiscord | undefined;
  logger: Logger;
  clock: () => number;
}

export interface FeedbackUser {
  id: string;
  username: string;
}

export interface FiledIssue {
  identifier: string;
  url: string;
}

export type FeedbackOutcome =
  | { kind: "created"; issue: FiledIssue }
  /** The message was filed before; nothing new was created. */
  | { kind: "existing"; issue: FiledIssue }
  /** Another attempt is creating the issue right now; it will post the link. */
  | { kind: "in-progress" };

/** The Linear team key for captures in this channel, from `discord.feedback`. */
export function feedbackTeamKey(config: ConfigFile, channelId: string | undefined): string | undefined {
  const feedback = config.discord.feedback;
  return (channelId ? feedback.channels[channelId] : undefined) ?? feedback.team;
}

/** `https://discord.com/channels/<guild>/<channel>/<message>`: opens the message in any Discord client. */
export function messageJumpLink(guildId: string, channelId: string, messageId: string): string {
  return `https://discord.com/channels/${guildId}/${channelId}/${messageId}`;
}

/**
 * The issue id for a message: a UUID v4 in form (Linear checks the form), derived from the message id so
 * every attempt at the same message asks for the same issue.
 */
export function feedbackIssueId(messageId: string): string {
  const bytes = createHash("sha256").update(`switchboard:feedback:${messageId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Discord's markup as a reader of the Linear issue should see it: `<@id>` becomes `@name` (names from the
 * message's mentions), roles and channels become `@role` and `#channel`, custom emoji `:name:`, and
 * timestamps ISO dates.
 */
export function readableDiscordText(text: string, mentions: APIMessage["mentions"] = []): string {
  const names = new Map(mentions.map((user) => [user.id, user.global_name ?? user.username]));
  return text
    .replace(/<@!?(\d+)>/g, (_, id: string) => `@${names.get(id) ?? "user"}`)
    .replace(/<@&\d+>/g, "@role")
    .replace(/<#\d+>/g, "#channel")
    .replace(/<a?:(\w+):\d+>/g, ":$1:")
    .replace(/<t:(-?\d+)(?::[tTdDfFR])?>/g, (_, seconds: string) =>
      new Date(Number(seconds) * 1000).toISOString(),
    );
}

/** Pure: the Linear issue a message becomes. */
export function describeFeedbackIssue(
  message: APIMessage,
  guildId: string,
  capturedBy: FeedbackUser,
): { title: string; description: string } {
  const author = message.author.global_name ?? message.author.username;
  const embedText = (message.embeds ?? [])
    .map((embed) => [embed.title, embed.description].filter(Boolean).join("\n"))
    .filter(Boolean)
    .join("\n\n");
  const text = readableDiscordText(message.content || embedText, message.mentions).trim();
  const headline = text
    .split(/\r?\n/)
    .map((line) => oneLine(line))
    .find(Boolean);
  const title = headline ? truncate(headline, TITLE_LENGTH) : `Feedback from ${author} on Discord`;

  const parts: string[] = [];
  if (text) {
    parts.push(
      truncate(text, QUOTED_TEXT_LENGTH)
        .split(/\r?\n/)
        .map((line) => `> ${line}`)
        .join("\n"),
    );
  }
  const attachments = message.attachments ?? [];
  if (attachments.length > 0) {
    // Discord signs attachment links and they expire after about a day; the jump link keeps working.
    parts.push(
      [
        "**Attachments**",
        ...attachments.map((file) => `- [${escapeMarkdown(file.filename)}](${file.url})`),
      ].join("\n"),
    );
  }
  const link = messageJumpLink(guildId, message.channel_id, message.id);
  const by =
    capturedBy.id === message.author.id ? "" : ` · filed by **${escapeMarkdown(capturedBy.username)}**`;
  parts.push(
    `Posted by **${escapeMarkdown(author)}** (\`${message.author.username}\`) on Discord, ${message.timestamp}${by} · [Jump to message](${link})`,
  );
  return { title, description: parts.join("\n\n") };
}

/** The thread reply: the new issue's link, naming who filed it (rendered, never pinged). */
export function renderFeedbackReply(issue: LinearIssue, capturedBy: FeedbackUser): DiscordMessage {
  return {
    content: truncate(
      `📌 Filed in Linear as **[${issue.identifier}](${issue.url})** ${escapeMarkdown(oneLine(issue.title))} (by <@${capturedBy.id}>)`,
      2000,
    ),
    allowed_mentions: NO_MENTIONS,
  };
}

/**
 * File one message as a Linear issue, once. Throws UserError when this channel has no team or the team
 * does not exist, and the Linear client's typed errors (AuthError, RateLimitedError) as they come.
 */
export async function captureFeedback(
  input: { message: APIMessage; guildId: string; capturedBy: FeedbackUser },
  deps: FeedbackDeps,
): Promise<FeedbackOutcome> {
  const { message, guildId, capturedBy } = input;
  const { db, linear } = deps;
  const logger = deps.logger.child({ message: message.id, channel: message.channel_id });

  const earlier = await findFeedbackCapture(db, message.id);
  if (earlier?.status === "created") return { kind: "existing", issue: filedIssue(earlier) };
  if (!linear) {
    throw new UserError(LINEAR_NOT_CONNECTED);
  }
  const teamKey = feedbackTeamKey(deps.config, message.channel_id);
  if (!teamKey) {
    throw new UserError(
      "No Linear team takes feedback from this channel: an administrator can map it under " +
        "discord.feedback.channels (or set discord.feedback.team) in the config file.",
    );
  }
  const team = await linear.findTeam(teamKey);
  if (!team) {
    throw new UserError(
      `discord.feedback sends this channel's feedback to Linear team ${teamKey}, which does not exist: ` +
        "an administrator needs to fix the team key in the config file.",
    );
  }

  const claim = await claimFeedbackCapture(
    db,
    {
      messageId: message.id,
      channelId: message.channel_id,
      guildId,
      createdBy: capturedBy.id,
      now: deps.clock(),
    },
    FEEDBACK_CLAIM_TIMEOUT_MS,
  );
  if (claim.outcome === "created") return { kind: "existing", issue: filedIssue(claim.capture) };
  if (claim.outcome === "in-progress") return { kind: "in-progress" };

  const issueId = feedbackIssueId(message.id);
  let issue: LinearIssue;
  try {
    const found = claim.retry ? await linear.getIssue(issueId) : undefined;
    if (found) logger.info({ issue: found.identifier }, "Adopted the issue an earlier attempt created");
    issue =
      found ??
      (await linear.createIssue({
        id: issueId,
        teamId: team.id,
        ...describeFeedbackIssue(message, guildId, capturedBy),
      }));
    await completeFeedbackCapture(db, message.id, issue);
  } catch (error) {
    await releaseFeedbackClaim(db, message.id).catch((releaseError: unknown) =>
      logger.error({ err: releaseError }, "Could not release the feedback claim"),
    );
    throw error;
  }
  logger.info({ issue: issue.identifier, by: capturedBy.id }, "Filed a message as a Linear issue");

  if (deps.discord) {
    // The issue exists whatever happens here; the context menu answers with the link either way.
    await deps.discord
      .replyInThread(
        message.channel_id,
        message.id,
        truncate(oneLine(`${issue.identifier} ${issue.title}`), THREAD_NAME_LENGTH),
        renderFeedbackReply(issue, capturedBy),
      )
      .catch((error: unknown) =>
        logger.warn({ err: error }, "Could not reply in a thread with the issue link"),
      );
  }
  return { kind: "created", issue: { identifier: issue.identifier, url: issue.url } };
}

export type FeedbackReactionResult = "ignored" | "denied" | "failed" | FeedbackOutcome["kind"];

/**
 * MESSAGE_REACTION_ADD: file the message when the emoji is the configured one and the member who reacted
 * has `create-issues` (judged by the roles in the event's member). Never throws: a failure is logged, the
 * claim released, and reacting again tries again.
 */
export async function handleFeedbackReaction(
  event: GatewayMessageReactionAddDispatchData,
  deps: FeedbackDeps,
): Promise<FeedbackReactionResult> {
  const { config, db } = deps;
  if (!matchesReaction(event.emoji, config.discord.feedback.reaction)) return "ignored";
  // Reactions in DMs have no member and no server to file for; bots do not file feedback.
  if (!event.guild_id || !event.member?.user || event.member.user.bot) return "ignored";
  const user = { id: event.user_id, username: event.member.user.username, roles: event.member.roles };
  const logger = deps.logger.child({ reaction: event.message_id, channel: event.channel_id, user: user.id });
  const audit = (outcome: AuditOutcome, detail: string | null) =>
    recordAudit(db, {
      at: deps.clock(),
      user_id: user.id,
      user_name: user.username,
      action: "feedback reaction",
      options: JSON.stringify({ message: event.message_id, emoji: event.emoji.name }),
      capability: "create-issues",
      outcome,
      detail,
      guild_id: event.guild_id ?? null,
      channel_id: event.channel_id,
    }).catch((error: unknown) => logger.error({ err: error }, "Could not write the audit log"));

  const decision = checkAccess(user, "create-issues", config.discord.roles);
  if (!decision.allowed) {
    logger.info("Feedback reaction from a member without create-issues: ignored");
    await audit("denied", decision.reason);
    return "denied";
  }
  const earlier = await findFeedbackCapture(db, event.message_id);
  if (earlier?.status === "created") return "existing";
  if (!deps.discord) {
    logger.warn("A feedback reaction needs DISCORD_TOKEN to read the message: ignored");
    return "ignored";
  }

  try {
    const message = await deps.discord.fetchMessage(event.channel_id, event.message_id);
    const outcome = await captureFeedback(
      { message, guildId: event.guild_id, capturedBy: user },
      { ...deps, logger },
    );
    if (outcome.kind === "created") await audit("ok", outcome.issue.identifier);
    return outcome.kind;
  } catch (error) {
    if (error instanceof UserError || error instanceof RateLimitedError) {
      logger.warn({ err: error }, "Could not file a message from a feedback reaction");
      await audit("refused", error.message);
    } else {
      // AuthError names the variable to fix; anything else is a bug to look into.
      logger.error({ err: error }, "Filing a message from a feedback reaction failed");
      await audit("error", auditDetailOf(error, `reaction ${event.message_id}`));
    }
    return "failed";
  }
}

/**
 * Whether the reaction is the configured one. A Unicode emoji is compared as typed (ignoring the emoji
 * variation selector, which clients add or drop); a custom emoji may be configured as `<:name:id>`,
 * `name:id`, its id, or its name.
 */
export function matchesReaction(
  emoji: { id: string | null; name: string | null },
  configured: string,
): boolean {
  const want = configured.trim().replace(/\uFE0F/g, "");
  if (emoji.id) {
    const custom = /^<?a?:?(\w+)?:?(\d+)?>?$/.exec(want);
    if (want === emoji.id || custom?.[2] === emoji.id) return true;
    return !custom?.[2] && custom?.[1] === emoji.name;
  }
  return emoji.name !== null && emoji.name.replace(/\uFE0F/g, "") === want;
}

/** Discord REST through the bot's @discordjs/rest client. */
export function createRestFeedbackDiscord(rest: REST): FeedbackDiscord {
  return {
    async fetchMessage(channelId, messageId) {
      return (await rest.get(Routes.channelMessage(channelId, messageId))) as APIMessage;
    },
    async replyInThread(channelId, messageId, threadName, message) {
      let threadId: string;
      try {
        const thread = (await rest.post(Routes.threads(channelId, messageId), {
          body: { name: threadName, auto_archive_duration: THREAD_ARCHIVE_MINUTES },
        })) as { id: string };
        threadId = thread.id;
      } catch (error) {
        if (!(error instanceof DiscordAPIError)) throw error;
        // A thread started from a message has the message's id, so an existing one needs no lookup.
        if (error.code === DISCORD_CODES.threadAlreadyCreated) threadId = messageId;
        // The message is itself in a thread (or a channel without threads): answer in place instead.
        else if (error.code === DISCORD_CODES.wrongChannelType) {
          await rest.post(Routes.channelMessages(channelId), {
            body: { ...message, message_reference: { message_id: messageId, fail_if_not_exists: false } },
          });
          return;
        } else throw error;
      }
      await rest.post(Routes.channelMessages(threadId), { body: message });
    },
  };
}

function filedIssue(capture: { issue_identifier: string | null; issue_url: string | null }): FiledIssue {
  return { identifier: capture.issue_identifier ?? "the issue", url: capture.issue_url ?? "" };
}
