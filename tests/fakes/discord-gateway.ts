/**
 * A fake Discord gateway (API v10, JSON encoding, no compression) on the fake REST server's port, so that
 * `GET /gateway/bot` points a real discord.js client here. It speaks the handshake the way Discord does:
 * HELLO, IDENTIFY -> READY (guilds unavailable) -> one GUILD_CREATE per guild, heartbeats acknowledged,
 * RESUME with replay of what the session missed (or INVALID_SESSION when it cannot resume), and the close
 * codes Discord uses for a bad token (4004), an unknown opcode (4001) and privileged intents the app was
 * not granted (4014). Events are filtered by the intents the client identified with, and message events
 * lose their content without the MessageContent intent, so a client asking for too few intents misses
 * exactly what it would miss in production.
 *
 * Tests drive it with `dispatch(t, d)` (INTERACTION_CREATE, MESSAGE_REACTION_ADD, ...) and
 * `disconnectAll(code)` to check that the client reconnects by itself.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { GatewayIntentBits, GatewayOpcodes } from "discord-api-types/v10";
import { WebSocket, WebSocketServer } from "ws";
import type { RawData } from "ws";
import type { FakeDiscord } from "./discord-server.js";

export interface FakeChannel {
  id: string;
  name: string;
  /** ChannelType; 0 (guild text) by default. */
  type?: number;
  parent_id?: string | null;
}

export interface FakeRole {
  id: string;
  name: string;
  /** Permission bit set as a decimal string; "0" by default. */
  permissions?: string;
}

export interface FakeMember {
  user: { id: string; username: string; bot?: boolean };
  roles?: string[];
}

export interface FakeGuild {
  id: string;
  name?: string;
  channels?: FakeChannel[];
  /** Besides @everyone (whose id is the guild id), which is always there. */
  roles?: FakeRole[];
  /** Sent in GUILD_CREATE only when the client has the GuildMembers intent, as Discord does. */
  members?: FakeMember[];
}

export interface FakeGatewayOptions {
  /** The fake REST server whose port the gateway shares. */
  server: Server;
  rest: FakeDiscord;
  /** Default: one guild, FAKE_GUILD, with a text channel and two roles. */
  guilds?: FakeGuild[];
  /** HELLO's heartbeat_interval. Default 41250 ms, Discord's usual value. */
  heartbeatIntervalMs?: number;
  /**
   * Privileged intents enabled for the app in the Developer Portal. Default: MessageContent only; asking for
   * GuildMembers or GuildPresences without them closes the connection with 4014, as Discord does.
   */
  privilegedIntents?: number;
}

export interface FakeIdentify {
  token: string;
  intents: number;
  shard?: [number, number];
  at: number;
}

export interface FakeGateway {
  /** `ws://127.0.0.1:PORT`, what `GET /gateway/bot` answers and READY's resume_gateway_url. */
  url: string;
  guilds: FakeGuild[];
  /** Every IDENTIFY received, in order (token as sent: tests can check it is the bot token). */
  identifies: FakeIdentify[];
  /** Every RESUME received, and whether the session could be resumed. */
  resumes: Array<{ sessionId: string; seq: number; resumed: boolean }>;
  /** Heartbeats received (each acknowledged with op 11). */
  heartbeats: number;
  /** Handshakes completed: READY sent after IDENTIFY, plus RESUMED sent after RESUME. */
  handshakes(): number;
  /** Open connections that identified or resumed. */
  liveSessions(): number;
  /** Resolves once `handshakes() >= minHandshakes` (default 1) and a session is live. */
  waitForSession(options?: { minHandshakes?: number; timeoutMs?: number }): Promise<void>;
  /**
   * Sends a dispatch (op 0) to every session whose intents cover it, with the session's next sequence
   * number; a session that is disconnected but resumable gets it on RESUME. INTERACTION_CREATE is also
   * registered with the fake REST (deadline, acknowledgement rules). Returns how many sessions get it.
   */
  dispatch(t: string, d: Record<string, unknown>): number;
  /** Closes every connection with `code` (default 4000, which clients resume after). */
  disconnectAll(code?: number, options?: { resumable?: boolean }): void;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

export const FAKE_GUILD_ID = "300000000000000001";
export const FAKE_CHANNEL_ID = "300000000000000010";
export const FAKE_MAINTAINER_ROLE_ID = "300000000000000020";
export const FAKE_RELEASER_ROLE_ID = "300000000000000021";

export const FAKE_GUILD: FakeGuild = {
  id: FAKE_GUILD_ID,
  name: "Acme",
  channels: [
    { id: FAKE_CHANNEL_ID, name: "general" },
    { id: "300000000000000011", name: "deploys" },
  ],
  roles: [
    { id: FAKE_MAINTAINER_ROLE_ID, name: "Maintainers" },
    { id: FAKE_RELEASER_ROLE_ID, name: "Releasers" },
  ],
  members: [{ user: { id: "200000000000000001", username: "ada" }, roles: [FAKE_MAINTAINER_ROLE_ID] }],
};

/** A guild member object as Discord sends it (in GUILD_CREATE and in an interaction's `member`). */
export function guildMemberPayload<User>(
  user: User,
  roles: string[],
  joinedAt: string,
): {
  user: User;
  roles: string[];
  joined_at: string;
  deaf: false;
  mute: false;
  flags: 0;
  nick: null;
  avatar: null;
  premium_since: null;
  pending: false;
} {
  return {
    user,
    roles,
    joined_at: joinedAt,
    deaf: false,
    mute: false,
    flags: 0,
    nick: null,
    avatar: null,
    premium_since: null,
    pending: false,
  };
}

const PRIVILEGED_INTENTS =
  GatewayIntentBits.GuildMembers | GatewayIntentBits.GuildPresences | GatewayIntentBits.MessageContent;

/** The intent each event needs; events not listed (READY, INTERACTION_CREATE, ...) need none. */
const EVENT_INTENTS: Record<string, { guild: number; direct?: number }> = {
  GUILD_CREATE: { guild: GatewayIntentBits.Guilds },
  GUILD_UPDATE: { guild: GatewayIntentBits.Guilds },
  GUILD_DELETE: { guild: GatewayIntentBits.Guilds },
  GUILD_ROLE_CREATE: { guild: GatewayIntentBits.Guilds },
  GUILD_ROLE_UPDATE: { guild: GatewayIntentBits.Guilds },
  GUILD_ROLE_DELETE: { guild: GatewayIntentBits.Guilds },
  CHANNEL_CREATE: { guild: GatewayIntentBits.Guilds },
  CHANNEL_UPDATE: { guild: GatewayIntentBits.Guilds },
  CHANNEL_DELETE: { guild: GatewayIntentBits.Guilds },
  THREAD_CREATE: { guild: GatewayIntentBits.Guilds },
  THREAD_UPDATE: { guild: GatewayIntentBits.Guilds },
  THREAD_DELETE: { guild: GatewayIntentBits.Guilds },
  GUILD_MEMBER_ADD: { guild: GatewayIntentBits.GuildMembers },
  GUILD_MEMBER_UPDATE: { guild: GatewayIntentBits.GuildMembers },
  GUILD_MEMBER_REMOVE: { guild: GatewayIntentBits.GuildMembers },
  MESSAGE_CREATE: { guild: GatewayIntentBits.GuildMessages, direct: GatewayIntentBits.DirectMessages },
  MESSAGE_UPDATE: { guild: GatewayIntentBits.GuildMessages, direct: GatewayIntentBits.DirectMessages },
  MESSAGE_DELETE: { guild: GatewayIntentBits.GuildMessages, direct: GatewayIntentBits.DirectMessages },
  MESSAGE_REACTION_ADD: {
    guild: GatewayIntentBits.GuildMessageReactions,
    direct: GatewayIntentBits.DirectMessageReactions,
  },
  MESSAGE_REACTION_REMOVE: {
    guild: GatewayIntentBits.GuildMessageReactions,
    direct: GatewayIntentBits.DirectMessageReactions,
  },
  TYPING_START: {
    guild: GatewayIntentBits.GuildMessageTyping,
    direct: GatewayIntentBits.DirectMessageTyping,
  },
};

/** Discord keeps a session's missed events for a while; the fake keeps the latest of them. */
const REPLAY_LIMIT = 1000;

interface Session {
  id: string;
  shard: string;
  seq: number;
  intents: number;
  log: Array<{ s: number; t: string; d: unknown }>;
  connection: Connection | undefined;
  resumable: boolean;
}

interface Connection {
  socket: WebSocket;
  session: Session | undefined;
}

export function attachFakeGateway(options: FakeGatewayOptions): FakeGateway {
  const { server, rest } = options;
  const guilds = options.guilds ?? [FAKE_GUILD];
  const heartbeatInterval = options.heartbeatIntervalMs ?? 41_250;
  const allowedPrivileged = options.privilegedIntents ?? GatewayIntentBits.MessageContent;
  const url = rest.gatewayUrl;
  const wss = new WebSocketServer({ noServer: true });
  const sessions = new Map<string, Session>();
  const connections = new Set<Connection>();
  const identifies: FakeIdentify[] = [];
  const resumes: FakeGateway["resumes"] = [];
  const listeners = new Set<() => void>();
  let handshakes = 0;
  let heartbeats = 0;

  const notify = () => {
    for (const listener of listeners) listener();
  };

  function send(
    connection: Connection,
    payload: { op: number; d: unknown; s?: number | null; t?: string | null },
  ) {
    if (connection.socket.readyState !== WebSocket.OPEN) return;
    connection.socket.send(JSON.stringify({ s: null, t: null, ...payload }));
  }

  function sendDispatch(session: Session, t: string, d: unknown): void {
    const s = ++session.seq;
    session.log.push({ s, t, d });
    if (session.log.length > REPLAY_LIMIT) session.log.shift();
    if (session.connection) send(session.connection, { op: GatewayOpcodes.Dispatch, s, t, d });
  }

  function wants(session: Session, t: string, d: Record<string, unknown>): boolean {
    const needed = EVENT_INTENTS[t];
    if (!needed) return true;
    const bit = d.guild_id === undefined && needed.direct !== undefined ? needed.direct : needed.guild;
    return (session.intents & bit) === bit;
  }

  /** Without MessageContent, Discord blanks content except in DMs, mentions and the bot's own messages. */
  function shapeForSession(session: Session, t: string, d: Record<string, unknown>): Record<string, unknown> {
    if (t !== "MESSAGE_CREATE" && t !== "MESSAGE_UPDATE") return d;
    if ((session.intents & GatewayIntentBits.MessageContent) !== 0 || d.guild_id === undefined) return d;
    const author = d.author as { id?: string } | undefined;
    const mentions = Array.isArray(d.mentions) ? (d.mentions as Array<{ id?: string }>) : [];
    if (author?.id === rest.botUser.id || mentions.some((user) => user.id === rest.botUser.id)) return d;
    return { ...d, content: "", embeds: [], attachments: [], components: [] };
  }

  function guildCreate(guild: FakeGuild, intents: number): Record<string, unknown> {
    const joinedAt = new Date().toISOString();
    const member = (user: FakeMember["user"] & Record<string, unknown>, roles: string[]) =>
      guildMemberPayload(user, roles, joinedAt);
    const members = [
      member(rest.botUser, []),
      ...((intents & GatewayIntentBits.GuildMembers) !== 0
        ? (guild.members ?? []).map((m) =>
            member({ discriminator: "0", global_name: null, avatar: null, ...m.user }, m.roles ?? []),
          )
        : []),
    ];
    const role = (r: FakeRole, position: number) => ({
      id: r.id,
      name: r.name,
      permissions: r.permissions ?? "0",
      position,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      managed: false,
      mentionable: false,
      flags: 0,
    });
    return {
      id: guild.id,
      name: guild.name ?? "Fake guild",
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: (guild.members ?? [])[0]?.user.id ?? "200000000000000001",
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      preferred_locale: "en-US",
      features: [],
      application_id: null,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      vanity_url_code: null,
      max_members: 500000,
      roles: [
        // @everyone: view channels, send messages, read history, use application commands.
        role({ id: guild.id, name: "@everyone", permissions: "2147552256" }, 0),
        ...(guild.roles ?? []).map((r, index) => role(r, index + 1)),
      ],
      emojis: [],
      stickers: [],
      joined_at: joinedAt,
      large: false,
      unavailable: false,
      member_count: members.length + (guild.members?.length ?? 0),
      voice_states: [],
      members,
      channels: (guild.channels ?? []).map((channel, position) => ({
        id: channel.id,
        type: channel.type ?? 0,
        name: channel.name,
        position,
        permission_overwrites: [],
        parent_id: channel.parent_id ?? null,
        topic: null,
        nsfw: false,
        last_message_id: null,
        rate_limit_per_user: 0,
        flags: 0,
      })),
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  function identify(connection: Connection, d: Record<string, unknown>): void {
    const intents = typeof d.intents === "number" ? d.intents : NaN;
    identifies.push({
      token: String(d.token),
      intents,
      ...(Array.isArray(d.shard) ? { shard: d.shard as [number, number] } : {}),
      at: Date.now(),
    });
    if (connection.session) return connection.socket.close(4005, "Already authenticated.");
    if (d.token !== rest.token) return connection.socket.close(4004, "Authentication failed.");
    if (!Number.isInteger(intents) || intents < 0) return connection.socket.close(4013, "Invalid intent(s).");
    if ((intents & PRIVILEGED_INTENTS & ~allowedPrivileged) !== 0) {
      return connection.socket.close(4014, "Disallowed intent(s).");
    }
    const shard = JSON.stringify(Array.isArray(d.shard) ? d.shard : [0, 1]);
    // A new IDENTIFY for the same shard abandons the shard's earlier sessions.
    for (const old of sessions.values()) if (old.shard === shard && !old.connection) old.resumable = false;
    const session: Session = {
      id: randomBytes(16).toString("hex"),
      shard,
      seq: 0,
      intents,
      log: [],
      connection,
      resumable: true,
    };
    sessions.set(session.id, session);
    connection.session = session;
    sendDispatch(session, "READY", {
      v: 10,
      user: rest.botUser,
      user_settings: {},
      guilds: guilds.map((guild) => ({ id: guild.id, unavailable: true })),
      session_id: session.id,
      session_type: "normal",
      resume_gateway_url: url,
      shard: Array.isArray(d.shard) ? d.shard : [0, 1],
      application: { id: rest.applicationId, flags: 0 },
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      auth: {},
    });
    if ((intents & GatewayIntentBits.Guilds) !== 0) {
      for (const guild of guilds) sendDispatch(session, "GUILD_CREATE", guildCreate(guild, intents));
    }
    handshakes += 1;
    notify();
  }

  function resume(connection: Connection, d: Record<string, unknown>): void {
    const sessionId = String(d.session_id);
    const seq = typeof d.seq === "number" ? d.seq : 0;
    if (d.token !== rest.token) return connection.socket.close(4004, "Authentication failed.");
    const session = sessions.get(sessionId);
    if (!session || !session.resumable || seq > session.seq) {
      resumes.push({ sessionId, seq, resumed: false });
      // d: false: the session cannot be resumed; the client must IDENTIFY again on a new connection.
      send(connection, { op: GatewayOpcodes.InvalidSession, d: false });
      return;
    }
    resumes.push({ sessionId, seq, resumed: true });
    session.connection?.socket.close(4000, "Session resumed elsewhere.");
    session.connection = connection;
    connection.session = session;
    for (const missed of session.log.filter((entry) => entry.s > seq)) {
      send(connection, { op: GatewayOpcodes.Dispatch, ...missed });
    }
    sendDispatch(session, "RESUMED", {});
    handshakes += 1;
    notify();
  }

  function onMessage(connection: Connection, raw: RawData): void {
    let payload: { op?: unknown; d?: unknown };
    try {
      payload = JSON.parse(raw.toString()) as { op?: unknown; d?: unknown };
    } catch {
      return connection.socket.close(4002, "Error while decoding payload.");
    }
    const d = (typeof payload.d === "object" && payload.d !== null ? payload.d : {}) as Record<
      string,
      unknown
    >;
    switch (payload.op) {
      case GatewayOpcodes.Heartbeat:
        heartbeats += 1;
        send(connection, { op: GatewayOpcodes.HeartbeatAck, d: null });
        return;
      case GatewayOpcodes.Identify:
        return identify(connection, d);
      case GatewayOpcodes.Resume:
        return resume(connection, d);
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
      case GatewayOpcodes.RequestGuildMembers:
      case GatewayOpcodes.RequestSoundboardSounds:
        if (!connection.session) return connection.socket.close(4003, "Not authenticated.");
        return;
      default:
        return connection.socket.close(4001, "Unknown opcode.");
    }
  }

  wss.on("connection", (socket: WebSocket, request: IncomingMessage) => {
    const connection: Connection = { socket, session: undefined };
    connections.add(connection);
    socket.on("error", () => {});
    socket.on("close", () => {
      connections.delete(connection);
      if (connection.session?.connection === connection) connection.session.connection = undefined;
      notify();
    });
    socket.on("message", (raw) => onMessage(connection, raw));
    const query = new URL(request.url ?? "/", "http://fake").searchParams;
    if (query.get("v") !== "10") return socket.close(4012, "Invalid API version.");
    if ((query.get("encoding") ?? "json") !== "json")
      return socket.close(4002, "Only JSON encoding is faked.");
    send(connection, { op: GatewayOpcodes.Hello, d: { heartbeat_interval: heartbeatInterval } });
  });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
  };
  server.on("upgrade", onUpgrade);

  const liveSessions = () =>
    [...connections].filter((c) => c.session && c.socket.readyState === WebSocket.OPEN).length;

  return {
    url,
    guilds,
    identifies,
    resumes,
    get heartbeats() {
      return heartbeats;
    },
    handshakes: () => handshakes,
    liveSessions,
    waitForSession({ minHandshakes = 1, timeoutMs = 10_000 } = {}) {
      const done = () => handshakes >= minHandshakes && liveSessions() > 0;
      if (done()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`No live gateway session after ${handshakes} handshakes within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = () => {
          if (!done()) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve();
        };
        listeners.add(listener);
      });
    },
    dispatch(t, d) {
      if (t === "INTERACTION_CREATE") {
        const channel = d.channel as { id?: string } | undefined;
        const channelId = channel?.id ?? (typeof d.channel_id === "string" ? d.channel_id : undefined);
        rest.trackInteraction({
          id: String(d.id),
          token: String(d.token),
          ...(channelId ? { channelId } : {}),
        });
      }
      let reached = 0;
      for (const session of sessions.values()) {
        if (!session.resumable || !wants(session, t, d)) continue;
        sendDispatch(session, t, shapeForSession(session, t, d));
        reached += 1;
      }
      return reached;
    },
    disconnectAll(code = 4000, { resumable = true } = {}) {
      for (const connection of connections) {
        if (!resumable && connection.session) connection.session.resumable = false;
        connection.socket.close(code, "Disconnected by the fake gateway.");
      }
      if (!resumable) for (const session of sessions.values()) session.resumable = false;
    },
    async close() {
      server.off("upgrade", onUpgrade);
      for (const connection of connections) connection.socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
