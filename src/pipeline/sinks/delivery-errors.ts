/**
 * Why a delivery to Discord failed, in the only two shapes the outbox worker acts on: retry later (after
 * backoff, or after Discord's retry_after) or stop and tell an operator what to fix.
 *
 * Every message names where the post was going and what to do, and never contains a credential: the bot
 * token travels only in a header, and a webhook URL (whose path is its token) is never quoted.
 */
import { DiscordAPIError, HTTPError, RateLimitError } from "@discordjs/rest";

/** Where a delivery was going, so an error can say which channel and which setting is at fault. */
export interface DeliveryTarget {
  /** The bot sink names a channel; a channel webhook posts to its own channel and has none. */
  via: "bot" | "webhook";
  channelId?: string;
  /** The per-request timeout, quoted when Discord did not answer in time. */
  timeoutMs?: number;
}

export type RetryReason =
  "rate-limited" | "server-error" | "timeout" | "network" | "unexpected" | "switchboard";

export class RetryableDeliveryError extends Error {
  override readonly name = "RetryableDeliveryError";
  readonly retryable = true;
  readonly reason: RetryReason;
  readonly status: number | undefined;
  /** Discord's retry_after for a 429: the worker waits at least this long before the next attempt. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    details: { reason: RetryReason; status?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = details.reason;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

export class PermanentDeliveryError extends Error {
  override readonly name = "PermanentDeliveryError";
  readonly retryable = false;
  /** HTTP status Discord answered with; absent when the sink refused before asking Discord. */
  readonly status: number | undefined;
  /** Discord's JSON error code (10003 Unknown Channel, 50001 Missing Access, 50035 Invalid Form Body, ...). */
  readonly code: number | undefined;

  constructor(message: string, details: { status?: number; code?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.code = details.code;
  }
}

export type DeliveryError = RetryableDeliveryError | PermanentDeliveryError;

/** Discord JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json). */
export const DISCORD_CODES = {
  unknownChannel: 10003,
  unknownMessage: 10008,
  unknownWebhook: 10015,
  missingAccess: 50001,
  emptyMessage: 50006,
  nonTextChannel: 50008,
  missingPermissions: 50013,
  wrongChannelType: 50024,
  invalidWebhookToken: 50027,
  invalidFormBody: 50035,
  threadAlreadyCreated: 160004,
} as const;

const HINTS: Record<number, string> = {
  [DISCORD_CODES.unknownChannel]:
    "check the channel id in the route or subscription, and that the bot is still a member of that server",
  [DISCORD_CODES.unknownMessage]:
    "the message was deleted in Discord, so it can no longer be edited or threaded",
  [DISCORD_CODES.unknownWebhook]:
    "the webhook was deleted: create a new one and put its URL in DISCORD_WEBHOOK_URL",
  [DISCORD_CODES.missingAccess]: "give the bot View Channel and Send Messages there",
  [DISCORD_CODES.missingPermissions]:
    "give the bot Send Messages and Embed Links there (and Create Public Threads and Send Messages in Threads for per-item threads)",
  [DISCORD_CODES.nonTextChannel]: "route to a text or announcement channel instead",
  [DISCORD_CODES.wrongChannelType]: "threads can only be started in text and announcement channels",
  [DISCORD_CODES.invalidWebhookToken]:
    "the webhook token is wrong: copy the webhook URL again into DISCORD_WEBHOOK_URL",
  [DISCORD_CODES.emptyMessage]: "Switchboard rendered an empty message: please report this as a bug",
  [DISCORD_CODES.invalidFormBody]:
    "Switchboard built a request Discord does not accept: please report this as a bug, with the fields named above",
};

/**
 * Turn a non-2xx answer from Discord into a delivery error. Shared by the webhook sink (which reads the answer
 * itself) and `classifyDeliveryError` (which gets it from @discordjs/rest).
 */
export function errorForDiscordAnswer(
  answer: { status: number; body: unknown; retryAfterHeader?: string | null },
  target: DeliveryTarget,
  cause?: unknown,
): DeliveryError {
  const { status } = answer;
  const body = isRecord(answer.body) ? answer.body : {};
  const where = describeTarget(target);
  const discordMessage = typeof body.message === "string" ? body.message.replace(/^\d{3}: /, "") : "";
  const label = discordMessage || statusText(status);

  if (status === 429) {
    // The JSON retry_after has millisecond precision; the Retry-After header is whole seconds, rounded up.
    const seconds = typeof body.retry_after === "number" ? body.retry_after : Number(answer.retryAfterHeader);
    const retryAfterMs = Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
    const scope = body.global === true ? " (global limit: every request from this token waits)" : "";
    const wait = retryAfterMs === undefined ? "" : ` for ${retryAfterMs} ms`;
    return new RetryableDeliveryError(`Discord rate limited ${where}${wait}${scope}`, {
      reason: "rate-limited",
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      cause,
    });
  }
  if (status >= 500) {
    return new RetryableDeliveryError(
      `Discord answered ${status} ${label} for ${where}: a failure on Discord's side, a later attempt should succeed`,
      { reason: "server-error", status, cause },
    );
  }

  const code = typeof body.code === "number" && body.code !== 0 ? body.code : undefined;
  const details =
    code === DISCORD_CODES.invalidFormBody ? ` (${[...formErrors(body.errors)].join("; ")})` : "";
  const hint = (code === undefined ? undefined : HINTS[code]) ?? hintForStatus(status, target);
  return new PermanentDeliveryError(
    `Discord answered ${status} ${label}${code === undefined ? "" : ` (${code})`} for ${where}${details}: ${hint}`,
    { status, ...(code === undefined ? {} : { code }), cause },
  );
}

/**
 * Map whatever a sink caught (a @discordjs/rest error, a fetch failure, a timeout) to a delivery error.
 * Anything unrecognised is retryable: the outbox bounds attempts, so an unknown failure ends as a visible
 * dead letter rather than a silently dropped message.
 */
export function classifyDeliveryError(
  error: unknown,
  target: DeliveryTarget = { via: "bot" },
): DeliveryError {
  if (isDeliveryError(error)) return error;

  if (error instanceof DiscordAPIError) {
    const channelId = target.channelId ?? /\/channels\/(\d+)/.exec(error.url)?.[1];
    return errorForDiscordAnswer(
      { status: error.status, body: error.rawError },
      { ...target, ...(channelId === undefined ? {} : { channelId }) },
      error,
    );
  }
  if (error instanceof HTTPError) {
    return errorForDiscordAnswer({ status: error.status, body: { message: error.message } }, target, error);
  }
  if (error instanceof RateLimitError) {
    // Only thrown when a wait is longer than the bot sink lets @discordjs/rest sleep: hand the wait to the outbox.
    const retryAfterMs = Math.max(0, Math.ceil(error.retryAfter));
    const scope = error.global ? " (global limit: every request from this token waits)" : "";
    return new RetryableDeliveryError(
      `Discord rate limited ${describeTarget(target)} for ${retryAfterMs} ms on ${error.method.toUpperCase()} ${error.route}${scope}`,
      { reason: "rate-limited", status: 429, retryAfterMs, cause: error },
    );
  }

  const where = describeTarget(target);
  const codes = errorCodes(error);
  // After one 401, @discordjs/rest forgets the token (so a bad token is not hammered into a Cloudflare ban)
  // and every later request fails locally with this message. Retrying cannot help until a restart.
  if (error instanceof Error && error.message.startsWith("Expected token to be set")) {
    return new PermanentDeliveryError(
      `Discord rejected the bot token earlier, so nothing is sent to ${where}: check DISCORD_TOKEN and restart`,
      { status: 401, cause: error },
    );
  }
  if (
    codes.names.has("AbortError") ||
    codes.names.has("TimeoutError") ||
    hasAny(codes.codes, TIMEOUT_CODES)
  ) {
    const limit = target.timeoutMs === undefined ? "" : ` within ${target.timeoutMs} ms`;
    const consequence =
      target.via === "webhook"
        ? "the post may have happened, and a retry can show it twice (webhooks take no nonce)"
        : "the post may have happened; a retry with the same nonce returns it instead of posting twice";
    return new RetryableDeliveryError(`Discord did not answer${limit} for ${where}: ${consequence}`, {
      reason: "timeout",
      cause: error,
    });
  }
  const networkCode = [...codes.codes].find((code) => NETWORK_CODES.has(code));
  if (networkCode !== undefined) {
    const setting = target.via === "webhook" ? "DISCORD_WEBHOOK_URL" : "DISCORD_API_URL";
    return new RetryableDeliveryError(
      `The connection to Discord failed (${networkCode}) for ${where}: a later attempt should succeed; if it persists, check the network and ${setting}`,
      { reason: "network", cause: error },
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new RetryableDeliveryError(`Delivery to ${where} failed unexpectedly: ${detail}`, {
    reason: "unexpected",
    cause: error,
  });
}

/** A failure a sink already classified: what it throws, as opposed to what failed around it. */
export function isDeliveryError(error: unknown): error is DeliveryError {
  return error instanceof RetryableDeliveryError || error instanceof PermanentDeliveryError;
}

/**
 * A delivery that failed in Switchboard, not at Discord: the store could not record a step (a failing or full
 * disk, the database gone) or a stored message did not parse. Sinks throw delivery errors of their own, so the
 * outbox worker knows anything else came from here, and must not send the operator looking at Discord.
 */
export function failureInSwitchboard(error: unknown, channelId: string): RetryableDeliveryError {
  const detail = error instanceof Error ? error.message : String(error);
  return new RetryableDeliveryError(
    `Switchboard itself failed while delivering to channel ${channelId}, not Discord: ${detail}. ` +
      "Whatever was not recorded is tried again; if this repeats, check the store (the disk's free " +
      "space and health, or the database) and the log",
    { reason: "switchboard", cause: error },
  );
}

const TIMEOUT_CODES = new Set([
  "ETIMEDOUT",
  "UND_ERR_ABORTED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

function describeTarget(target: DeliveryTarget): string {
  if (target.via === "webhook") return "the channel webhook";
  return target.channelId === undefined ? "Discord" : `channel ${target.channelId}`;
}

function hintForStatus(status: number, target: DeliveryTarget): string {
  if (status === 401) {
    return target.via === "webhook"
      ? "the webhook URL is not valid: copy it again into DISCORD_WEBHOOK_URL"
      : "the bot token is not valid: check DISCORD_TOKEN (Bot tab of the Discord developer portal)";
  }
  if (status === 403) return "check the bot's permissions in that channel";
  if (status === 404) return "check DISCORD_API_URL and the ids Switchboard was given";
  return "retrying will not help";
}

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? "Error";
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Payload Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Discord nests form errors as `{ embeds: { 0: { title: { _errors: [{ code, message }] } } } }`. */
function* formErrors(errors: unknown, path = ""): Generator<string> {
  if (!isRecord(errors)) return;
  for (const [key, value] of Object.entries(errors)) {
    if (key === "_errors" && Array.isArray(value)) {
      for (const entry of value) {
        const message = isRecord(entry) && typeof entry.message === "string" ? entry.message : "invalid";
        yield path ? `${path}: ${message}` : message;
      }
    } else {
      const next = /^\d+$/.test(key) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      yield* formErrors(value, next);
    }
  }
}

/** Names and codes along the `cause` chain: fetch wraps the socket error that says what really happened. */
function errorCodes(error: unknown): { names: Set<string>; codes: Set<string> } {
  const names = new Set<string>();
  const codes = new Set<string>();
  let current: unknown = error;
  for (let depth = 0; depth < 5 && isRecord(current); depth++) {
    if (typeof current.name === "string") names.add(current.name);
    if (typeof current.code === "string") codes.add(current.code);
    current = current.cause;
  }
  return { names, codes };
}

function hasAny(values: Set<string>, wanted: Set<string>): boolean {
  for (const value of values) if (wanted.has(value)) return true;
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
