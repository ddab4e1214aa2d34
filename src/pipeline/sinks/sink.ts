/**
 * The seam the outbox worker posts through. One implementation per delivery mode: the bot (REST with a bot
 * token, can thread and edit), a channel webhook (notification-only mode), and the console (no credentials).
 */
import { z } from "zod";
import type { DiscordMessage } from "../../discord/render/message.js";

export interface PostedMessage {
  id: string;
  channelId: string;
}

export interface Sink {
  /** Human name for logs and /readyz: "discord-bot", "discord-webhook", "console". */
  readonly name: string;
  /** Whether the sink can open threads and edit messages (console and webhook sinks cannot thread). */
  readonly supportsThreads: boolean;
  /** Create a message. `nonce` (<= 25 chars) makes a retry after an unconfirmed post return the same message instead of a duplicate. */
  createMessage(channelId: string, message: DiscordMessage, nonce: string): Promise<PostedMessage>;
  editMessage(channelId: string, messageId: string, message: DiscordMessage): Promise<void>;
  /** Start a public thread on a message; idempotent: if Discord says the message already has a thread (error code 160004), return that thread (its id equals the message id). */
  startThread(channelId: string, messageId: string, name: string): Promise<{ id: string }>;
}

/** The part of Discord's message object a sink needs back: bot and webhook posts answer with the same shape. */
const createdMessageSchema = z.object({ id: z.string().min(1), channel_id: z.string().min(1) });

export function toPostedMessage(answer: unknown): PostedMessage {
  const parsed = createdMessageSchema.safeParse(answer);
  if (!parsed.success)
    throw new Error("Discord confirmed the post but its answer has no message id and channel_id");
  return { id: parsed.data.id, channelId: parsed.data.channel_id };
}

/**
 * PATCH only replaces the fields it is given, so an edit that switches a card from a compact line to an embed
 * (or back) must clear the other field explicitly: `null` content and `[]` embeds remove them.
 */
export function toEditBody(message: DiscordMessage): Record<string, unknown> {
  return {
    content: message.content ?? null,
    embeds: message.embeds ?? [],
    allowed_mentions: message.allowed_mentions,
  };
}
