/**
 * "Create Linear issue", the message context-menu command (right-click a message → Apps): files the message
 * as a Linear issue through feedback capture, exactly like the 📌 reaction, and tells the member the link.
 * A message filed before (by reaction or menu) is not filed again: the answer is the existing link.
 */
import { ApplicationCommandType, InteractionType } from "discord-api-types/v10";
import { UserError } from "../../errors.js";
import { explainingApiFailures } from "../api-failure.js";
import { captureFeedback } from "../feedback-capture.js";
import type { Command } from "./command.js";

export const command: Command = {
  data: { name: "Create Linear issue", type: ApplicationCommandType.Message },
  access: { default: "create-issues" },
  cooldownSeconds: 10,
  ephemeral: true,

  async execute({ interaction, user, guildId, respond, services, logger }) {
    if (
      interaction.type !== InteractionType.ApplicationCommand ||
      interaction.data.type !== ApplicationCommandType.Message
    ) {
      throw new Error("Create Linear issue was invoked without a target message");
    }
    if (!guildId)
      throw new UserError("Messages can be filed as Linear issues in a server, not in direct messages.");
    const message = interaction.data.resolved.messages[interaction.data.target_id];
    if (!message) throw new Error("Discord sent no resolved target message");

    const outcome = await explainingApiFailures("Linear", logger, () =>
      captureFeedback(
        { message, guildId, capturedBy: user },
        {
          db: services.db,
          config: services.config,
          linear: services.linear,
          discord: services.feedbackDiscord,
          logger,
          clock: services.clock,
        },
      ),
    );
    const link = (issue: { identifier: string; url: string }) => `**[${issue.identifier}](${issue.url})**`;
    const content =
      outcome.kind === "created"
        ? `📌 Filed as ${link(outcome.issue)}.`
        : outcome.kind === "existing"
          ? `This message was already filed as ${link(outcome.issue)}: nothing new was created.`
          : "This message is being filed right now: the link will appear in a thread on it.";
    await respond.reply({ content }, { ephemeral: true });
  },
};
