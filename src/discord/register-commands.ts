/**
 * Registers the commands with Discord: `switchboard register-commands`, never at start-up (commands are
 * rate-limited to 200 creates a day per guild, and a restart loop must not burn them).
 *
 * It reads what Discord has first and writes (one bulk overwrite) only when it differs from ALL_COMMANDS.
 * Discord echoes a command with ids, a version and defaults it filled in, so both sides are compared after
 * normalizing those away: a field we do not set counts as equal when Discord holds its default.
 */
import { isDeepStrictEqual } from "node:util";
import type { REST } from "@discordjs/rest";
import type { RESTPostAPIApplicationCommandsJSONBody } from "discord-api-types/v10";
import { ApplicationCommandType, Routes } from "discord-api-types/v10";
import type { Command } from "./commands/command.js";

type Definition = Record<string, unknown>;

export interface CommandChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

export interface RegistrationResult {
  scope: { kind: "guild"; guildId: string } | { kind: "global" };
  /** false: Discord already had exactly these commands and nothing was written. */
  written: boolean;
  count: number;
  changes: CommandChanges;
}

/** Identifiers and read-only fields Discord adds to what it stores. */
const DISCORD_OWNED = new Set([
  "id",
  "application_id",
  "version",
  "guild_id",
  "name_localized",
  "description_localized",
]);

/**
 * Fields Discord fills in when they are not given, with the value it fills in. A field not listed here and
 * not set by us (contexts, integration_types, dm_permission: defaults that depend on the app's settings,
 * or fields newer than this code) is ignored.
 */
const DEFAULTS: Record<string, (value: unknown) => boolean> = {
  description: (value) => value === "",
  default_member_permissions: (value) => value === null,
  nsfw: (value) => value === false,
  name_localizations: (value) => value === null || isEmptyObject(value),
  description_localizations: (value) => value === null || isEmptyObject(value),
  options: (value) => Array.isArray(value) && value.length === 0,
  choices: (value) => Array.isArray(value) && value.length === 0,
  channel_types: (value) => Array.isArray(value) && value.length === 0,
  required: (value) => value === false,
  autocomplete: (value) => value === false,
};

function isEmptyObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}

/** The registration payload of every command, in registry order. */
export function commandDefinitions(commands: readonly Command[]): RESTPostAPIApplicationCommandsJSONBody[] {
  return commands.map((command) => command.data);
}

function typeOf(definition: Definition): number {
  return typeof definition.type === "number" ? definition.type : ApplicationCommandType.ChatInput;
}

function keyOf(definition: Definition): string {
  return `${typeOf(definition)}:${String(definition.name)}`;
}

/** Whether what Discord holds (`existing`) is what we would register (`desired`). */
export function sameDefinition(desired: unknown, existing: unknown, topLevel = true): boolean {
  if (Array.isArray(desired) || Array.isArray(existing)) {
    if (!Array.isArray(desired) || !Array.isArray(existing) || desired.length !== existing.length)
      return false;
    return desired.every((item, index) => sameDefinition(item, existing[index], false));
  }
  if (typeof desired !== "object" || desired === null || typeof existing !== "object" || existing === null) {
    return isDeepStrictEqual(desired, existing);
  }
  const ours = desired as Definition;
  const theirs = existing as Definition;
  for (const key of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    if (DISCORD_OWNED.has(key)) continue;
    if (topLevel && key === "type") {
      if (typeOf(ours) !== typeOf(theirs)) return false;
      continue;
    }
    const mine = ours[key];
    const held = theirs[key];
    if (mine === undefined) {
      const isDefault = DEFAULTS[key];
      if (isDefault && held !== undefined && !isDefault(held)) return false;
    } else if (held === undefined) {
      if (!DEFAULTS[key]?.(mine)) return false;
    } else if (!sameDefinition(mine, held, false)) {
      return false;
    }
  }
  return true;
}

export function diffCommands(
  desired: readonly Definition[],
  existing: readonly Definition[],
): CommandChanges {
  const held = new Map(existing.map((definition) => [keyOf(definition), definition]));
  const wanted = new Set(desired.map(keyOf));
  const changes: CommandChanges = { added: [], changed: [], removed: [] };
  for (const definition of desired) {
    const current = held.get(keyOf(definition));
    if (!current) changes.added.push(String(definition.name));
    else if (!sameDefinition(definition, current)) changes.changed.push(String(definition.name));
  }
  for (const definition of existing) {
    if (!wanted.has(keyOf(definition))) changes.removed.push(String(definition.name));
  }
  return changes;
}

export async function registerCommands(options: {
  rest: REST;
  applicationId: string;
  /** Register in this guild only (instant, for development); globally otherwise. */
  guildId?: string;
  commands: readonly Command[];
}): Promise<RegistrationResult> {
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.applicationId, options.guildId)
    : Routes.applicationCommands(options.applicationId);
  const scope: RegistrationResult["scope"] = options.guildId
    ? { kind: "guild", guildId: options.guildId }
    : { kind: "global" };
  const desired = commandDefinitions(options.commands) as unknown as Definition[];
  const existing = (await options.rest.get(route)) as Definition[];
  const changes = diffCommands(desired, existing);
  const differs = changes.added.length + changes.changed.length + changes.removed.length > 0;
  if (differs) await options.rest.put(route, { body: desired });
  return { scope, written: differs, count: desired.length, changes };
}

/** One line for the operator: what was written where, or that nothing needed writing. */
export function describeRegistration(result: RegistrationResult): string {
  const where = result.scope.kind === "guild" ? `in guild ${result.scope.guildId}` : "globally";
  if (!result.written) {
    return `Commands are up to date ${where} (${result.count} commands): nothing written.`;
  }
  const parts = [
    result.changes.added.length ? `added ${result.changes.added.join(", ")}` : "",
    result.changes.changed.length ? `updated ${result.changes.changed.join(", ")}` : "",
    result.changes.removed.length ? `removed ${result.changes.removed.join(", ")}` : "",
  ].filter(Boolean);
  return `Registered ${result.count} commands ${where}: ${parts.join("; ")}.`;
}
