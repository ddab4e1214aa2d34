/**
 * The contract every command file fulfils: its registration data, the capability it needs, and handlers.
 * The loader checks each command against `commandSchema` so a malformed file fails at start-up, not when a
 * user first runs it.
 */
import type {
  APIApplicationCommandOptionChoice,
  APIInteraction,
  RESTPostAPIApplicationCommandsJSONBody,
} from "discord-api-types/v10";
import type { Kysely } from "kysely";
import { z } from "zod";
import type { ConfigFile } from "../../config/config-file.js";
import type { Logger } from "../../observability/logger.js";
import type { GitHubApi } from "../../sources/github/github-api.js";
import type { LinearApi } from "../../sources/linear/linear-api.js";
import type { DatabaseSchema } from "../../store/schema.js";
import type { FeedbackDiscord } from "../feedback-capture.js";
import type { InteractionResponder, InteractionUser, InvocationOptions } from "../interaction.js";
import type { StatusReporter } from "../status-report.js";
import type { Scheduler } from "../../jobs/scheduler.js";

export const CAPABILITIES = [
  "manage-subscriptions",
  "create-issues",
  "release",
  "deploy",
  "deploy-production",
  "approve",
  "admin",
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** What commands may use. Grown by the features that need more (deployments, jobs). */
export interface CommandServices {
  db: Kysely<DatabaseSchema>;
  config: ConfigFile;
  clock: () => number;
  /** Absent when no GitHub credentials are configured: commands say which variable to set. */
  github?: GitHubApi;
  /** Absent when LINEAR_API_KEY is not set. */
  linear?: LinearApi;
  /** Discord REST calls of feedback capture (read a message, reply in a thread); absent without DISCORD_TOKEN. */
  feedbackDiscord?: FeedbackDiscord;
  /** Every registered command, for /help. */
  listCommands(): Command[];
  /** This instance's health for /status; absent where no instance runs (unit tests). */
  status?: StatusReporter;
  /** Scheduled jobs for /jobs; absent in the web role, which runs none. */
  jobs?: Scheduler;
  /** DISCORD_DEFAULT_CHANNEL_ID: where deployment cards go for environments without a `channel`. */
  defaultChannel?: string;
  /** Called after a command stored outbox rows (a deployment card), so this process's outbox sends them now. */
  onEnqueued?: () => void;
}

export interface CommandContext {
  interaction: APIInteraction;
  user: InteractionUser;
  guildId: string | undefined;
  channelId: string | undefined;
  options: InvocationOptions;
  respond: InteractionResponder;
  services: CommandServices;
  /** A child logger carrying the interaction id and command. */
  logger: Logger;
}

export interface Command {
  data: RESTPostAPIApplicationCommandsJSONBody;
  /**
   * The capability a user needs, for the whole command or per subcommand (`"subscribe github"` style keys
   * are not needed: subcommand names are unique within one command). `null` means everyone.
   */
  access: { default: Capability | null; subcommands?: Record<string, Capability | null> };
  /** Seconds a user waits between two uses of an expensive command. */
  cooldownSeconds?: number;
  /**
   * Per-subcommand waits, each counted apart, for commands whose subcommands differ in cost (`/linear
   * create` is expensive, `/linear issue` is not). A subcommand not listed falls back to `cooldownSeconds`.
   */
  subcommandCooldownSeconds?: Record<string, number>;
  /** Answer ephemerally when the dispatcher has to defer on the command's behalf. */
  ephemeral?: boolean;
  execute(context: CommandContext): Promise<void>;
  autocomplete?(context: CommandContext): Promise<APIApplicationCommandOptionChoice[]>;
  /**
   * Buttons and selects whose custom_id starts with `<command name>:`. The second segment is the action
   * and is checked as a subcommand (`deploy:approve:42` needs `access.subcommands.approve`, falling back
   * to `access.default`), so give each button its own capability there.
   */
  component?(context: CommandContext & { customId: string }): Promise<void>;
  /** Modals whose custom_id starts with `<command name>:`; the second segment is checked like a component's. */
  modal?(context: CommandContext & { customId: string; fields: Map<string, string> }): Promise<void>;
}

const capabilitySchema = z.enum(CAPABILITIES).nullable();

/** Discord's rule for chat-input names; user and message context-menu names may have spaces and capitals. */
const CHAT_INPUT_NAME = /^[-_\p{L}\p{N}]{1,32}$/u;
const CHAT_INPUT = 1;

export const commandSchema = z.object({
  data: z
    .looseObject({
      name: z.string().min(1).max(32),
      description: z.string().max(100).optional(),
      type: z.number().int().optional(),
    })
    .refine((data) => (data.type ?? CHAT_INPUT) !== CHAT_INPUT || CHAT_INPUT_NAME.test(data.name), {
      path: ["name"],
      message: "1-32 lower-case letters, digits, - or _",
    }),
  access: z.object({
    default: capabilitySchema,
    subcommands: z.record(z.string(), capabilitySchema).optional(),
  }),
  cooldownSeconds: z.number().positive().optional(),
  subcommandCooldownSeconds: z.record(z.string(), z.number().positive()).optional(),
  ephemeral: z.boolean().optional(),
  execute: z.function(),
  autocomplete: z.function().optional(),
  component: z.function().optional(),
  modal: z.function().optional(),
});

/** The capability this invocation needs. */
export function requiredCapability(command: Command, options: InvocationOptions): Capability | null {
  const bySubcommand = command.access.subcommands;
  const key = options.subcommand;
  if (bySubcommand && key !== undefined && key in bySubcommand) return bySubcommand[key] ?? null;
  return command.access.default;
}

/** The wait this invocation is subject to, and the name its uses are counted under (`linear create`). */
export function cooldownFor(
  command: Command,
  options: InvocationOptions,
): { key: string; seconds: number } | undefined {
  const subcommand = options.subcommand;
  const own = subcommand !== undefined ? command.subcommandCooldownSeconds?.[subcommand] : undefined;
  if (own) return { key: `${command.data.name} ${subcommand}`, seconds: own };
  if (command.cooldownSeconds) return { key: command.data.name, seconds: command.cooldownSeconds };
  return undefined;
}
