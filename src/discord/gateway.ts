/**
 * The bot's gateway connection: a discord.js Client logged in with DISCORD_TOKEN, REST base from
 * DISCORD_API_URL (the gateway URL comes from `GET /gateway/bot`). Raw INTERACTION_CREATE packets go to the
 * same dispatcher the HTTP interactions endpoint feeds, answered through REST; MESSAGE_REACTION_ADD packets
 * go to whoever registered with `onReaction` (feedback capture).
 *
 * Reconnection is discord.js's: it resumes after a dropped connection and identifies again when the
 * session is gone. The one thing it does not retry is the login itself (`GET /gateway/bot` failing before
 * any connection exists), so that is retried here with backoff, except when Discord refuses the token.
 */
import type { REST } from "@discordjs/rest";
import { Client, Events, GatewayIntentBits, Status } from "discord.js";
import type {
  APIInteraction,
  GatewayDispatchPayload,
  GatewayMessageReactionAddDispatchData,
} from "discord-api-types/v10";
import { GatewayDispatchEvents } from "discord-api-types/v10";
import type { Logger } from "../observability/logger.js";
import type { InteractionDispatcher } from "./dispatcher.js";
import { createResponder, restInitialResponse } from "./responder.js";

export type GatewayStatus = "connecting" | "ready" | "disconnected";

export interface GatewayState {
  status: GatewayStatus;
  /** Heartbeat round trip in milliseconds; null until the first heartbeat is acknowledged. */
  pingMs: number | null;
  /** When the status last changed (epoch milliseconds). */
  since: number;
  /** Why the gateway is not ready, in words an operator can act on. */
  reason?: string;
  /** The bot user's name once logged in. */
  user?: string;
}

export type ReactionHandler = (reaction: GatewayMessageReactionAddDispatchData) => Promise<void> | void;

export interface GatewayClient {
  /** Logs in in the background: start-up does not wait for Discord, /readyz reports the progress. */
  start(): void;
  state(): GatewayState;
  /** Called for every MESSAGE_REACTION_ADD (needs `feedbackReactions`, see gatewayIntents). */
  onReaction(handler: ReactionHandler): void;
  /** Disconnects, after giving interactions in flight a moment to finish answering. */
  close(): Promise<void>;
}

/**
 * The fewest intents Switchboard's features need. Interactions need none (they arrive regardless).
 * - Guilds: the guild, channel and role caches discord.js builds its READY on; without it the client waits
 *   out a 15 s guild timeout at every login.
 * - GuildMessageReactions: MESSAGE_REACTION_ADD for the feedback reaction (📌 files the message in Linear).
 * - MessageContent (privileged, enabled per application in the Developer Portal): without it Discord blanks
 *   the text of other users' messages, in gateway events and in `GET /channels/:id/messages/:id` alike,
 *   and the feedback reaction reads the reacted message's text to file it. So both reaction intents are
 *   asked for only when feedback reactions are on; the context-menu capture needs neither, because Discord
 *   sends the target message's content with that interaction.
 */
export function gatewayIntents(options: { feedbackReactions: boolean }): GatewayIntentBits[] {
  return [
    GatewayIntentBits.Guilds,
    ...(options.feedbackReactions
      ? [GatewayIntentBits.GuildMessageReactions, GatewayIntentBits.MessageContent]
      : []),
  ];
}

const LOGIN_RETRY_MS = { first: 1000, max: 60_000 };
/** How long close() lets a login in progress finish before destroying the client anyway. */
const LOGIN_SETTLE_MS = 2000;
/** How long close() waits for interactions still being answered. */
const DRAIN_MS = 3000;

export function createGatewayClient(options: {
  token: string;
  apiUrl: string;
  dispatcher: InteractionDispatcher;
  /** Answers interactions (callbacks and the interaction webhook need no bot token). */
  rest: REST;
  logger: Logger;
  feedbackReactions: boolean;
  /** Backoff for retrying a failed login; tests shorten it. */
  loginRetryMs?: { first: number; max: number };
}): GatewayClient {
  const { dispatcher, rest, logger } = options;
  const retry = options.loginRetryMs ?? LOGIN_RETRY_MS;
  const client = new Client({
    intents: gatewayIntents({ feedbackReactions: options.feedbackReactions }),
    rest: { api: options.apiUrl },
  });
  const reactionHandlers: ReactionHandler[] = [];
  const inFlight = new Set<Promise<void>>();
  let since = Date.now();
  let reason: string | undefined = "connecting to the Discord gateway";
  /** Set when discord.js will not reconnect by itself (token refused, intents not allowed). */
  let fatal: string | undefined;
  let started = false;
  let wasReady = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  /** The login attempt in progress, if any: resolves once it succeeded or failed. */
  let loggingIn: Promise<void> | undefined;

  const changed = (why: string | undefined) => {
    since = Date.now();
    reason = why;
  };

  function track(work: Promise<void>): void {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  function onInteraction(interaction: APIInteraction): void {
    const respond = createResponder({
      interaction,
      rest,
      sendInitial: restInitialResponse(rest, interaction),
    });
    track(
      dispatcher
        .dispatch(interaction, respond)
        .catch((error: unknown) =>
          logger.error({ err: error, interaction: interaction.id }, "Interaction could not be answered"),
        ),
    );
  }

  function onReactionAdd(reaction: GatewayMessageReactionAddDispatchData): void {
    for (const handler of reactionHandlers) {
      track(
        Promise.resolve()
          .then(() => handler(reaction))
          .catch((error: unknown) =>
            logger.error({ err: error, message: reaction.message_id }, "Reaction handler failed"),
          ),
      );
    }
  }

  client.on(Events.Raw, (packet: GatewayDispatchPayload) => {
    if (packet.t === GatewayDispatchEvents.InteractionCreate) onInteraction(packet.d);
    else if (packet.t === GatewayDispatchEvents.MessageReactionAdd) onReactionAdd(packet.d);
  });
  client.on(Events.ClientReady, (ready) => {
    wasReady = true;
    changed(undefined);
    logger.info(
      { user: ready.user.username, guilds: ready.guilds.cache.size },
      "Connected to the Discord gateway",
    );
  });
  client.on(Events.ShardReady, () => changed(undefined));
  client.on(Events.ShardResume, () => {
    changed(undefined);
    logger.info("Discord gateway connection resumed");
  });
  client.on(Events.ShardReconnecting, () => {
    changed("the Discord gateway connection dropped: reconnecting");
    logger.warn("Discord gateway connection lost: reconnecting");
  });
  client.on(Events.ShardDisconnect, (event) => {
    fatal = describeCloseCode(event.code);
    changed(fatal);
    logger.error({ code: event.code }, `Discord gateway closed for good: ${fatal}`);
  });
  // An 'error' event without a listener would crash the process; these are connection-level and retried.
  client.on(Events.ShardError, (error) => {
    logger.warn({ err: error }, "Discord gateway connection error");
  });
  client.on(Events.Error, (error) => {
    logger.error({ err: error }, "Discord client error");
  });

  async function login(attempt: number): Promise<void> {
    try {
      await client.login(options.token);
    } catch (error) {
      if (closed) return;
      if (isTokenInvalid(error)) {
        fatal = "Discord refused DISCORD_TOKEN (401): reset the bot token in the Developer Portal";
        changed(fatal);
        logger.error(fatal);
        return;
      }
      const delay = Math.min(retry.max, retry.first * 2 ** attempt);
      // The state is shown to any member by /status: the error itself (hosts, addresses) is for the log.
      changed(
        `could not log in to the Discord gateway; retrying in ${Math.round(delay / 1000)} s (the log says why)`,
      );
      logger.warn({ err: error, retryInMs: delay }, "Could not log in to the Discord gateway");
      retryTimer = setTimeout(() => {
        loggingIn = login(attempt + 1);
      }, delay);
    }
  }

  return {
    start() {
      if (started) return;
      started = true;
      loggingIn = login(0);
    },
    state() {
      const pingMs = client.ws.ping >= 0 && Number.isFinite(client.ws.ping) ? client.ws.ping : null;
      const base = { pingMs, since, ...(client.user ? { user: client.user.username } : {}) };
      if (fatal) return { ...base, status: "disconnected", reason: fatal };
      const shards = [...client.ws.shards.values()];
      if (shards.length > 0 && shards.every((shard) => shard.status === Status.Ready)) {
        return { ...base, status: "ready" };
      }
      // Before the first READY it is still connecting; afterwards, not ready means the connection dropped.
      return {
        ...base,
        status: wasReady ? "disconnected" : "connecting",
        reason: reason ?? "connecting to the Discord gateway",
      };
    },
    onReaction(handler) {
      reactionHandlers.push(handler);
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      await Promise.race([Promise.allSettled([...inFlight]), delay(DRAIN_MS)]);
      // Destroying discord.js in the middle of a handshake strands the socket (see destroyClient): let a
      // login in progress finish first, within reason.
      if (loggingIn && !wasReady) await Promise.race([loggingIn, delay(LOGIN_SETTLE_MS)]);
      await destroyClient(client);
    },
  };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** The parts of @discordjs/ws's internals destroyClient reaches into; optional so an upgrade degrades safely. */
interface ShardInternals {
  connection?: {
    readyState: number;
    on(event: "error", listener: () => void): unknown;
    terminate(): void;
  } | null;
}

/**
 * discord.js 14 (@discordjs/ws 1.2) removes a connection's error listener when destroyed while the
 * connection is still opening; the handshake's failure then surfaces as an uncaught exception that takes
 * the process down. Such connections are given a listener and terminated here.
 */
async function destroyClient(client: Client): Promise<void> {
  const internals = client.ws as unknown as {
    _ws?: { strategy?: { shards?: Map<number, ShardInternals> } } | null;
  };
  const shards = [...(internals._ws?.strategy?.shards?.values() ?? [])];
  await client.destroy();
  for (const shard of shards) {
    const connection = shard.connection;
    if (!connection || connection.readyState > 1) continue;
    connection.on("error", () => {});
    connection.terminate();
  }
}

function isTokenInvalid(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "TokenInvalid";
}

/** What an unrecoverable close code means, and what to do about it. */
function describeCloseCode(code: number): string {
  switch (code) {
    case 4004:
      return "Discord refused DISCORD_TOKEN (close code 4004): reset the bot token in the Developer Portal";
    case 4013:
    case 4014:
      return `Discord refused the gateway intents (close code ${code}): enable the Message Content intent for the bot in the Developer Portal, or turn feedback reactions off`;
    default:
      return `the Discord gateway closed the connection with code ${code} and will not be retried`;
  }
}
