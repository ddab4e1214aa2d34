/**
 * Delivery through Discord's REST API with a bot token: the full mode, able to edit messages and open threads.
 *
 * What @discordjs/rest 2.6 does, read from its source (SequentialHandler, handleErrors, makeNetworkRequest)
 * and checked against tests/fakes/discord-server.ts:
 * - 429: it sleeps for the bucket's X-RateLimit-Reset-After (per route and major parameter) or Retry-After,
 *   and for a global 429 (X-RateLimit-Global) it pauses every route; then it sends again. These re-sends do
 *   not count against `retries` and are not bounded by `timeout`, which is per HTTP attempt. A
 *   `rejectOnRateLimit` filter below turns a wait longer than `maxRateLimitWaitMs` into a RateLimitError
 *   instead, so a worker is not held for minutes: the outbox then waits retryAfterMs itself.
 * - 5xx, and timeouts (a DOMException AbortError after `timeout` ms) or ECONNRESET: re-sent at once, without
 *   backoff, up to `retries` times, then HTTPError / the network error. We set `retries: 0` because the
 *   outbox retries with backoff, jitter and a bounded number of attempts, and a re-send without a pause only
 *   adds load while Discord struggles. A socket closed without a reset (undici UND_ERR_SOCKET) is never
 *   re-sent by the client. Re-sending a create is safe either way: the nonce makes it return the same message.
 * - 4xx other than 429: DiscordAPIError with status, code and rawError. A 401 also makes the client forget
 *   its token, so every later request fails locally (see classifyDeliveryError).
 * - RESTEvents.Response fires once per HTTP answer, 429s and 5xx included, before any of the above.
 */
import { oneLine, truncate } from "../../events/text.js";
import { REST, RESTEvents } from "@discordjs/rest";
import type { DiscordMessage } from "../../discord/render/message.js";
import { classifyDeliveryError, DISCORD_CODES, PermanentDeliveryError } from "./delivery-errors.js";
import { toEditBody, toPostedMessage, type Sink } from "./sink.js";

export interface DiscordBotSinkOptions {
  token: string;
  /** REST base without version, DISCORD_API_URL (`https://discord.com/api`); the client adds `/v10/...`. */
  apiUrl: string;
  /** Per HTTP attempt. Rate-limit waits come on top, up to `maxRateLimitWaitMs`. */
  timeoutMs: number;
  /** Called with every HTTP answer's status and route template (`/channels/:id/messages`), for metrics. */
  onResponse?: (status: number, route: string) => void;
  /** The client-side global limit: Discord's default for a bot is 50 per second (DISCORD_GLOBAL_REQUESTS_PER_SECOND). */
  globalRequestsPerSecond?: number;
  /** Longest 429 wait done inside a call; longer ones come back as RetryableDeliveryError with retryAfterMs. */
  maxRateLimitWaitMs?: number;
}

/** Discord's limit on thread names (https://discord.com/developers/docs/resources/channel#start-thread-from-message). */
const THREAD_NAME_MAX = 100;
/** A day of inactivity before Discord archives a per-item thread; a new event reopens it by posting. */
const AUTO_ARCHIVE_MINUTES = 1440;
const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 30_000;

export function createDiscordBotSink(options: DiscordBotSinkOptions): Sink {
  const maxWait = options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  // The token lives only inside the REST client (a private field) and in the Authorization header it builds;
  // we never subscribe to RESTEvents.Debug, and no error we raise quotes a header.
  const rest = new REST({
    api: options.apiUrl,
    version: "10",
    timeout: options.timeoutMs,
    retries: 0,
    globalRequestsPerSecond: options.globalRequestsPerSecond ?? 50,
    rejectOnRateLimit: (rateLimit) => rateLimit.retryAfter > maxWait,
  }).setToken(options.token);

  const { onResponse } = options;
  if (onResponse) {
    // bucketRoute only templates 17-19 digit snowflakes; template every id so metric labels stay few.
    rest.on(RESTEvents.Response, (request, response) => {
      onResponse(response.status, request.route.replace(/\/\d+(?=\/|$)/g, "/:id"));
    });
  }

  const target = (channelId: string) => ({ via: "bot" as const, channelId, timeoutMs: options.timeoutMs });

  return {
    name: "discord-bot",
    supportsThreads: true,

    async createMessage(channelId, message: DiscordMessage, nonce) {
      try {
        // enforce_nonce: Discord returns the message it already created with this nonce in this channel
        // (within a few minutes) instead of posting again, which makes a retry after a lost answer safe.
        const answer = await rest.post(`/channels/${id(channelId)}/messages`, {
          body: { ...message, nonce, enforce_nonce: true },
        });
        return toPostedMessage(answer);
      } catch (error) {
        throw classifyDeliveryError(error, target(channelId));
      }
    },

    async editMessage(channelId, messageId, message) {
      try {
        await rest.patch(`/channels/${id(channelId)}/messages/${id(messageId)}`, {
          body: toEditBody(message),
        });
      } catch (error) {
        throw classifyDeliveryError(error, target(channelId));
      }
    },

    async startThread(channelId, messageId, name) {
      try {
        const answer = await rest.post(`/channels/${id(channelId)}/messages/${id(messageId)}/threads`, {
          body: {
            name: truncate(oneLine(name), THREAD_NAME_MAX),
            auto_archive_duration: AUTO_ARCHIVE_MINUTES,
          },
        });
        return { id: threadId(answer, messageId) };
      } catch (error) {
        const failure = classifyDeliveryError(error, target(channelId));
        // A thread started from a message has the message's id, so the existing one is known without a lookup.
        if (
          failure instanceof PermanentDeliveryError &&
          failure.code === DISCORD_CODES.threadAlreadyCreated
        ) {
          return { id: messageId };
        }
        throw failure;
      }
    },
  };
}

/** Ids come from config and the store; encoding keeps a malformed one from changing the route. */
function id(value: string): string {
  return encodeURIComponent(value);
}

function threadId(answer: unknown, messageId: string): string {
  const value = typeof answer === "object" && answer !== null ? (answer as { id?: unknown }).id : undefined;
  return typeof value === "string" ? value : messageId;
}
