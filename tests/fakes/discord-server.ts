/**
 * A fake Discord REST API on loopback, close enough to the real one that the sinks and discord.js cannot tell:
 * bot-token auth, message create/edit with Discord's size limits, nonce de-duplication, threads started from
 * messages, channel webhooks, rate-limit answers with the real headers and body, and fault injection for
 * the failures the outbox must survive (5xx, hangs, resets, and a post committed whose answer is lost).
 *
 * The limits here are written out from Discord's documentation on purpose, not imported from the renderer:
 * the fake must catch a renderer that gets them wrong.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { text as readBody } from "node:stream/consumers";
import { attachFakeGateway, type FakeGateway, type FakeGatewayOptions } from "./discord-gateway.js";

export type Fault =
  | { kind: "429"; retryAfterSeconds: number; global?: boolean }
  | { kind: "500" }
  | { kind: "502" }
  /** Never answers (until close): the client's timeout must fire. */
  | { kind: "hang" }
  /** Resets the connection before the request is processed. */
  | { kind: "reset" }
  /** Processes the request (the message is created), then resets the connection without answering. */
  | { kind: "drop-after-commit" }
  /** Any Discord error answer, e.g. `{ status: 403, code: 50013, message: "Missing Permissions" }`. */
  | { kind: "error"; status: number; code: number; message: string };

export type FaultKind = Exclude<Fault["kind"], "error">;

export interface FaultRequest {
  method: string;
  /** Path and query as sent, e.g. `/api/v10/channels/1/messages`. */
  path: string;
  /** 1-based number of this request since the server started. */
  n: number;
}

export interface FakeDiscordOptions {
  /** Accepted in `Authorization: Bot <token>`. Default `fake-bot-token`. */
  token?: string;
  /** Channels that exist; any other answers 404 Unknown Channel. Default: every channel exists. */
  channels?: string[];
  /** Channels the bot cannot see: 403 Missing Access (50001). */
  forbiddenChannels?: string[];
  /** The one channel webhook; default id `1`, token `fake-token`, channel `100000000000000099`. */
  webhook?: { id: string; token: string; channelId: string };
  /** The bot's application id (also its user id). Default `100000000000000001`. */
  applicationId?: string;
  /** The bot user's name. Default `Switchboard`. */
  botUsername?: string;
  /**
   * How long after an interaction was created its initial response is still accepted; later callbacks get
   * Discord's 404 Unknown interaction (10062). Default 3000 ms, as in Discord.
   */
  interactionDeadlineMs?: number;
  /** Options for the fake gateway attached to this server (guilds, heartbeat interval, privileged intents). */
  gateway?: Omit<FakeGatewayOptions, "server" | "rest">;
}

/** One answer the bot gave to an interaction, on any of the paths Discord offers. */
export interface FakeInteractionResponse {
  /** The interaction id, or `unknown` for a webhook call on a token the fake never saw. */
  interactionId: string;
  token: string;
  /**
   * callback: `POST /interactions/:id/:token/callback` (the initial response over REST);
   * edit-original: `PATCH /webhooks/:app/:token/messages/@original`; follow-up: `POST /webhooks/:app/:token`;
   * edit-follow-up: `PATCH /webhooks/:app/:token/messages/:id`.
   */
  kind: "callback" | "edit-original" | "follow-up" | "edit-follow-up";
  /** How the initial response came: a REST callback, or the body of the HTTP interactions response. */
  via: "rest" | "http";
  /** InteractionResponseType for callbacks (4 reply, 5 deferred, 7 update, 8 autocomplete, 9 modal). */
  type?: number;
  data: Record<string, unknown>;
  /** `data.flags` (64 = ephemeral); 0 when absent. */
  flags: number;
  ephemeral: boolean;
  /** `data.content`, or "" when absent. */
  content: string;
  /** The message created or edited, for replies, edits and follow-ups. */
  messageId?: string;
  at: number;
}

/** A `PUT` of the command list: the scope it replaced and the body sent. */
export interface FakeCommandWrite {
  guildId?: string;
  body: Array<Record<string, unknown>>;
}

/** A message the fake serves from `GET /channels/:id/messages/:mid`, posted by someone else. */
export interface SeedMessage {
  channelId: string;
  content: string;
  author?: { id: string; username: string; bot?: boolean };
  embeds?: FakeEmbed[];
}

export interface FakeEmbed {
  title?: string;
  description?: string;
  url?: string;
  fields?: Array<{ name: string; value: string; inline?: boolean }>;
  footer?: { text: string };
  author?: { name: string };
  [key: string]: unknown;
}

export interface FakeMessage {
  id: string;
  channelId: string;
  content: string;
  embeds: FakeEmbed[];
  allowed_mentions?: unknown;
  nonce?: string;
  /** Set once a thread was started on this message (equals the message id). */
  threadId?: string;
  /** Set when posted through the channel webhook. */
  webhookId?: string;
  /** Set for messages seeded as written by someone else. */
  author?: { id: string; username: string; bot?: boolean };
}

export interface FakeEdit {
  channelId: string;
  messageId: string;
  body: Record<string, unknown>;
}

export interface FakeThread {
  id: string;
  /** The channel holding the message the thread was started from. */
  channelId: string;
  name: string;
  autoArchiveDuration?: number;
}

export interface FakeRequest {
  method: string;
  path: string;
  n: number;
  /** 0 when no answer was sent (hang, reset, drop-after-commit). */
  status: number;
  fault?: Fault["kind"];
}

export interface FakeDiscord {
  /** API base for `DISCORD_API_URL`: `http://127.0.0.1:PORT/api` (clients add `/v10/...`). */
  url: string;
  /** For `DISCORD_WEBHOOK_URL`: `http://127.0.0.1:PORT/api/webhooks/1/fake-token`. */
  webhookUrl: string;
  /** What `GET /gateway/bot` answers; a fake gateway can attach to `server`'s upgrade event. */
  gatewayUrl: string;
  token: string;
  server: Server;
  /** Every created message, in order, with its current content (edits apply). */
  messages: FakeMessage[];
  edits: FakeEdit[];
  threads: FakeThread[];
  requests: FakeRequest[];
  /** The bot application's id; the bot user has the same id. */
  applicationId: string;
  botUser: {
    id: string;
    username: string;
    bot: true;
    discriminator: string;
    global_name: null;
    avatar: null;
  };
  /** Every answer to an interaction, in the order they arrived. */
  interactionResponses: FakeInteractionResponse[];
  /** Resolves with the responses for `interactionId` once `count` of them arrived (default 1). */
  waitForInteractionResponses(
    interactionId: string,
    options?: { count?: number; timeoutMs?: number },
  ): Promise<FakeInteractionResponse[]>;
  /**
   * Tells the fake an interaction exists (the gateway does this when it dispatches one; an HTTP test does it
   * before posting), so its deadline and "already acknowledged" rules apply. `acknowledged` marks one answered
   * outside the fake (the HTTP response), so edits of @original are accepted.
   */
  trackInteraction(interaction: {
    id: string;
    token: string;
    channelId?: string;
    acknowledged?: boolean;
  }): void;
  /**
   * Records the initial response an HTTP interactions endpoint gave in its HTTP answer (Discord sees it; the
   * fake does not), so `interactionResponses` tells the whole story on either transport.
   */
  recordHttpResponse(
    interaction: { id: string; token: string },
    response: { type: number; data?: unknown },
  ): void;
  /** The registered commands: global, or for one guild. */
  registeredCommands(guildId?: string): Array<Record<string, unknown>>;
  /** Every bulk overwrite (`PUT .../commands`), in order. */
  commandWrites: FakeCommandWrite[];
  /** Adds a message written by a user, so `GET /channels/:id/messages/:mid` finds it. */
  seedMessage(message: SeedMessage): FakeMessage;
  /** The fake gateway on this server's port (`gatewayUrl`). */
  gateway: FakeGateway;
  /** Decide per request whether to fail it; replaces any earlier fault function. */
  setFaults(fn: (request: FaultRequest) => Fault | undefined): void;
  /** Fail every n-th request (n, 2n, ...), cycling through `kinds`; a bare "429" waits 1 s. */
  failEvery(n: number, kinds: Array<Fault | FaultKind>): void;
  clearFaults(): void;
  /** Destroys open connections first, so hung requests cannot keep it open. */
  close(): Promise<void>;
}

/** Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits). */
const LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  author: 256,
  total: 6000,
  nonce: 25,
  threadName: 100,
} as const;

const DISCORD_EPOCH = 1_420_070_400_000n;

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

class DiscordError {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly message: string,
    readonly errors?: unknown,
  ) {}
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const token = options.token ?? "fake-bot-token";
  const webhook = options.webhook ?? { id: "1", token: "fake-token", channelId: "100000000000000099" };
  const knownChannels = options.channels ? new Set(options.channels) : undefined;
  const forbidden = new Set(options.forbiddenChannels ?? []);
  const messages: FakeMessage[] = [];
  const edits: FakeEdit[] = [];
  const threads: FakeThread[] = [];
  const requests: FakeRequest[] = [];
  const sockets = new Set<Socket>();
  let faults: (request: FaultRequest) => Fault | undefined = () => undefined;
  let requestCount = 0;
  let lastId = 0n;
  const applicationId = options.applicationId ?? "100000000000000001";
  const botUser = {
    id: applicationId,
    username: options.botUsername ?? "Switchboard",
    bot: true as const,
    discriminator: "0",
    global_name: null,
    avatar: null,
  };
  const interactionDeadlineMs = options.interactionDeadlineMs ?? 3000;
  const interactionResponses: FakeInteractionResponse[] = [];
  const responseListeners = new Set<() => void>();
  /** Interactions by token: the interaction webhook is addressed by token alone. */
  const interactions = new Map<string, TrackedInteraction>();
  /** Registered commands by scope: `global` or a guild id. */
  const commandScopes = new Map<string, Array<Record<string, unknown>>>();
  const commandWrites: FakeCommandWrite[] = [];

  function nextId(): string {
    const candidate = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
    lastId = candidate > lastId ? candidate : lastId + 1n;
    return String(lastId);
  }

  function checkChannel(channelId: string): void {
    if (forbidden.has(channelId)) throw new DiscordError(403, 50001, "Missing Access");
    const isThread = threads.some((thread) => thread.id === channelId);
    const exists =
      !knownChannels || knownChannels.has(channelId) || isThread || channelId === webhook.channelId;
    if (!exists) throw new DiscordError(404, 10003, "Unknown Channel");
  }

  function findMessage(channelId: string, messageId: string): FakeMessage {
    const message = messages.find((m) => m.id === messageId && m.channelId === channelId);
    if (!message) throw new DiscordError(404, 10008, "Unknown Message");
    return message;
  }

  function checkWebhook(id: string, webhookToken: string): void {
    if (id !== webhook.id) throw new DiscordError(404, 10015, "Unknown Webhook");
    if (webhookToken !== webhook.token) throw new DiscordError(401, 50027, "Invalid Webhook Token");
  }

  function createMessage(channelId: string, body: Record<string, unknown>, webhookId?: string): Answer {
    validateMessage(body, { create: true });
    const nonce = body.nonce === undefined ? undefined : String(body.nonce);
    if (nonce !== undefined && body.enforce_nonce === true) {
      // Real Discord keeps nonces for a few minutes; the fake keeps them for its lifetime.
      const existing = messages.find((m) => m.channelId === channelId && m.nonce === nonce && !m.webhookId);
      if (existing) return { status: 200, body: messageJson(existing) };
    }
    const message: FakeMessage = {
      id: nextId(),
      channelId,
      content: typeof body.content === "string" ? body.content : "",
      embeds: Array.isArray(body.embeds) ? (body.embeds as FakeEmbed[]) : [],
      ...(body.allowed_mentions === undefined ? {} : { allowed_mentions: body.allowed_mentions }),
      ...(nonce === undefined ? {} : { nonce }),
      ...(webhookId === undefined ? {} : { webhookId }),
    };
    messages.push(message);
    return { status: 200, body: messageJson(message) };
  }

  function editMessage(message: FakeMessage, body: Record<string, unknown>): Answer {
    validateMessage(body, { create: false });
    // PATCH replaces only the fields present; null clears them, as in Discord.
    if ("content" in body) message.content = typeof body.content === "string" ? body.content : "";
    if ("embeds" in body) message.embeds = Array.isArray(body.embeds) ? (body.embeds as FakeEmbed[]) : [];
    if ("allowed_mentions" in body) message.allowed_mentions = body.allowed_mentions;
    edits.push({ channelId: message.channelId, messageId: message.id, body });
    return { status: 200, body: messageJson(message) };
  }

  function startThread(channelId: string, messageId: string, body: Record<string, unknown>): Answer {
    const message = findMessage(channelId, messageId);
    if (message.threadId)
      throw new DiscordError(400, 160004, "A thread has already been created for this message");
    const name = typeof body.name === "string" ? body.name : "";
    if (name.length < 1 || name.length > LIMITS.threadName) {
      throw invalidForm({ name: lengthError(`Must be between 1 and ${LIMITS.threadName} in length.`) });
    }
    const thread: FakeThread = {
      id: message.id,
      channelId,
      name,
      ...(typeof body.auto_archive_duration === "number"
        ? { autoArchiveDuration: body.auto_archive_duration }
        : {}),
    };
    threads.push(thread);
    message.threadId = thread.id;
    return {
      status: 201,
      body: {
        id: thread.id,
        type: 11,
        parent_id: channelId,
        name,
        thread_metadata: {
          archived: false,
          locked: false,
          auto_archive_duration: thread.autoArchiveDuration ?? 4320,
        },
        message_count: 0,
      },
    };
  }

  // ---- Interactions: Discord's rules for answering them, which the dispatcher must satisfy. ----

  function trackInteraction(interaction: {
    id: string;
    token: string;
    channelId?: string;
    acknowledged?: boolean;
  }): TrackedInteraction {
    const tracked: TrackedInteraction = {
      id: interaction.id,
      token: interaction.token,
      ...(interaction.channelId === undefined ? {} : { channelId: interaction.channelId }),
      createdAt: Date.now(),
      acknowledged: interaction.acknowledged ?? false,
      followUps: [],
    };
    // An interaction answered in the HTTP response has an original message Discord created from it.
    if (tracked.acknowledged) tracked.original = interactionMessage({}, 0);
    interactions.set(interaction.token, tracked);
    return tracked;
  }

  function interactionMessage(data: Record<string, unknown>, flags: number): InteractionMessage {
    return {
      id: nextId(),
      content: typeof data.content === "string" ? data.content : "",
      embeds: Array.isArray(data.embeds) ? (data.embeds as FakeEmbed[]) : [],
      components: Array.isArray(data.components) ? data.components : [],
      flags,
    };
  }

  function recordResponse(
    tracked: TrackedInteraction | undefined,
    token: string,
    kind: FakeInteractionResponse["kind"],
    data: Record<string, unknown>,
    extra: { type?: number; messageId?: string } = {},
    via: "rest" | "http" = "rest",
  ): void {
    const flags = typeof data.flags === "number" ? data.flags : 0;
    interactionResponses.push({
      interactionId: tracked?.id ?? "unknown",
      token,
      kind,
      via,
      ...extra,
      data,
      flags,
      ephemeral: (flags & EPHEMERAL) === EPHEMERAL,
      content: typeof data.content === "string" ? data.content : "",
      at: Date.now(),
    });
    for (const listener of responseListeners) listener();
  }

  function interactionCallback(
    id: string,
    interactionToken: string,
    body: Record<string, unknown>,
    withResponse: boolean,
  ): Answer {
    const tracked = interactions.get(interactionToken) ?? trackInteraction({ id, token: interactionToken });
    if (tracked.id !== id) throw new DiscordError(404, 10062, "Unknown interaction");
    if (tracked.acknowledged)
      throw new DiscordError(400, 40060, "Interaction has already been acknowledged.");
    if (Date.now() - tracked.createdAt > interactionDeadlineMs) {
      throw new DiscordError(404, 10062, "Unknown interaction");
    }
    const type = body.type;
    const data = (typeof body.data === "object" && body.data !== null ? body.data : {}) as Record<
      string,
      unknown
    >;
    const flags = typeof data.flags === "number" ? data.flags : 0;
    switch (type) {
      case 4:
        validateMessage(data, { create: true });
        tracked.original = interactionMessage(data, flags);
        break;
      case 5:
        tracked.original = interactionMessage({}, flags);
        break;
      case 6:
      case 7:
        if (type === 7) validateMessage(data, { create: false });
        tracked.original = interactionMessage(data, flags);
        break;
      case 8: {
        const choices = Array.isArray(data.choices) ? data.choices : undefined;
        if (!choices) throw invalidForm({ data: { choices: requiredError() } });
        if (choices.length > 25)
          throw invalidForm({ data: { choices: lengthError("Must be 25 or fewer in length.") } });
        break;
      }
      case 9:
        if (
          typeof data.custom_id !== "string" ||
          typeof data.title !== "string" ||
          !Array.isArray(data.components)
        ) {
          throw invalidForm({
            data: { custom_id: requiredError(), title: requiredError(), components: requiredError() },
          });
        }
        break;
      default:
        throw invalidForm({
          type: {
            _errors: [{ code: "BASE_TYPE_CHOICES", message: `Value must be one of (4, 5, 6, 7, 8, 9).` }],
          },
        });
    }
    tracked.acknowledged = true;
    recordResponse(tracked, interactionToken, "callback", data, {
      type,
      ...(tracked.original ? { messageId: tracked.original.id } : {}),
    });
    if (!withResponse) return { status: 204 };
    return {
      status: 200,
      body: {
        interaction: { id, type: 2 },
        resource: {
          type,
          ...(tracked.original ? { message: interactionMessageJson(tracked.original, tracked) } : {}),
        },
      },
    };
  }

  function interactionWebhook(
    method: string,
    interactionToken: string,
    messageId: string | undefined,
    body: unknown,
    wait: boolean,
  ): Answer {
    const tracked = interactions.get(interactionToken);
    // The interaction webhook exists only once the interaction was acknowledged.
    if (!tracked || !tracked.acknowledged) throw new DiscordError(404, 10015, "Unknown Webhook");
    const json = () => {
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new DiscordError(400, 50109, "The request body contains invalid JSON.");
      }
      return body as Record<string, unknown>;
    };
    if (messageId === undefined) {
      if (method !== "POST") throw new DiscordError(405, 0, "405: Method Not Allowed");
      const data = json();
      validateMessage(data, { create: true });
      const message = interactionMessage(data, typeof data.flags === "number" ? data.flags : 0);
      tracked.followUps.push(message);
      recordResponse(tracked, interactionToken, "follow-up", data, { messageId: message.id });
      return wait ? { status: 200, body: interactionMessageJson(message, tracked) } : { status: 204 };
    }
    const message =
      messageId === "@original" ? tracked.original : tracked.followUps.find((m) => m.id === messageId);
    if (!message) throw new DiscordError(404, 10008, "Unknown Message");
    if (method === "GET") return { status: 200, body: interactionMessageJson(message, tracked) };
    if (method === "DELETE") {
      if (messageId === "@original") delete tracked.original;
      else tracked.followUps = tracked.followUps.filter((m) => m !== message);
      return { status: 204 };
    }
    if (method !== "PATCH") throw new DiscordError(405, 0, "405: Method Not Allowed");
    const data = json();
    validateMessage(data, { create: false });
    if ("content" in data) message.content = typeof data.content === "string" ? data.content : "";
    if ("embeds" in data) message.embeds = Array.isArray(data.embeds) ? (data.embeds as FakeEmbed[]) : [];
    if ("components" in data) message.components = Array.isArray(data.components) ? data.components : [];
    recordResponse(
      tracked,
      interactionToken,
      messageId === "@original" ? "edit-original" : "edit-follow-up",
      data,
      {
        messageId: message.id,
      },
    );
    return { status: 200, body: interactionMessageJson(message, tracked) };
  }

  function interactionMessageJson(
    message: InteractionMessage,
    tracked: TrackedInteraction,
  ): Record<string, unknown> {
    return {
      id: message.id,
      type: 20,
      channel_id: tracked.channelId ?? "0",
      content: message.content,
      embeds: message.embeds,
      components: message.components,
      flags: message.flags,
      webhook_id: applicationId,
      application_id: applicationId,
      author: botUser,
      interaction_metadata: { id: tracked.id, type: 2 },
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      mentions: [],
      tts: false,
    };
  }

  // ---- Application commands: bulk overwrite, the way Discord stores and echoes them. ----

  function overwriteCommands(guildId: string | undefined, body: unknown): Array<Record<string, unknown>> {
    if (!Array.isArray(body)) {
      throw invalidForm({ _errors: [{ code: "BASE_TYPE_ARRAY", message: "Must be an array." }] });
    }
    if (body.length > 100) throw invalidForm({ _errors: [lengthError("Must be 100 or fewer in length.")] });
    const scope = guildId ?? "global";
    const existing = commandScopes.get(scope) ?? [];
    const errors: Record<string, unknown> = {};
    const seen = new Set<string>();
    const stored = body.map((raw: unknown, index) => {
      const command = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
      const type = typeof command.type === "number" ? command.type : 1;
      const problems = commandProblems(command, type);
      const key = `${type}:${String(command.name)}`;
      if (seen.has(key))
        problems.name = {
          _errors: [
            {
              code: "APPLICATION_COMMANDS_DUPLICATE_NAME",
              message: "Application command names must be unique",
            },
          ],
        };
      seen.add(key);
      if (Object.keys(problems).length) errors[index] = problems;
      const previous = existing.find((c) => c.name === command.name && c.type === type);
      const echoed: Record<string, unknown> = {
        // Discord echoes what it was given plus its own defaults and identifiers.
        type,
        description: "",
        default_member_permissions: null,
        nsfw: false,
        contexts: null,
        integration_types: [0],
        ...(guildId === undefined ? { dm_permission: true } : { guild_id: guildId }),
        ...command,
        id: previous?.id ?? nextId(),
        application_id: applicationId,
      };
      echoed.version = previous && sameCommand(previous, echoed) ? previous.version : nextId();
      return echoed;
    });
    if (Object.keys(errors).length) throw invalidForm(errors);
    commandScopes.set(scope, stored);
    commandWrites.push({
      ...(guildId === undefined ? {} : { guildId }),
      body: body as Array<Record<string, unknown>>,
    });
    return stored;
  }

  function route(method: string, url: URL, auth: string | undefined, body: unknown): Answer {
    // Clients send versioned paths (`/api/v10/...`); webhook URLs copied from Discord are unversioned.
    const path = url.pathname.replace(/^\/api(?:\/v\d+)?/, "");
    const requireBot = () => {
      if (auth !== `Bot ${token}`) throw new DiscordError(401, 0, "401: Unauthorized");
    };
    const json = () => {
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new DiscordError(400, 50109, "The request body contains invalid JSON.");
      }
      return body as Record<string, unknown>;
    };
    let match: RegExpExecArray | null;

    if (path === "/gateway" && method === "GET") return { status: 200, body: { url: gatewayUrl } };
    if (path === "/gateway/bot" && method === "GET") {
      requireBot();
      return {
        status: 200,
        body: {
          url: gatewayUrl,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 1000, reset_after: 86_400_000, max_concurrency: 1 },
        },
      };
    }
    if (path === "/users/@me" && method === "GET") {
      requireBot();
      return { status: 200, body: botUser };
    }
    if (path === "/applications/@me" && method === "GET") {
      requireBot();
      return { status: 200, body: { id: applicationId, name: botUser.username, flags: 0, bot: botUser } };
    }
    if ((match = /^\/applications\/([^/]+)(?:\/guilds\/([^/]+))?\/commands$/.exec(path))) {
      requireBot();
      if (match[1] !== applicationId) {
        throw new DiscordError(
          403,
          20012,
          "You are not authorized to perform this action on this application",
        );
      }
      const scope = match[2] ?? "global";
      if (method === "GET") return { status: 200, body: commandScopes.get(scope) ?? [] };
      if (method === "PUT") return { status: 200, body: overwriteCommands(match[2], body) };
      throw new DiscordError(405, 0, "405: Method Not Allowed");
    }
    if ((match = /^\/interactions\/([^/]+)\/([^/]+)\/callback$/.exec(path)) && method === "POST") {
      return interactionCallback(
        match[1]!,
        match[2]!,
        json(),
        url.searchParams.get("with_response") === "true",
      );
    }
    if (
      (match = /^\/webhooks\/([^/]+)\/([^/]+)(?:\/messages\/([^/]+))?$/.exec(path)) &&
      match[1] === applicationId
    ) {
      // Clients percent-encode `@original` (discord.js sends `%40original`).
      const messageId = match[3] === undefined ? undefined : decodeURIComponent(match[3]);
      return interactionWebhook(method, match[2]!, messageId, body, url.searchParams.get("wait") === "true");
    }
    if ((match = /^\/webhooks\/([^/]+)\/([^/]+)$/.exec(path)) && method === "POST") {
      checkWebhook(match[1]!, match[2]!);
      const answer = createMessage(webhook.channelId, json(), webhook.id);
      // Without ?wait=true Discord answers 204 and the caller never learns the message id.
      return url.searchParams.get("wait") === "true" ? answer : { status: 204 };
    }
    if ((match = /^\/webhooks\/([^/]+)\/([^/]+)\/messages\/([^/]+)$/.exec(path))) {
      checkWebhook(match[1]!, match[2]!);
      const messageId = match[3];
      const message = messages.find((m) => m.id === messageId && m.webhookId === webhook.id);
      if (!message) throw new DiscordError(404, 10008, "Unknown Message");
      if (method === "PATCH") return editMessage(message, json());
      if (method === "GET") return { status: 200, body: messageJson(message) };
      throw new DiscordError(405, 0, "405: Method Not Allowed");
    }
    if ((match = /^\/channels\/([^/]+)\/messages$/.exec(path))) {
      requireBot();
      checkChannel(match[1]!);
      if (method === "POST") return createMessage(match[1]!, json());
      throw new DiscordError(405, 0, "405: Method Not Allowed");
    }
    if ((match = /^\/channels\/([^/]+)\/messages\/([^/]+)$/.exec(path))) {
      requireBot();
      checkChannel(match[1]!);
      const message = findMessage(match[1]!, match[2]!);
      if (method === "PATCH") return editMessage(message, json());
      if (method === "GET") return { status: 200, body: messageJson(message) };
      throw new DiscordError(405, 0, "405: Method Not Allowed");
    }
    if ((match = /^\/channels\/([^/]+)\/messages\/([^/]+)\/threads$/.exec(path)) && method === "POST") {
      requireBot();
      checkChannel(match[1]!);
      return startThread(match[1]!, match[2]!, json());
    }
    throw new DiscordError(404, 0, "404: Not Found");
  }

  function answerFault(fault: Fault): Answer {
    switch (fault.kind) {
      case "429": {
        const scope = fault.global ? "global" : "user";
        const headers: Record<string, string> = {
          // Discord rounds the header up to whole seconds; the body carries the precise value.
          "Retry-After": String(Math.ceil(fault.retryAfterSeconds)),
          "X-RateLimit-Scope": scope,
        };
        if (fault.global) headers["X-RateLimit-Global"] = "true";
        else {
          headers["X-RateLimit-Limit"] = "5";
          headers["X-RateLimit-Remaining"] = "0";
          headers["X-RateLimit-Reset-After"] = String(fault.retryAfterSeconds);
          headers["X-RateLimit-Bucket"] = "fake-bucket";
        }
        return {
          status: 429,
          headers,
          body: {
            message: "You are being rate limited.",
            retry_after: fault.retryAfterSeconds,
            global: !!fault.global,
          },
        };
      }
      case "500":
        return { status: 500, body: { message: "500: Internal Server Error", code: 0 } };
      case "502":
        // Cloudflare answers a 502 with HTML, not JSON.
        return { status: 502, body: "<html><body>502 Bad Gateway</body></html>" };
      case "error":
        return { status: fault.status, body: { message: fault.message, code: fault.code } };
      default:
        throw new Error(`fault ${fault.kind} has no answer`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const n = ++requestCount;
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const raw = await readBody(req);
    const fault = faults({ method, path, n });
    const log = (status: number) =>
      requests.push({ method, path, n, status, ...(fault ? { fault: fault.kind } : {}) });

    if (fault?.kind === "hang") {
      log(0);
      return;
    }
    if (fault?.kind === "reset") {
      log(0);
      req.socket.resetAndDestroy();
      return;
    }
    let answer: Answer;
    if (fault && fault.kind !== "drop-after-commit") answer = answerFault(fault);
    else {
      let body: unknown;
      try {
        body = raw.length ? JSON.parse(raw) : undefined;
      } catch {
        body = Symbol("invalid");
      }
      try {
        answer = route(method, new URL(path, "http://fake"), req.headers.authorization, body);
      } catch (error) {
        if (!(error instanceof DiscordError)) throw error;
        const json: Record<string, unknown> = { message: error.message, code: error.code };
        if (error.errors) json.errors = error.errors;
        answer = { status: error.status, body: json };
      }
    }
    if (fault?.kind === "drop-after-commit") {
      log(0);
      req.socket.resetAndDestroy();
      return;
    }
    log(answer.status);
    send(res, answer);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, { status: 500, body: { message: `fake Discord failed: ${String(error)}`, code: 0 } });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const gatewayUrl = `ws://127.0.0.1:${port}`;

  const fake: Omit<FakeDiscord, "gateway"> & { gateway?: FakeGateway } = {
    url: `http://127.0.0.1:${port}/api`,
    webhookUrl: `http://127.0.0.1:${port}/api/webhooks/${webhook.id}/${webhook.token}`,
    gatewayUrl,
    token,
    server,
    messages,
    edits,
    threads,
    requests,
    setFaults(fn) {
      faults = fn;
    },
    failEvery(n, kinds) {
      const list = kinds.map((kind): Fault => (typeof kind === "string" ? defaultFault(kind) : kind));
      faults = (request) => (request.n % n === 0 ? list[(request.n / n - 1) % list.length] : undefined);
    },
    clearFaults() {
      faults = () => undefined;
    },
    applicationId,
    botUser,
    interactionResponses,
    async waitForInteractionResponses(interactionId, { count = 1, timeoutMs = 5000 } = {}) {
      const matching = () => interactionResponses.filter((r) => r.interactionId === interactionId);
      if (matching().length >= count) return matching();
      return new Promise<FakeInteractionResponse[]>((resolve, reject) => {
        const timer = setTimeout(() => {
          responseListeners.delete(listener);
          reject(
            new Error(
              `Interaction ${interactionId}: ${matching().length} of ${count} responses within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        const listener = () => {
          if (matching().length < count) return;
          clearTimeout(timer);
          responseListeners.delete(listener);
          resolve(matching());
        };
        responseListeners.add(listener);
      });
    },
    trackInteraction(interaction) {
      trackInteraction(interaction);
    },
    recordHttpResponse(interaction, response) {
      const tracked =
        interactions.get(interaction.token) ?? trackInteraction({ ...interaction, acknowledged: true });
      tracked.acknowledged = true;
      const data = (
        typeof response.data === "object" && response.data !== null ? response.data : {}
      ) as Record<string, unknown>;
      if (response.type === 4 || response.type === 7) {
        Object.assign((tracked.original ??= interactionMessage({}, 0)), interactionMessage(data, 0), {
          id: tracked.original.id,
        });
      }
      recordResponse(
        tracked,
        interaction.token,
        "callback",
        data,
        { type: response.type, ...(tracked.original ? { messageId: tracked.original.id } : {}) },
        "http",
      );
    },
    registeredCommands(guildId) {
      return commandScopes.get(guildId ?? "global") ?? [];
    },
    commandWrites,
    seedMessage(seed) {
      const message: FakeMessage = {
        id: nextId(),
        channelId: seed.channelId,
        content: seed.content,
        embeds: seed.embeds ?? [],
        author: seed.author ?? { id: "200000000000000001", username: "ada" },
      };
      messages.push(message);
      return message;
    },
    async close() {
      await fake.gateway?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await closed;
    },
  };
  fake.gateway = attachFakeGateway({ ...options.gateway, server, rest: fake as FakeDiscord });
  return fake as FakeDiscord;
}

interface InteractionMessage {
  id: string;
  content: string;
  embeds: FakeEmbed[];
  components: unknown[];
  flags: number;
}

interface TrackedInteraction {
  id: string;
  token: string;
  channelId?: string;
  createdAt: number;
  acknowledged: boolean;
  original?: InteractionMessage;
  followUps: InteractionMessage[];
}

/** MessageFlags.Ephemeral. */
const EPHEMERAL = 1 << 6;

const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

/** Discord's checks on a command's name, description and options (nested for subcommands). */
function commandProblems(command: Record<string, unknown>, type: number): Record<string, unknown> {
  const problems: Record<string, unknown> = {};
  const name = typeof command.name === "string" ? command.name : "";
  // Chat input names are lower case; context-menu names may have spaces and capitals.
  const nameOk =
    type === 1
      ? COMMAND_NAME.test(name) && name === name.toLowerCase()
      : name.length >= 1 && name.length <= 32;
  if (!nameOk)
    problems.name = {
      _errors: [{ code: "APPLICATION_COMMAND_INVALID_NAME", message: `Command name is invalid` }],
    };
  const description = command.description;
  if (type === 1) {
    if (typeof description !== "string" || description.length < 1 || description.length > 100) {
      problems.description = lengthError("Must be between 1 and 100 in length.");
    }
  } else if (description !== undefined && description !== "") {
    problems.description = {
      _errors: [
        {
          code: "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
          message: "Context menu commands cannot have description",
        },
      ],
    };
  }
  const options = command.options;
  if (options !== undefined) {
    if (!Array.isArray(options) || options.length > 25)
      problems.options = lengthError("Must be 25 or fewer in length.");
    else {
      const optionErrors: Record<string, unknown> = {};
      options.forEach((option: unknown, index) => {
        const own = commandProblems(
          (typeof option === "object" && option !== null ? option : {}) as Record<string, unknown>,
          1,
        );
        if (Object.keys(own).length) optionErrors[index] = own;
      });
      if (Object.keys(optionErrors).length) problems.options = optionErrors;
    }
  }
  return problems;
}

function sameCommand(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const strip = ({ id: _id, version: _version, ...rest }: Record<string, unknown>) => rest;
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function requiredError(): unknown {
  return { _errors: [{ code: "BASE_TYPE_REQUIRED", message: "This field is required" }] };
}

function defaultFault(kind: FaultKind): Fault {
  return kind === "429" ? { kind, retryAfterSeconds: 1 } : { kind };
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { ...answer.headers };
  let payload = "";
  if (typeof answer.body === "string") {
    headers["Content-Type"] = "text/html";
    payload = answer.body;
  } else if (answer.body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(answer.body);
  }
  res.writeHead(answer.status, headers).end(payload);
}

function messageJson(message: FakeMessage): Record<string, unknown> {
  return {
    id: message.id,
    type: 0,
    channel_id: message.channelId,
    content: message.content,
    embeds: message.embeds,
    ...(message.nonce === undefined ? {} : { nonce: message.nonce }),
    ...(message.webhookId === undefined ? {} : { webhook_id: message.webhookId }),
    ...(message.threadId === undefined ? {} : { thread: { id: message.threadId, type: 11 } }),
    author: message.author ?? {
      id: message.webhookId ?? "100000000000000001",
      username: "Switchboard",
      bot: true,
    },
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    mentions: [],
    tts: false,
  };
}

/** The checks Discord applies to a message body; every violation is reported the way Discord nests them. */
function validateMessage(body: Record<string, unknown>, { create }: { create: boolean }): void {
  const errors: Record<string, unknown> = {};
  const content = typeof body.content === "string" ? body.content : "";
  const embeds = Array.isArray(body.embeds) ? (body.embeds as FakeEmbed[]) : [];
  if (content.length > LIMITS.content)
    errors.content = lengthError(`Must be ${LIMITS.content} or fewer in length.`);
  if (body.nonce !== undefined && String(body.nonce).length > LIMITS.nonce) {
    errors.nonce = lengthError(`Must be ${LIMITS.nonce} or fewer in length.`);
  }
  if (embeds.length > LIMITS.embeds)
    errors.embeds = lengthError(`Must be ${LIMITS.embeds} or fewer in length.`);
  const embedErrors: Record<string, unknown> = {};
  let total = 0;
  embeds.slice(0, LIMITS.embeds).forEach((embed, index) => {
    const own: Record<string, unknown> = {};
    const check = (into: Record<string, unknown>, key: string, value: string | undefined, max: number) => {
      total += value?.length ?? 0;
      if ((value?.length ?? 0) > max) into[key] = lengthError(`Must be ${max} or fewer in length.`);
    };
    check(own, "title", embed.title, LIMITS.title);
    check(own, "description", embed.description, LIMITS.description);
    const footer: Record<string, unknown> = {};
    check(footer, "text", embed.footer?.text, LIMITS.footer);
    if (Object.keys(footer).length) own.footer = footer;
    const author: Record<string, unknown> = {};
    check(author, "name", embed.author?.name, LIMITS.author);
    if (Object.keys(author).length) own.author = author;
    const fields = embed.fields ?? [];
    const fieldErrors: Record<string, unknown> = {};
    fields.forEach((field, fieldIndex) => {
      const fieldError: Record<string, unknown> = {};
      check(fieldError, "name", field.name, LIMITS.fieldName);
      check(fieldError, "value", field.value, LIMITS.fieldValue);
      if (Object.keys(fieldError).length) fieldErrors[fieldIndex] = fieldError;
    });
    if (fields.length > LIMITS.fields)
      own.fields = lengthError(`Must be ${LIMITS.fields} or fewer in length.`);
    else if (Object.keys(fieldErrors).length) own.fields = fieldErrors;
    if (Object.keys(own).length) embedErrors[index] = own;
  });
  if (Object.keys(embedErrors).length) errors.embeds = embedErrors;
  if (total > LIMITS.total) {
    errors.embeds = {
      _errors: [{ code: "MAX_EMBED_SIZE_EXCEEDED", message: "Embed size exceeds maximum size of 6000" }],
    };
  }
  if (Object.keys(errors).length) throw invalidForm(errors);
  if (create && !content && embeds.length === 0)
    throw new DiscordError(400, 50006, "Cannot send an empty message");
}

function lengthError(message: string): unknown {
  return { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message }] };
}

function invalidForm(errors: unknown): DiscordError {
  return new DiscordError(400, 50035, "Invalid Form Body", errors);
}
