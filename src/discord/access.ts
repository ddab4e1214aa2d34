/**
 * Who may do what: capabilities mapped to Discord role ids under `discord.roles`. `admin` holds every
 * capability. Pure, so every rule is tested without Discord.
 */
import type { DiscordConfig } from "../config/config-file.js";
import type { Capability } from "./commands/command.js";
import type { InteractionUser } from "./interaction.js";

/** Discord's ADMINISTRATOR permission bit. */
const ADMINISTRATOR = 1n << 3n;

export type AccessDecision = { allowed: true } | { allowed: false; reason: string };

/**
 * Allowed when the user has a role mapped to the capability or to `admin`. A fresh install with no roles
 * mapped for the capability (nor for admin) falls back to the server's Administrator permission, so the
 * owner can set things up before writing the config; nobody else gets in by default.
 */
export function checkAccess(
  user: InteractionUser & { permissions?: string },
  capability: Capability | null,
  roles: DiscordConfig["roles"],
): AccessDecision {
  if (capability === null) return { allowed: true };
  const granted = [...(roles[capability] ?? []), ...(capability === "admin" ? [] : (roles.admin ?? []))];
  if (granted.length === 0) {
    if (isServerAdministrator(user.permissions)) return { allowed: true };
    return {
      allowed: false,
      reason: `This needs the \`${capability}\` capability, and no role has it yet: a server administrator can map one under discord.roles.${capability} in the config file.`,
    };
  }
  if (user.roles.some((role) => granted.includes(role))) return { allowed: true };
  const mentions = granted.map((role) => `<@&${role}>`).join(" or ");
  return {
    allowed: false,
    reason: `This needs the \`${capability}\` capability: ask for the ${mentions} role.`,
  };
}

function isServerAdministrator(permissions: string | undefined): boolean {
  if (!permissions) return false;
  try {
    return (BigInt(permissions) & ADMINISTRATOR) === ADMINISTRATOR;
  } catch {
    return false;
  }
}
