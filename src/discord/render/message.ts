/**
 * The Discord message shape Switchboard posts, and the one place that enforces Discord's limits.
 *
 * Renderers describe an event as an EventSummary; `toMessage` turns it into a full embed or a compact
 * line. Every message goes through `fitMessage`, which truncates instead of failing, and carries
 * `allowed_mentions` that parse nothing, so user text (titles, bodies, branch names) can never ping.
 */
import type { Actor } from "../../events/domain-event.js";
import { oneLine, truncate } from "../../events/text.js";

/** Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits). */
export const LIMITS = {
  content: 2000,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  embedsTotal: 6000,
  embedsPerMessage: 10,
} as const;

export const COLORS = {
  /** Opened, created, informational. */
  info: 0x3b82f6,
  success: 0x22c55e,
  failure: 0xef4444,
  /** Drafts, changes requested, warnings. */
  warning: 0xf59e0b,
  merged: 0x8b5cf6,
  /** Closed without merging, cancelled, removed. */
  neutral: 0x6b7280,
} as const;

export interface EmbedField {
  name: string;
  value: string;
  inline?: boolean;
}

export interface Embed {
  title?: string;
  url?: string;
  description?: string;
  color?: number;
  timestamp?: string;
  author?: { name: string; url?: string; icon_url?: string };
  footer?: { text: string };
  fields?: EmbedField[];
}

export interface AllowedMentions {
  parse: Array<"users" | "roles" | "everyone">;
  users?: string[];
  roles?: string[];
}

/** Body of POST /channels/{id}/messages (the subset Switchboard uses). */
export interface DiscordMessage {
  content?: string;
  embeds?: Embed[];
  allowed_mentions: AllowedMentions;
}

/** What a source renderer says about one event. Pure data; `toMessage` decides the layout. */
export interface EventSummary {
  /** `[acme/api] Pull request opened: #12 Fix the flux capacitor` */
  title: string;
  url?: string;
  description?: string;
  color: number;
  fields?: EmbedField[];
  actor: Actor;
  /** ISO 8601. */
  timestamp: string;
  /** `GitHub · acme/api`, `Linear · ENG`. */
  footer: string;
  /** A single line for compact style and the console sink: `acme/api #12 opened by octocat: Fix it`. */
  line: string;
}

export type MessageStyle = "full" | "compact";

/** No automatic mentions at all: user text can contain `@everyone` or `<@id>` and nothing happens. */
export const NO_MENTIONS: AllowedMentions = Object.freeze({ parse: [] }) as AllowedMentions;

/**
 * Backslash-escapes what Discord Markdown acts on mid-line (emphasis, code, spoilers, quotes, masked links,
 * and `<...>` mentions), so a title reads as typed.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\*_~`|<>[\]()]/g, (character) => `\\${character}`);
}

/** User text as inline code, which it cannot break out of once backticks are replaced; cut to `max`. */
export function inlineCode(text: string, max = 100): string {
  return `\`${truncate(text.replace(/`/g, "'").trim(), max) || " "}\``;
}

export function toMessage(summary: EventSummary, style: MessageStyle): DiscordMessage {
  if (style === "compact") {
    // The link is kept whole: a long line gives way, not the URL.
    const link = summary.url ? ` <${summary.url}>` : "";
    const line = truncate(oneLine(summary.line), Math.max(1, LIMITS.content - link.length));
    return fitMessage({ content: `${line}${link}`, allowed_mentions: NO_MENTIONS });
  }
  const embed: Embed = {
    title: summary.title,
    color: summary.color,
    timestamp: summary.timestamp,
    author: {
      name: summary.actor.name,
      ...(summary.actor.url ? { url: summary.actor.url } : {}),
      ...(summary.actor.avatarUrl ? { icon_url: summary.actor.avatarUrl } : {}),
    },
    footer: { text: summary.footer },
  };
  if (summary.url) embed.url = summary.url;
  if (summary.description) embed.description = summary.description;
  if (summary.fields?.length) embed.fields = summary.fields;
  return fitMessage({ embeds: [embed], allowed_mentions: NO_MENTIONS });
}

/**
 * Make a message fit Discord's limits by truncating, field by field, then dropping trailing fields and
 * shortening descriptions until the 6,000-character total holds. Never throws.
 */
export function fitMessage(message: DiscordMessage): DiscordMessage {
  const fitted: DiscordMessage = { allowed_mentions: message.allowed_mentions };
  if (message.content !== undefined) fitted.content = truncate(message.content, LIMITS.content);
  if (message.embeds) {
    fitted.embeds = message.embeds.slice(0, LIMITS.embedsPerMessage).map(fitEmbed);
    shrinkToTotal(fitted.embeds);
  }
  return fitted;
}

function fitEmbed(embed: Embed): Embed {
  const out: Embed = { ...embed };
  if (out.title !== undefined) out.title = truncate(oneLine(out.title), LIMITS.embedTitle);
  if (out.description !== undefined) out.description = truncate(out.description, LIMITS.embedDescription);
  if (out.author) out.author = { ...out.author, name: truncate(out.author.name, LIMITS.authorName) };
  if (out.footer) out.footer = { text: truncate(out.footer.text, LIMITS.footerText) };
  if (out.fields) {
    out.fields = out.fields.slice(0, LIMITS.embedFields).map((field) => ({
      ...field,
      name: truncate(field.name, LIMITS.fieldName) || "\u200b",
      value: truncate(field.value, LIMITS.fieldValue) || "\u200b",
    }));
  }
  return out;
}

/** Characters Discord counts towards the 6,000 total: title, description, field names and values, footer, author. */
export function embedLength(embed: Embed): number {
  let total = (embed.title?.length ?? 0) + (embed.description?.length ?? 0);
  total += (embed.footer?.text.length ?? 0) + (embed.author?.name.length ?? 0);
  for (const field of embed.fields ?? []) total += field.name.length + field.value.length;
  return total;
}

function shrinkToTotal(embeds: Embed[]): void {
  const total = () => embeds.reduce((sum, embed) => sum + embedLength(embed), 0);
  for (let i = embeds.length - 1; i >= 0 && total() > LIMITS.embedsTotal; i--) {
    const embed = embeds[i]!;
    while (embed.fields?.length && total() > LIMITS.embedsTotal) embed.fields.pop();
    const excess = total() - LIMITS.embedsTotal;
    if (excess > 0 && embed.description) {
      embed.description = truncate(embed.description, Math.max(1, embed.description.length - excess));
    }
  }
}
