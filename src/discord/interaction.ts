/**
 * One shape for every interaction, whether it came over the gateway or as an HTTP POST: the raw API
 * payload, read through small accessors, and a responder that knows how to answer on that path.
 */
import type {
  APIApplicationCommandInteractionDataOption,
  APIInteraction,
  APIInteractionResponse,
  APIMessage,
  APIModalInteractionResponseCallbackData,
  APICommandAutocompleteInteractionResponseCallbackData,
  APIInteractionResponseCallbackData,
} from "discord-api-types/v10";
import { ApplicationCommandOptionType, InteractionType } from "discord-api-types/v10";
import type { DiscordMessage } from "./render/message.js";

export type OptionValue = string | number | boolean;

/** A reply: our message shape plus interaction-only fields (components, ephemeral flag handled by respond). */
export type InteractionReply = Omit<
  APIInteractionResponseCallbackData,
  "allowed_mentions" | "embeds" | "content"
> &
  Partial<DiscordMessage>;

/**
 * Answers one interaction. The first answer acknowledges it (Discord requires that within 3 seconds);
 * later ones edit the original response or follow up. Implementations: REST callback (gateway) and the
 * HTTP response itself (interactions endpoint).
 */
export interface InteractionResponder {
  /** Whether the interaction has been acknowledged (replied, deferred, modal shown, autocomplete answered). */
  readonly acknowledged: boolean;
  /** Show "thinking…"; `reply` then edits the deferred response. */
  defer(options: { ephemeral: boolean }): Promise<void>;
  /** Reply, or edit the deferred response. */
  reply(message: InteractionReply, options?: { ephemeral?: boolean }): Promise<void>;
  /** A further message after the first reply. */
  followUp(message: InteractionReply, options?: { ephemeral?: boolean }): Promise<APIMessage | undefined>;
  /** Replace the message a button was on (component interactions). */
  updateMessage(message: InteractionReply): Promise<void>;
  showModal(modal: APIModalInteractionResponseCallbackData): Promise<void>;
  autocomplete(choices: APICommandAutocompleteInteractionResponseCallbackData["choices"]): Promise<void>;
}

/** Sends an initial interaction response; the two transports differ only here. */
export type SendInitialResponse = (response: APIInteractionResponse) => Promise<void>;

export interface InvocationOptions {
  subcommandGroup?: string;
  subcommand?: string;
  values: Map<string, OptionValue>;
  /** For autocomplete: the option being typed. */
  focused?: { name: string; value: string };
}

/**
 * Flattens chat-input options, descending into a subcommand group and subcommand. Buttons, selects and
 * modals carry no options; their custom_id's second segment (`deploy:approve:42` -> `approve`) stands in
 * for the subcommand, so `Command.access.subcommands` governs who may press them.
 */
export function readOptions(interaction: APIInteraction): InvocationOptions {
  const result: InvocationOptions = { values: new Map() };
  if (
    interaction.type === InteractionType.MessageComponent ||
    interaction.type === InteractionType.ModalSubmit
  ) {
    const action = interaction.data.custom_id.split(":")[1];
    if (action) result.subcommand = action;
    return result;
  }
  if (
    interaction.type !== InteractionType.ApplicationCommand &&
    interaction.type !== InteractionType.ApplicationCommandAutocomplete
  ) {
    return result;
  }
  const data = interaction.data as { options?: APIApplicationCommandInteractionDataOption[] };
  const visit = (options: APIApplicationCommandInteractionDataOption[] | undefined) => {
    for (const option of options ?? []) {
      if (option.type === ApplicationCommandOptionType.SubcommandGroup) {
        result.subcommandGroup = option.name;
        visit(option.options);
      } else if (option.type === ApplicationCommandOptionType.Subcommand) {
        result.subcommand = option.name;
        visit(option.options);
      } else if ("value" in option) {
        result.values.set(option.name, option.value);
        if ("focused" in option && option.focused)
          result.focused = { name: option.name, value: String(option.value) };
      }
    }
  };
  visit(data.options);
  return result;
}

export interface InteractionUser {
  id: string;
  username: string;
  /** Role ids of the member in the guild; empty in DMs. */
  roles: string[];
}

export function interactionUser(interaction: APIInteraction): InteractionUser {
  const member = interaction.member;
  const user = member?.user ?? interaction.user;
  return { id: user?.id ?? "unknown", username: user?.username ?? "unknown", roles: member?.roles ?? [] };
}

/** The command name an interaction belongs to; components and modals carry it as the custom_id prefix. */
export function commandNameOf(interaction: APIInteraction): string | undefined {
  switch (interaction.type) {
    case InteractionType.ApplicationCommand:
    case InteractionType.ApplicationCommandAutocomplete:
      return interaction.data.name;
    case InteractionType.MessageComponent:
    case InteractionType.ModalSubmit:
      return interaction.data.custom_id.split(":", 1)[0];
    default:
      return undefined;
  }
}
