/**
 * Answers an interaction: the first answer is the interaction response (sent by the transport: a REST
 * callback for gateway interactions, the HTTP response for the interactions endpoint), later answers edit
 * the original response or follow up through the interaction webhook, which needs no bot token.
 */
import type { REST } from "@discordjs/rest";
import type { APIInteraction, APIInteractionResponseCallbackData, APIMessage } from "discord-api-types/v10";
import { InteractionResponseType, MessageFlags, Routes } from "discord-api-types/v10";
import type { InteractionReply, InteractionResponder, SendInitialResponse } from "./interaction.js";
import { NO_MENTIONS } from "./render/message.js";

type State = "new" | "deferred" | "replied";

export function createResponder(options: {
  interaction: Pick<APIInteraction, "id" | "token" | "application_id">;
  rest: REST;
  sendInitial: SendInitialResponse;
}): InteractionResponder {
  const { interaction, rest } = options;
  let state: State = "new";
  // Our AllowedMentions uses the string values of discord-api-types' enum: the JSON is the same.
  const body = (message: InteractionReply, ephemeral?: boolean) =>
    ({
      ...message,
      allowed_mentions: message.allowed_mentions ?? NO_MENTIONS,
      ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
    }) as APIInteractionResponseCallbackData;
  const originalRoute = Routes.webhookMessage(interaction.application_id, interaction.token, "@original");

  return {
    get acknowledged() {
      return state !== "new";
    },
    async defer({ ephemeral }) {
      if (state !== "new") return;
      state = "deferred";
      await options.sendInitial({
        type: InteractionResponseType.DeferredChannelMessageWithSource,
        data: ephemeral ? { flags: MessageFlags.Ephemeral } : {},
      });
    },
    async reply(message, { ephemeral } = {}) {
      if (state === "new") {
        state = "replied";
        await options.sendInitial({
          type: InteractionResponseType.ChannelMessageWithSource,
          data: body(message, ephemeral),
        });
      } else if (state === "deferred") {
        state = "replied";
        await rest.patch(originalRoute, { body: body(message), auth: false });
      } else {
        await rest.post(Routes.webhook(interaction.application_id, interaction.token), {
          body: body(message, ephemeral),
          auth: false,
        });
      }
    },
    async followUp(message, { ephemeral } = {}) {
      return (await rest.post(Routes.webhook(interaction.application_id, interaction.token), {
        body: body(message, ephemeral),
        query: new URLSearchParams({ wait: "true" }),
        auth: false,
      })) as APIMessage | undefined;
    },
    async updateMessage(message) {
      if (state === "new") {
        state = "replied";
        await options.sendInitial({ type: InteractionResponseType.UpdateMessage, data: body(message) });
      } else {
        await rest.patch(originalRoute, { body: body(message), auth: false });
      }
    },
    async showModal(modal) {
      state = "replied";
      await options.sendInitial({ type: InteractionResponseType.Modal, data: modal });
    },
    async autocomplete(choices) {
      state = "replied";
      await options.sendInitial({
        type: InteractionResponseType.ApplicationCommandAutocompleteResult,
        data: { choices },
      });
    },
  };
}

/** The gateway path: the initial response is a REST call to the interaction callback endpoint. */
export function restInitialResponse(
  rest: REST,
  interaction: Pick<APIInteraction, "id" | "token">,
): SendInitialResponse {
  return async (response) => {
    await rest.post(Routes.interactionCallback(interaction.id, interaction.token), {
      body: response,
      auth: false,
    });
  };
}
