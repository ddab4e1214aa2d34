/**
 * Drives the bot the way Discord does: builds raw interaction payloads shaped like real ones and delivers
 * them through the fake gateway (or signed, over HTTP), then collects what the bot answered.
 *
 * Payload builders (pure; each returns the raw APIInteraction Discord would send):
 *   chatInput(name, { subcommandGroup?, subcommand?, options? })      /name [group] [sub] option:value
 *   autocomplete(name, { subcommand?, options?, focused })            typing in option `focused`
 *   messageContextMenu(name, { message: { content, author?, id? } })  "Apps > name" on a message
 *   button(customId, { message? })                                    a click on a button
 *   modalSubmit(customId, { fields: { inputId: "text" } })            a submitted modal
 *   Every builder also takes the common fields: `user`, `roles`, `permissions` (decimal string, e.g.
 *   ADMINISTRATOR), `guildId` / `channelId` (defaults: the fake gateway's FAKE_GUILD), `dm: true` for a
 *   direct message (no member), `id`, `token`, `applicationId`, `locale`.
 *   `options` values become typed options: string -> String, integer -> Integer, other number -> Number,
 *   boolean -> Boolean; pass `{ type, value }` for User, Channel, Role, Mentionable or Attachment options.
 *
 * Delivery:
 *   invokeCommand(fake, interaction, { followUps?, timeoutMs?, quietMs? }): dispatches INTERACTION_CREATE
 *     through `fake.gateway` and resolves with an InvocationResult once the bot has answered: the initial
 *     response, and for a deferred one the edit of @original, plus `followUps` follow-ups if asked; then it
 *     waits `quietMs` (default 50) so stray extra answers show up too.
 *   createBotDriver(fake): the same, with the fake bound: `driver.command("help")`,
 *     `driver.invoke(interaction)`.
 *   generateInteractionKeys(): an Ed25519 key pair; `publicKeyHex` is what DISCORD_PUBLIC_KEY takes.
 *   signInteraction(body, privateKey, timestamp?): the X-Signature-* headers Discord sends.
 *   postInteraction(url, interaction, privateKey, { timestamp?, fake? }): POSTs a signed interaction to
 *     `url` (…/discord/interactions); with `fake`, the interaction is registered so REST follow-ups work.
 *   invokeOverHttp(url, fake, interaction, privateKey, options?): posts it signed, records the HTTP answer
 *     as the initial response (`via: "http"`) and resolves like invokeCommand, with `httpStatus` added.
 *   ping(): a PING interaction (type 1).
 */
import { generateKeyPairSync, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type {
  APIApplicationCommandInteractionDataBasicOption,
  APIApplicationCommandInteractionDataOption,
  APIInteraction,
  APIMessage,
} from "discord-api-types/v10";
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ChannelType,
  ComponentType,
  InteractionType,
  PermissionFlagsBits,
} from "discord-api-types/v10";
import { FAKE_CHANNEL_ID, FAKE_GUILD_ID, guildMemberPayload } from "../fakes/discord-gateway.js";
import type { FakeDiscord, FakeInteractionResponse } from "../fakes/discord-server.js";
import { waitUntil } from "./wait-until.js";

export const DEFAULT_USER = { id: "200000000000000001", username: "ada" };
/** View channels, send messages, read history, use application commands: an ordinary member. */
export const MEMBER_PERMISSIONS = String(
  PermissionFlagsBits.ViewChannel |
    PermissionFlagsBits.SendMessages |
    PermissionFlagsBits.ReadMessageHistory |
    PermissionFlagsBits.UseApplicationCommands,
);
export const ADMINISTRATOR = String(PermissionFlagsBits.Administrator);

export type OptionInput =
  string | number | boolean | { type: ApplicationCommandOptionType; value: string | number | boolean };

export interface CommonOptions {
  id?: string;
  token?: string;
  applicationId?: string;
  user?: { id: string; username: string };
  /** Role ids the member has. */
  roles?: string[];
  /** The member's permissions in the channel, as Discord computes them. Default MEMBER_PERMISSIONS. */
  permissions?: string;
  guildId?: string;
  channelId?: string;
  /** A direct message: `user` instead of `member`, no guild. */
  dm?: boolean;
  locale?: string;
}

let lastSnowflake = 0n;
/** A fresh snowflake, increasing, with the current time in it as Discord's are. */
export function snowflake(): string {
  const candidate = (BigInt(Date.now()) - 1_420_070_400_000n) << 22n;
  lastSnowflake = candidate > lastSnowflake ? candidate : lastSnowflake + 1n;
  return String(lastSnowflake);
}

const DEFAULT_APPLICATION_ID = "100000000000000001";

function base(common: CommonOptions) {
  const id = common.id ?? snowflake();
  const user = {
    id: common.user?.id ?? DEFAULT_USER.id,
    username: common.user?.username ?? DEFAULT_USER.username,
    discriminator: "0",
    global_name: null,
    avatar: null,
  };
  const guildId = common.dm ? undefined : (common.guildId ?? FAKE_GUILD_ID);
  const channelId = common.channelId ?? FAKE_CHANNEL_ID;
  const locale = common.locale ?? "en-US";
  return {
    id,
    application_id: common.applicationId ?? DEFAULT_APPLICATION_ID,
    token: common.token ?? `interaction-token-${id}`,
    version: 1,
    locale,
    app_permissions: MEMBER_PERMISSIONS,
    entitlements: [],
    attachment_size_limit: 10_485_760,
    channel_id: channelId,
    ...(guildId
      ? {
          guild_id: guildId,
          guild: { id: guildId, locale, features: [] },
          guild_locale: "en-US",
          channel: { id: channelId, type: ChannelType.GuildText, name: "general", guild_id: guildId },
          member: {
            ...guildMemberPayload(user, common.roles ?? [], "2024-01-01T00:00:00.000000+00:00"),
            permissions: common.permissions ?? MEMBER_PERMISSIONS,
          },
          authorizing_integration_owners: { "0": guildId },
          context: 0,
        }
      : {
          user,
          channel: { id: channelId, type: ChannelType.DM, recipients: [user] },
          authorizing_integration_owners: { "1": user.id },
          context: 1,
        }),
  };
}

function toOptions(values: Record<string, OptionInput> | undefined, focused?: string) {
  return Object.entries(values ?? {}).map(
    ([name, input]): APIApplicationCommandInteractionDataBasicOption => {
      const { type, value } =
        typeof input === "object"
          ? input
          : typeof input === "string"
            ? { type: ApplicationCommandOptionType.String, value: input }
            : typeof input === "boolean"
              ? { type: ApplicationCommandOptionType.Boolean, value: input }
              : Number.isInteger(input)
                ? { type: ApplicationCommandOptionType.Integer, value: input }
                : { type: ApplicationCommandOptionType.Number, value: input };
      return {
        name,
        type,
        value,
        ...(name === focused ? { focused: true } : {}),
      } as APIApplicationCommandInteractionDataBasicOption;
    },
  );
}

function nestOptions(
  options: APIApplicationCommandInteractionDataBasicOption[],
  subcommand: string | undefined,
  subcommandGroup: string | undefined,
): APIApplicationCommandInteractionDataOption[] {
  if (!subcommand) return options;
  const sub = { name: subcommand, type: ApplicationCommandOptionType.Subcommand, options } as const;
  if (!subcommandGroup) return [sub];
  return [{ name: subcommandGroup, type: ApplicationCommandOptionType.SubcommandGroup, options: [sub] }];
}

export interface ChatInputOptions extends CommonOptions {
  subcommandGroup?: string;
  subcommand?: string;
  options?: Record<string, OptionInput>;
  /** `resolved` data for user/channel/role options, as Discord sends it. */
  resolved?: Record<string, unknown>;
}

export function chatInput(name: string, options: ChatInputOptions = {}): APIInteraction {
  const values = nestOptions(toOptions(options.options), options.subcommand, options.subcommandGroup);
  return {
    ...base(options),
    type: InteractionType.ApplicationCommand,
    data: {
      id: snowflake(),
      name,
      type: ApplicationCommandType.ChatInput,
      ...(values.length ? { options: values } : {}),
      ...(options.resolved ? { resolved: options.resolved } : {}),
      ...(options.dm ? {} : { guild_id: options.guildId ?? FAKE_GUILD_ID }),
    },
  } as unknown as APIInteraction;
}

export function autocomplete(name: string, options: ChatInputOptions & { focused: string }): APIInteraction {
  const values = nestOptions(
    toOptions(options.options, options.focused),
    options.subcommand,
    options.subcommandGroup,
  );
  return {
    ...base(options),
    type: InteractionType.ApplicationCommandAutocomplete,
    data: { id: snowflake(), name, type: ApplicationCommandType.ChatInput, options: values },
  } as unknown as APIInteraction;
}

export interface TargetMessage {
  id?: string;
  content: string;
  author?: { id: string; username: string; bot?: boolean };
  channelId?: string;
}

function messageJson(message: TargetMessage, channelId: string, extra: Record<string, unknown> = {}) {
  return {
    id: message.id ?? snowflake(),
    type: 0,
    channel_id: message.channelId ?? channelId,
    content: message.content,
    author: { discriminator: "0", global_name: null, avatar: null, ...(message.author ?? DEFAULT_USER) },
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    flags: 0,
    components: [],
    ...extra,
  } as unknown as APIMessage;
}

export function messageContextMenu(
  name: string,
  options: CommonOptions & { message: TargetMessage },
): APIInteraction {
  const common = base(options);
  const message = messageJson(options.message, common.channel_id);
  return {
    ...common,
    type: InteractionType.ApplicationCommand,
    data: {
      id: snowflake(),
      name,
      type: ApplicationCommandType.Message,
      target_id: message.id,
      resolved: { messages: { [message.id]: message } },
      ...("guild_id" in common ? { guild_id: common.guild_id } : {}),
    },
  } as unknown as APIInteraction;
}

export function button(
  customId: string,
  options: CommonOptions & { message?: TargetMessage } = {},
): APIInteraction {
  const common = base(options);
  const message = messageJson(
    options.message ?? {
      content: "",
      author: { id: DEFAULT_APPLICATION_ID, username: "Switchboard", bot: true },
    },
    common.channel_id,
    {
      components: [
        {
          type: ComponentType.ActionRow,
          components: [{ type: ComponentType.Button, style: 1, custom_id: customId, label: customId }],
        },
      ],
    },
  );
  return {
    ...common,
    type: InteractionType.MessageComponent,
    message,
    data: { custom_id: customId, component_type: ComponentType.Button },
  } as unknown as APIInteraction;
}

export function modalSubmit(
  customId: string,
  options: CommonOptions & { fields: Record<string, string> },
): APIInteraction {
  return {
    ...base(options),
    type: InteractionType.ModalSubmit,
    data: {
      custom_id: customId,
      components: Object.entries(options.fields).map(([id, value]) => ({
        type: ComponentType.ActionRow,
        components: [{ type: ComponentType.TextInput, custom_id: id, value }],
      })),
    },
  } as unknown as APIInteraction;
}

export interface InvocationResult {
  interaction: APIInteraction;
  /** Every answer, in order: callback, edits of @original, follow-ups. */
  responses: FakeInteractionResponse[];
  /** The initial response (the REST callback). */
  initial: FakeInteractionResponse;
  /** Whether the initial response was a deferral (type 5 or 6). */
  deferred: boolean;
  /** Whether the user alone sees the answer (the initial response's ephemeral flag). */
  ephemeral: boolean;
  /** What the user finally sees: the reply, or the last edit of a deferred one. */
  content: string;
  /** The final answer's data (content, embeds, components). */
  data: Record<string, unknown>;
  followUps: FakeInteractionResponse[];
}

export interface InvokeOptions {
  /** Wait for this many follow-ups too. Default 0. */
  followUps?: number;
  /** Default 10 s: a deferred command may run long. */
  timeoutMs?: number;
  /** After the answer, how long no further answer must arrive. Default 50 ms. */
  quietMs?: number;
}

/** Delivers `interaction` over the fake gateway and resolves once the bot has answered it. */
export async function invokeCommand(
  fake: FakeDiscord,
  interaction: APIInteraction,
  options: InvokeOptions = {},
): Promise<InvocationResult> {
  const reached = fake.gateway.dispatch(
    "INTERACTION_CREATE",
    interaction as unknown as Record<string, unknown>,
  );
  if (reached === 0)
    throw new Error("No gateway session to deliver the interaction to: is the bot logged in?");
  return collectAnswers(fake, interaction, options);
}

/** Waits for the bot's answers to an interaction that was delivered some other way (e.g. over HTTP). */
export async function collectAnswers(
  fake: FakeDiscord,
  interaction: APIInteraction,
  { followUps = 0, timeoutMs = 10_000, quietMs = 50 }: InvokeOptions = {},
): Promise<InvocationResult> {
  const mine = () => fake.interactionResponses.filter((r) => r.interactionId === interaction.id);
  const settled = () => {
    const responses = mine();
    const initial = responses.find((r) => r.kind === "callback");
    if (!initial) return false;
    const deferred = initial.type === 5 || initial.type === 6;
    if (deferred && !responses.some((r) => r.kind === "edit-original")) return false;
    return responses.filter((r) => r.kind === "follow-up").length >= followUps;
  };
  await waitUntil(settled, timeoutMs, 10).catch(() => {
    throw new Error(
      `Interaction ${interaction.id} not answered within ${timeoutMs} ms; got: ${JSON.stringify(mine())}`,
    );
  });
  let count = mine().length;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    if (mine().length === count) break;
    count = mine().length;
  }
  return describeAnswers(interaction, mine());
}

function describeAnswers(
  interaction: APIInteraction,
  responses: FakeInteractionResponse[],
): InvocationResult {
  const initial = responses.find((r) => r.kind === "callback")!;
  const edits = responses.filter((r) => r.kind === "edit-original");
  const final = edits.at(-1) ?? initial;
  return {
    interaction,
    responses,
    initial,
    deferred: initial.type === 5 || initial.type === 6,
    ephemeral: initial.ephemeral,
    content: final.content,
    data: final.data,
    followUps: responses.filter((r) => r.kind === "follow-up"),
  };
}

export interface BotDriver {
  fake: FakeDiscord;
  invoke(interaction: APIInteraction, options?: InvokeOptions): Promise<InvocationResult>;
  /** `/name` with the given builder options, delivered over the gateway. */
  command(name: string, options?: ChatInputOptions & InvokeOptions): Promise<InvocationResult>;
}

export function createBotDriver(fake: FakeDiscord): BotDriver {
  return {
    fake,
    invoke: (interaction, options) => invokeCommand(fake, withApplication(fake, interaction), options),
    command: (name, options = {}) => {
      const { followUps, timeoutMs, quietMs, ...payload } = options;
      return invokeCommand(fake, chatInput(name, { applicationId: fake.applicationId, ...payload }), {
        ...(followUps === undefined ? {} : { followUps }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(quietMs === undefined ? {} : { quietMs }),
      });
    },
  };
}

function withApplication(fake: FakeDiscord, interaction: APIInteraction): APIInteraction {
  return { ...interaction, application_id: fake.applicationId };
}

// ---- HTTP interactions ----

export interface InteractionKeys {
  /** 64 hex characters: the raw Ed25519 public key, as the Developer Portal shows it. */
  publicKeyHex: string;
  privateKey: KeyObject;
}

export function generateInteractionKeys(): InteractionKeys {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  // SPKI DER of an Ed25519 key is a fixed 12-byte prefix followed by the 32-byte key.
  const der = publicKey.export({ format: "der", type: "spki" });
  return { publicKeyHex: der.subarray(12).toString("hex"), privateKey };
}

/** Discord signs `timestamp + body` with the application's key. */
export function signInteraction(
  body: string,
  privateKey: KeyObject,
  timestamp: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = sign(null, Buffer.from(`${timestamp}${body}`), privateKey).toString("hex");
  return {
    "content-type": "application/json",
    "x-signature-ed25519": signature,
    "x-signature-timestamp": String(timestamp),
    "user-agent": "Discord-Interactions/1.0 (+https://discord.com)",
  };
}

export async function postInteraction(
  url: string,
  interaction:
    | APIInteraction
    | { type: InteractionType.Ping; id: string; application_id: string; token: string; version: 1 },
  privateKey: KeyObject,
  options: { timestamp?: number; fake?: FakeDiscord } = {},
): Promise<Response> {
  const body = JSON.stringify(interaction);
  // The HTTP response is the initial answer: the fake learns of it here, so REST edits and follow-ups work.
  options.fake?.trackInteraction({ id: interaction.id, token: interaction.token, acknowledged: true });
  return fetch(url, { method: "POST", headers: signInteraction(body, privateKey, options.timestamp), body });
}

/** Delivers `interaction` to an HTTP interactions endpoint, signed, and collects every answer. */
export async function invokeOverHttp(
  url: string,
  fake: FakeDiscord,
  interaction: APIInteraction,
  privateKey: KeyObject,
  options: InvokeOptions = {},
): Promise<InvocationResult & { httpStatus: number }> {
  const response = await postInteraction(url, interaction, privateKey, { fake });
  if (response.status !== 200) {
    throw new Error(`The interactions endpoint answered ${response.status}: ${await response.text()}`);
  }
  fake.recordHttpResponse(interaction, (await response.json()) as { type: number; data?: unknown });
  return { ...(await collectAnswers(fake, interaction, options)), httpStatus: response.status };
}

/** A PING, as Discord sends when the interactions endpoint URL is saved in the Developer Portal. */
export function ping(): {
  type: InteractionType.Ping;
  id: string;
  application_id: string;
  token: string;
  version: 1;
} {
  const id = snowflake();
  return {
    type: InteractionType.Ping,
    id,
    application_id: DEFAULT_APPLICATION_ID,
    token: `ping-${id}`,
    version: 1,
  };
}
