/**
 * `/help [command]`: every command, what it does, and who may use it: the capability it needs and the
 * roles that hold it under `discord.roles`. Read from the command registry, so it never drifts from what
 * is registered.
 */
import type {
  APIApplicationCommandOption,
  APIApplicationCommandOptionChoice,
  RESTPostAPIApplicationCommandsJSONBody,
} from "discord-api-types/v10";
import { ApplicationCommandOptionType, ApplicationCommandType } from "discord-api-types/v10";
import type { DiscordConfig } from "../../config/config-file.js";
import { UserError } from "../../errors.js";
import { truncate } from "../../events/text.js";
import { COLORS, LIMITS } from "../render/message.js";
import { requiredCapability } from "./command.js";
import type { Capability, Command } from "./command.js";

export const command: Command = {
  data: {
    name: "help",
    description: "What each Switchboard command does and who may use it",
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: "command",
        description: "One command, with its subcommands",
        autocomplete: true,
      },
    ],
  },
  access: { default: null },
  ephemeral: true,
  async execute({ options, respond, services }) {
    const commands = services.listCommands();
    const roles = services.config.discord.roles;
    const wanted = options.values.get("command");
    if (wanted !== undefined) {
      const name = String(wanted).replace(/^\//, "");
      const found = commands.find((candidate) => candidate.data.name === name);
      if (!found) throw new UserError(`There is no /${name}: run /help to see every command.`);
      await respond.reply(
        {
          embeds: [
            {
              title: commandLabel(found.data),
              description: truncate(describeCommandInDetail(found, roles), LIMITS.embedDescription),
              color: COLORS.info,
            },
          ],
        },
        { ephemeral: true },
      );
      return;
    }
    await respond.reply(
      {
        embeds: [
          {
            title: "Switchboard commands",
            description: truncate(
              commands.map((entry) => describeCommand(entry, roles)).join("\n"),
              LIMITS.embedDescription,
            ),
            footer: { text: "/help command:<name> shows a command's subcommands." },
            color: COLORS.info,
          },
        ],
      },
      { ephemeral: true },
    );
  },
  async autocomplete({ options, services }): Promise<APIApplicationCommandOptionChoice[]> {
    const typed = (options.focused?.value ?? "").replace(/^\//, "").toLowerCase();
    return services
      .listCommands()
      .filter(
        (entry) => (entry.data.type ?? ApplicationCommandType.ChatInput) === ApplicationCommandType.ChatInput,
      )
      .map((entry) => entry.data.name)
      .filter((name) => name.includes(typed))
      .map((name) => ({ name: `/${name}`, value: name }));
  },
};

/** `/audit` for slash commands; `Apps › Create Linear issue (on a message)` for context menus. */
export function commandLabel(data: RESTPostAPIApplicationCommandsJSONBody): string {
  switch (data.type) {
    case ApplicationCommandType.Message:
      return `Apps › ${data.name} (on a message)`;
    case ApplicationCommandType.User:
      return `Apps › ${data.name} (on a member)`;
    default:
      return `/${data.name}`;
  }
}

/** Who holds a capability: `everyone`, the roles mapped to it (or to admin), or the fallback. */
export function describeAccess(capability: Capability | null, roles: DiscordConfig["roles"]): string {
  if (capability === null) return "everyone";
  const granted = [...(roles[capability] ?? []), ...(capability === "admin" ? [] : (roles.admin ?? []))];
  if (granted.length === 0) return `\`${capability}\`: server administrators until a role is mapped`;
  return `\`${capability}\`: ${[...new Set(granted)].map((role) => `<@&${role}>`).join(", ")}`;
}

function describeCommand(entry: Command, roles: DiscordConfig["roles"]): string {
  const description = "description" in entry.data && entry.data.description ? entry.data.description : "";
  const perSubcommand = Object.values(entry.access.subcommands ?? {});
  const differs = perSubcommand.some((capability) => capability !== entry.access.default);
  const access = differs ? "depends on the subcommand" : describeAccess(entry.access.default, roles);
  return `**${commandLabel(entry.data)}**: ${description || "(no description)"} · ${access}`;
}

function describeCommandInDetail(entry: Command, roles: DiscordConfig["roles"]): string {
  const description = "description" in entry.data && entry.data.description ? entry.data.description : "";
  const lines = [description, "", `Who: ${describeAccess(entry.access.default, roles)}`];
  const subcommands = listSubcommands(
    "options" in entry.data ? (entry.data.options as APIApplicationCommandOption[] | undefined) : undefined,
  );
  if (subcommands.length > 0) {
    lines.push("");
    for (const sub of subcommands) {
      const capability = requiredCapability(entry, { subcommand: sub.name, values: new Map() });
      lines.push(
        `**/${entry.data.name} ${sub.path}**: ${sub.description} · ${describeAccess(capability, roles)}`,
      );
    }
  }
  return lines.join("\n").trim();
}

function listSubcommands(
  options: APIApplicationCommandOption[] | undefined,
): Array<{ name: string; path: string; description: string }> {
  const found: Array<{ name: string; path: string; description: string }> = [];
  for (const option of options ?? []) {
    if (option.type === ApplicationCommandOptionType.Subcommand) {
      found.push({ name: option.name, path: option.name, description: option.description });
    } else if (option.type === ApplicationCommandOptionType.SubcommandGroup) {
      for (const sub of option.options ?? []) {
        found.push({ name: sub.name, path: `${option.name} ${sub.name}`, description: sub.description });
      }
    }
  }
  return found;
}
