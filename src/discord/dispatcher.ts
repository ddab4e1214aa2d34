/**
 * The one place every interaction goes through, from the gateway or the HTTP endpoint. It finds the
 * command, checks access and cooldowns, makes sure Discord gets an answer within its 3-second deadline,
 * records privileged actions and denials in the audit log, and turns every failure into a short ephemeral
 * answer: a UserError's own message, or a reference the operator can find in the logs.
 */
import type { APIInteraction } from "discord-api-types/v10";
import { ApplicationCommandType, InteractionType } from "discord-api-types/v10";
import { UserError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import { auditDetailOf, auditInteraction } from "./interaction-audit.js";
import type { AuditOutcome } from "./interaction-audit.js";
import { checkAccess } from "./access.js";
import type { Command, CommandContext, CommandServices } from "./commands/command.js";
import { cooldownFor, requiredCapability } from "./commands/command.js";
import type { InteractionResponder } from "./interaction.js";
import { commandNameOf, interactionUser, readOptions } from "./interaction.js";

/** Discord drops an interaction not acknowledged within 3 s; defer with margin for network time. */
export const AUTO_DEFER_AFTER_MS = 2000;

export interface InteractionMetrics {
  interactions: { inc(labels: { command: string; outcome: string }): void };
}

export interface InteractionDispatcher {
  dispatch(interaction: APIInteraction, respond: InteractionResponder): Promise<void>;
}

export function createInteractionDispatcher(options: {
  commands: ReadonlyMap<string, Command>;
  services: CommandServices;
  logger: Logger;
  metrics: InteractionMetrics;
  autoDeferAfterMs?: number;
}): InteractionDispatcher {
  const { commands, services } = options;
  const lastUse = new Map<string, number>();

  const audit = (
    context: CommandContext,
    action: string,
    capability: string | null,
    outcome: AuditOutcome,
    detail: string | null,
  ) => auditInteraction(context, { action, capability, outcome, detail });

  async function dispatch(interaction: APIInteraction, respond: InteractionResponder): Promise<void> {
    const name = commandNameOf(interaction) ?? "unknown";
    const logger = options.logger.child({ interaction: interaction.id, command: name });
    const command = commands.get(name);
    const invocation = readOptions(interaction);
    const context: CommandContext = {
      interaction,
      user: interactionUser(interaction),
      guildId: interaction.guild_id,
      channelId: interaction.channel?.id ?? interaction.channel_id,
      options: invocation,
      respond,
      services,
      logger,
    };
    const action = [name, invocation.subcommandGroup, invocation.subcommand].filter(Boolean).join(" ");
    const count = (outcome: string) => options.metrics.interactions.inc({ command: name, outcome });

    if (interaction.type === InteractionType.ApplicationCommandAutocomplete) {
      const choices = await command?.autocomplete?.(context).catch((error: unknown) => {
        logger.warn({ err: error }, "Autocomplete failed");
        return [];
      });
      await respond.autocomplete((choices ?? []).slice(0, 25));
      return;
    }
    if (!command) {
      await respond.reply(
        {
          content:
            "This command is not known to this Switchboard: it may have been removed. /help lists the commands it has.",
        },
        { ephemeral: true },
      );
      count("unknown");
      return;
    }

    const capability = requiredCapability(command, invocation);
    const permissions = interaction.member?.permissions;
    const decision = checkAccess(
      { ...context.user, ...(permissions ? { permissions } : {}) },
      capability,
      services.config.discord.roles,
    );
    if (!decision.allowed) {
      await respond.reply({ content: decision.reason }, { ephemeral: true });
      await audit(context, action, capability, "denied", decision.reason);
      logger.info({ user: context.user.id, capability }, "Interaction denied");
      count("denied");
      return;
    }

    const cooldown = cooldownFor(command, invocation);
    let cooldownKey: string | undefined;
    if (cooldown && interaction.type === InteractionType.ApplicationCommand) {
      cooldownKey = `${cooldown.key}:${context.user.id}`;
      const now = services.clock();
      const readyAt = (lastUse.get(cooldownKey) ?? 0) + cooldown.seconds * 1000;
      if (now < readyAt) {
        const seconds = Math.ceil((readyAt - now) / 1000);
        // Context-menu commands ("Create Linear issue") are not typed with a slash.
        const label =
          interaction.data.type === ApplicationCommandType.ChatInput
            ? `/${cooldown.key}`
            : `"${cooldown.key}"`;
        await respond.reply(
          { content: `Slow down: ${label} can be used again in ${seconds} s.` },
          { ephemeral: true },
        );
        count("rate_limited");
        return;
      }
      lastUse.set(cooldownKey, now);
    }

    const deferTimer = setTimeout(() => {
      if (!respond.acknowledged) {
        respond.defer({ ephemeral: command.ephemeral ?? true }).catch((error: unknown) => {
          logger.warn({ err: error }, "Could not defer the interaction");
        });
      }
    }, options.autoDeferAfterMs ?? AUTO_DEFER_AFTER_MS);

    try {
      if (interaction.type === InteractionType.MessageComponent) {
        if (!command.component) throw new Error(`/${name} has no component handler`);
        await command.component({ ...context, customId: interaction.data.custom_id });
      } else if (interaction.type === InteractionType.ModalSubmit) {
        if (!command.modal) throw new Error(`/${name} has no modal handler`);
        const fields = new Map<string, string>();
        for (const row of interaction.data.components) {
          for (const component of "components" in row ? row.components : []) {
            if ("custom_id" in component && "value" in component)
              fields.set(component.custom_id, String(component.value));
          }
        }
        await command.modal({ ...context, customId: interaction.data.custom_id, fields });
      } else {
        await command.execute(context);
      }
      clearTimeout(deferTimer);
      if (!respond.acknowledged) {
        // A handler that returns without answering is a bug; the user still gets an answer.
        logger.error("Command finished without answering");
        await respond.reply({ content: "Done." }, { ephemeral: true });
      }
      if (capability) await audit(context, action, capability, "ok", null);
      count("ok");
    } catch (error) {
      clearTimeout(deferTimer);
      if (error instanceof UserError) {
        // A refusal did none of the expensive work: the user may fix the input and try again at once.
        if (cooldownKey) lastUse.delete(cooldownKey);
        await respond.reply({ content: error.message }, { ephemeral: true }).catch(() => {});
        if (capability) await audit(context, action, capability, "refused", error.message);
        count("refused");
        return;
      }
      logger.error({ err: error }, "Command failed");
      count("error");
      if (capability)
        await audit(
          context,
          action,
          capability,
          "error",
          auditDetailOf(error, `interaction ${interaction.id}`),
        );
      await respond
        .reply(
          {
            content: `Something went wrong on our side. Reference: \`${interaction.id}\` (the operator can find it in the logs).`,
          },
          { ephemeral: true },
        )
        .catch((replyError: unknown) =>
          logger.error({ err: replyError }, "Could not tell the user about the failure"),
        );
    }
  }

  return { dispatch };
}
