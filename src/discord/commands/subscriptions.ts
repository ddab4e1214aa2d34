/**
 * `/subscriptions [all]`: this channel's subscriptions (or the whole server's), and the config file's routes
 * beside them, marked read-only. Open to everyone: knowing why a channel gets a message needs no privilege.
 */
import { ApplicationCommandOptionType } from "discord-api-types/v10";
import type { RouteConfig } from "../../config/config-file.js";
import { listSubscriptions } from "../../store/subscription-repository.js";
import type { Subscription } from "../../store/subscription-repository.js";
import { LIMITS, inlineCode } from "../render/message.js";
import { describeRule, describeSubscription, requireGuild } from "../subscription-options.js";
import type { Command } from "./command.js";

export const command: Command = {
  data: {
    name: "subscriptions",
    description: "List the subscriptions and config routes that post to this channel",
    options: [
      {
        type: ApplicationCommandOptionType.Boolean,
        name: "all",
        description: "List every channel in this server, not just this one",
      },
    ],
  },
  access: { default: null },
  ephemeral: true,

  async execute({ guildId, channelId, options, services, respond }) {
    const guild = requireGuild(guildId);
    const all = options.values.get("all") === true || channelId === undefined;
    const subscriptions = await listSubscriptions(services.db, {
      guildId: guild,
      ...(all ? {} : { channelId }),
    });
    // Config routes name channels, not servers: listing all shows every route in the file.
    const routes = services.config.routes.filter((route) => all || route.channel === channelId);
    const where = all ? "this server" : `<#${channelId}>`;

    if (subscriptions.length === 0 && routes.length === 0) {
      const hint = all ? "" : " `/subscriptions all:True` lists the whole server.";
      await respond.reply(
        {
          content: `Nothing posts to ${where} yet. Add a subscription with \`/subscribe github repo:owner/name\` or \`/subscribe linear team:KEY\`.${hint}`,
        },
        { ephemeral: true },
      );
      return;
    }

    const lines: string[] = [];
    if (subscriptions.length > 0) {
      lines.push(`**Subscriptions in ${where}** (remove one with \`/unsubscribe\`)`);
      lines.push(...subscriptions.map(subscriptionLine));
    } else {
      lines.push(`No subscriptions in ${where}.`);
    }
    if (routes.length > 0) {
      lines.push("**Config file routes** (read-only: change them in the config file)");
      lines.push(...routes.map(routeLine));
    }
    await respond.reply({ content: fitLines(lines, LIMITS.content) }, { ephemeral: true });
  },
};

function subscriptionLine(subscription: Subscription): string {
  return `**#${subscription.id}** \`${describeSubscription(subscription)}\` → <#${subscription.channelId}> · by <@${subscription.createdBy}>`;
}

function routeLine(route: RouteConfig): string {
  return `🔒 ${inlineCode(route.name)} \`${describeRule(route.source, route)}\` → <#${route.channel}>`;
}

/** As many whole lines as fit, then how many were left out. */
function fitLines(lines: string[], limit: number): string {
  const kept: string[] = [];
  let length = 0;
  for (const [index, line] of lines.entries()) {
    const remaining = lines.length - index;
    const footer = `… and ${remaining} more lines: list one channel at a time to see them.`;
    const fitsWithFooter = length + line.length + 1 + footer.length <= limit;
    const isLast = index === lines.length - 1;
    if (!fitsWithFooter && !(isLast && length + line.length <= limit)) {
      kept.push(footer);
      break;
    }
    kept.push(line);
    length += line.length + 1;
  }
  return kept.join("\n");
}
