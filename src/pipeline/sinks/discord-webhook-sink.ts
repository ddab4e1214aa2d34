/**
 * Notification-only mode: post through a channel webhook (DISCORD_WEBHOOK_URL), no bot in the server.
 *
 * A webhook posts to the channel it was created in, so the channel id the router chose is ignored. It can
 * edit its own messages but cannot start threads. Webhook executes take no `nonce` (Discord documents none
 * for Execute Webhook), so a retry after a post whose answer was lost can duplicate the message: that is the
 * price of running without a bot, and the reason the bot sink is preferred when a token is configured.
 *
 * The webhook URL's path is its credential, so no error or metric label here ever contains it.
 */
import type { DiscordMessage } from "../../discord/render/message.js";
import {
  classifyDeliveryError,
  errorForDiscordAnswer,
  PermanentDeliveryError,
  type DeliveryTarget,
} from "./delivery-errors.js";
import { toEditBody, toPostedMessage, type Sink } from "./sink.js";

export interface DiscordWebhookSinkOptions {
  /** `https://discord.com/api/webhooks/<id>/<token>`, optionally with `?thread_id=` to post into a thread. */
  webhookUrl: string;
  timeoutMs: number;
  /** Called with every HTTP answer's status and route template (never the URL, which holds the token). */
  onResponse?: (status: number, route: string) => void;
}

const EXECUTE_ROUTE = "/webhooks/:id/:token";
const EDIT_ROUTE = "/webhooks/:id/:token/messages/:id";

export function createDiscordWebhookSink(options: DiscordWebhookSinkOptions): Sink {
  const base = parseWebhookUrl(options.webhookUrl);
  const target: DeliveryTarget = { via: "webhook", timeoutMs: options.timeoutMs };

  async function send(method: "POST" | "PATCH", url: URL, route: string, body: unknown): Promise<unknown> {
    const response = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    options.onResponse?.(response.status, route);
    const text = await response.text();
    const answer = parseJson(text);
    if (!response.ok) {
      // A 429 is not waited out here: the outbox schedules the retry after retryAfterMs, so the worker is free.
      throw errorForDiscordAnswer(
        { status: response.status, body: answer, retryAfterHeader: response.headers.get("Retry-After") },
        target,
      );
    }
    return answer;
  }

  return {
    name: "discord-webhook",
    supportsThreads: false,

    async createMessage(_channelId, message: DiscordMessage) {
      const url = new URL(base);
      // Without wait=true Discord answers 204 and we would not learn the message id needed to edit it later.
      url.searchParams.set("wait", "true");
      try {
        return toPostedMessage(await send("POST", url, EXECUTE_ROUTE, message));
      } catch (error) {
        throw classifyDeliveryError(error, target);
      }
    },

    async editMessage(_channelId, messageId, message) {
      const url = new URL(base);
      url.pathname = `${url.pathname}/messages/${encodeURIComponent(messageId)}`;
      try {
        await send("PATCH", url, EDIT_ROUTE, toEditBody(message));
      } catch (error) {
        throw classifyDeliveryError(error, target);
      }
    },

    async startThread() {
      throw new PermanentDeliveryError(
        "A channel webhook cannot start threads: set DISCORD_TOKEN (a bot with Create Public Threads) for per-item threads, or set threads: none on the route",
      );
    },
  };
}

function parseWebhookUrl(webhookUrl: string): URL {
  let url: URL;
  try {
    url = new URL(webhookUrl);
  } catch {
    throw new Error("DISCORD_WEBHOOK_URL is not a URL: copy it from the channel's Integrations > Webhooks");
  }
  if (!/\/webhooks\/[^/]+\/[^/]+\/?$/.test(url.pathname)) {
    throw new Error(
      "DISCORD_WEBHOOK_URL must look like https://discord.com/api/webhooks/<id>/<token>: copy it from the channel's Integrations > Webhooks",
    );
  }
  url.pathname = url.pathname.replace(/\/$/, "");
  return url;
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Proxies in front of Discord answer HTML on 502/504; the status alone then decides.
    return undefined;
  }
}
