/**
 * `/unsubscribe id`: removes a subscription made in this server. Autocomplete offers this channel's
 * subscriptions first, then the rest of the server's, so the usual case is two keystrokes.
 */
import type { APIApplicationCommandOptionChoice } from "discord-api-types/v10";
import { ApplicationCommandOptionType } from "discord-api-types/v10";
import { UserError } from "../../errors.js";
import { truncate } from "../../events/text.js";
import { deleteSubscription, listSubscriptions } from "../../store/subscription-repository.js";
import type { Subscription } from "../../store/subscription-repository.js";
import { describeSubscription, parseSubscriptionId, requireGuild } from "../subscription-options.js";
import type { Command, CommandContext } from "./command.js";

/** Discord's limits on autocomplete choices. */
const MAX_CHOICES = 25;
const MAX_CHOICE_NAME = 100;

export const command: Command = {
  data: {
    name: "unsubscribe",
    description: "Stop a subscription made with /subscribe",
    options: [
      {
        // A string, not an integer, so typing `acme` searches the list instead of being refused.
        type: ApplicationCommandOptionType.String,
        name: "id",
        description: "The subscription (type to search; /subscriptions lists them)",
        required: true,
        autocomplete: true,
        max_length: 100,
      },
    ],
  },
  access: { default: "manage-subscriptions" },
  ephemeral: false,

  async execute({ guildId, options, services, respond, logger }) {
    const guild = requireGuild(guildId);
    const id = parseSubscriptionId(options.values.get("id"));
    const removed = await deleteSubscription(services.db, { id, guildId: guild });
    if (!removed) {
      throw new UserError(
        `There is no subscription #${id} in this server: \`/subscriptions all:True\` lists them. Routes from the config file are changed in the file.`,
      );
    }
    logger.info({ subscription: removed.id, channel: removed.channelId }, "Subscription removed");
    await respond.reply({
      content: `Removed subscription **#${removed.id}** (\`${describeSubscription(removed)}\` → <#${removed.channelId}>).`,
    });
  },

  async autocomplete(context) {
    if (!context.guildId) return [];
    const subscriptions = await listSubscriptions(context.services.db, { guildId: context.guildId });
    const typed = (context.options.focused?.value ?? "").trim().toLowerCase().replace(/^#/, "");
    const here = context.channelId;
    const ordered = [
      ...subscriptions.filter((subscription) => subscription.channelId === here),
      ...subscriptions.filter((subscription) => subscription.channelId !== here),
    ];
    return ordered
      .map((subscription) => ({ subscription, name: choiceName(subscription, context) }))
      .filter(
        ({ subscription, name }) =>
          typed === "" || String(subscription.id) === typed || name.toLowerCase().includes(typed),
      )
      .slice(0, MAX_CHOICES)
      .map(({ subscription, name }): APIApplicationCommandOptionChoice => ({
        name,
        value: String(subscription.id),
      }));
  },
};

/**
 * `#12 github acme/api pull_request.* -> #deploys`. Choices are plain text (no channel mentions), and the
 * interaction only names the channel it came from; other channels show by id.
 */
function choiceName(subscription: Subscription, context: CommandContext): string {
  const channel = context.interaction.channel;
  const channelName =
    subscription.channelId === context.channelId && channel && "name" in channel && channel.name
      ? channel.name
      : subscription.channelId;
  return truncate(
    `#${subscription.id} ${describeSubscription(subscription)} -> #${channelName}`,
    MAX_CHOICE_NAME,
  );
}
