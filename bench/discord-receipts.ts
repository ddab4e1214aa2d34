/**
 * When the fake Discord received each benchmark message. The fake keeps created messages in an array and
 * records no times, so the array's `push` is wrapped: a message is stamped the moment the fake creates it,
 * after it has read and validated the request.
 */
import type { FakeDiscord, FakeMessage } from "../tests/fakes/discord-server.js";

export interface DiscordReceipts {
  /** Marker number -> `performance.now()` when the message carrying it was created. */
  receivedAt: Map<number, number>;
  /** Every message created so far, marked or not. */
  count(): number;
}

export function recordDiscordReceipts(discord: FakeDiscord, marker: RegExp): DiscordReceipts {
  const receivedAt = new Map<number, number>();
  const messages = discord.messages;
  const push = messages.push.bind(messages);
  messages.push = (...items: FakeMessage[]) => {
    const now = performance.now();
    for (const message of items) {
      const match = marker.exec(`${message.content} ${JSON.stringify(message.embeds)}`);
      if (match && !receivedAt.has(Number(match[1]))) receivedAt.set(Number(match[1]), now);
    }
    return push(...items);
  };
  return { receivedAt, count: () => messages.length };
}
