/**
 * The sink used when no Discord credentials are configured: `npm start` still shows what would be posted,
 * one readable line per message on stdout, so a first run proves the webhooks arrive and route.
 */
import { firstLine, oneLine } from "../../events/text.js";
import type { DiscordMessage } from "../../discord/render/message.js";
import { PermanentDeliveryError } from "./delivery-errors.js";
import type { Sink } from "./sink.js";

export function createConsoleSink(
  write: (line: string) => void = (line) => process.stdout.write(line + "\n"),
): Sink {
  let sequence = 0;
  return {
    name: "console",
    supportsThreads: false,

    async createMessage(channelId, message) {
      const id = `console-${++sequence}`;
      write(`[channel ${channelId}] ${describe(message)}`);
      return { id, channelId };
    },

    async editMessage(channelId, messageId, message) {
      write(`[channel ${channelId}] (edit of ${messageId}) ${describe(message)}`);
    },

    async startThread() {
      throw new PermanentDeliveryError(
        "The console sink cannot start threads: set DISCORD_TOKEN to post to Discord",
      );
    },
  };
}

/** `content`, or `embed title — first line of its description <url>`, always on one line. */
function describe(message: DiscordMessage): string {
  if (message.content) return oneLine(message.content);
  const embed = message.embeds?.[0];
  if (!embed) return "(empty message)";
  const description = embed.description ? firstLine(embed.description) : "";
  const parts = [
    oneLine(embed.title ?? ""),
    description ? `— ${oneLine(description)}` : "",
    embed.url ? `<${embed.url}>` : "",
  ];
  return parts.filter(Boolean).join(" ") || "(embed without title)";
}
