/**
 * Deployments from chat.
 *
 *   /deploy to <env> [ref] [override-reason]   deploy a tag or commit (default: the latest release)
 *   /deploy status [env]                       the board: what runs where, who deployed it, when, how long
 *   /deploy history <env>                      the environment's deployments, newest first
 *   /deploy lock <env> <reason>                only you may deploy there until you unlock it
 *   /deploy unlock <env>                       your own lock, or anyone's as an admin
 *
 * The deploy action is the `to` subcommand because Discord does not allow options beside subcommands
 * (`/deploy production` cannot coexist with `/deploy status`).
 *
 * Deploying needs `deploy`, or `deploy-production` for environments that need approval; the option decides,
 * so it is checked here rather than by the dispatcher, and these requests are audited here too. Where
 * approval is needed, a card with the commits to ship and Approve / Reject buttons is posted in the
 * channel; the buttons need `approve` and refuse the requester.
 */
import type { APIApplicationCommandOptionChoice, APIEmbed } from "discord-api-types/v10";
import { ApplicationCommandOptionType } from "discord-api-types/v10";
import type { EnvironmentConfig } from "../../config/config-file.js";
import { activeFreeze, describeFreeze, requiredDeployCapability } from "../../deploy/deploy-policy.js";
import {
  approveDeployment,
  findEnvironment,
  lockForDeploys,
  rejectDeployment,
  requestDeployment,
  suggestRefs,
  unlockForDeploys,
} from "../../deploy/deploy-service.js";
import type { DeployRequest, DeployServices } from "../../deploy/deploy-service.js";
import { UserError } from "../../errors.js";
import { auditDetailOf, auditInteraction } from "../interaction-audit.js";
import type { AuditOutcome } from "../interaction-audit.js";
import {
  currentDeployment,
  findDeployment,
  latestDeploymentPerEnvironment,
  listDeployments,
  updateDeployment,
} from "../../store/deployment-repository.js";
import { listLocks } from "../../store/environment-lock-repository.js";
import { checkAccess } from "../access.js";
import { explainingApiFailures } from "../api-failure.js";
import { describeChanges, renderApprovalCard } from "../render/deploy-approval-card.js";
import { renderDeployBoard, renderDeployHistory } from "../render/deploy-board.js";
import { deploymentLabel } from "../render/deployment-card.js";
import { NO_MENTIONS } from "../render/message.js";
import type { Capability, Command, CommandContext } from "./command.js";

const HISTORY_LIMIT = 15;
const AUTOCOMPLETE_CHOICES = 25;

const environmentOption = (required: boolean) => ({
  type: ApplicationCommandOptionType.String as const,
  name: "env",
  description: "Environment, as named in the config file",
  required,
  autocomplete: true,
  max_length: 64,
});

export const command: Command = {
  data: {
    name: "deploy",
    description: "Deploy, and see what runs where",
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "to",
        description:
          "Deploy a release or commit (needs deploy, or deploy-production where approval is needed)",
        options: [
          environmentOption(true),
          {
            type: ApplicationCommandOptionType.String,
            name: "ref",
            description: "Tag or commit (default: the latest release)",
            autocomplete: true,
            max_length: 100,
          },
          {
            type: ApplicationCommandOptionType.String,
            name: "override-reason",
            description: "Admins only: deploy through a freeze, saying why (audited)",
            max_length: 300,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "status",
        description: "What runs in each environment: version, commit, who, when, state",
        options: [environmentOption(false)],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "history",
        description: "An environment's recent deployments",
        options: [environmentOption(true)],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "lock",
        description: "Stop others deploying to an environment until you unlock it",
        options: [
          environmentOption(true),
          {
            type: ApplicationCommandOptionType.String,
            name: "reason",
            description: "Why: shown to whoever tries to deploy",
            required: true,
            max_length: 300,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "unlock",
        description: "Release your lock on an environment (anyone's, for admins)",
        options: [environmentOption(true)],
      },
    ],
  },
  // `to` depends on the environment chosen: checked in the handler. The buttons' action is the custom_id's
  // second segment (`deploy:approve:42`).
  access: {
    default: "deploy",
    subcommands: {
      to: null,
      status: null,
      history: null,
      lock: "deploy",
      unlock: "deploy",
      approve: "approve",
      reject: "approve",
    },
  },
  ephemeral: true,

  async execute(context) {
    switch (context.options.subcommand) {
      case "to":
        return deployTo(context);
      case "status":
        return showStatus(context);
      case "history":
        return showHistory(context);
      case "lock":
        return lock(context);
      case "unlock":
        return unlock(context);
      default:
        throw new UserError("Use /deploy to, status, history, lock or unlock.");
    }
  },

  async autocomplete(context): Promise<APIApplicationCommandOptionChoice[]> {
    const focused = context.options.focused;
    const typed = (focused?.value ?? "").trim().toLowerCase();
    if (focused?.name === "ref") return suggestRefChoices(context, typed);
    return environmentChoices(context, typed);
  },

  async component(context) {
    const [, action, idText] = context.customId.split(":");
    const id = Number(idText);
    const person = { id: context.user.id, name: context.user.username };
    const services = deployServices(context);
    const changes = cardDescription(context);
    try {
      const { deployment, environment } = await explainingApiFailures("GitHub", context.logger, () =>
        action === "approve"
          ? approveDeployment(services, id, person)
          : action === "reject"
            ? rejectDeployment(services, id, person)
            : Promise.reject(new Error(`/deploy has no button ${context.customId}`)),
      );
      await context.respond.updateMessage(renderApprovalCard({ deployment, environment, changes }));
    } catch (error) {
      // GitHub refusing the approved deployment settles it too: the card must not offer the buttons again.
      const settled = Number.isSafeInteger(id) ? await findDeployment(services.db, id) : undefined;
      const environment = services.config.environments.find((entry) => entry.name === settled?.environment);
      if (settled && environment && settled.state === "error") {
        await context.respond.updateMessage(
          renderApprovalCard({ deployment: settled, environment, changes }),
        );
      }
      throw error;
    }
  },
};

/** The services the deploy flow takes, from the command's. */
export function deployServices(context: CommandContext): DeployServices {
  const { db, config, clock, github, defaultChannel, onEnqueued } = context.services;
  return { db, config, clock, github, defaultChannel, onEnqueued };
}

/** A string option, trimmed; undefined when absent or blank. */
export function optionText(context: CommandContext, name: string): string | undefined {
  const value = context.options.values.get(name);
  const text = value === undefined ? undefined : String(value).trim();
  return text ? text : undefined;
}

function accessTo(context: CommandContext, capability: Capability): ReturnType<typeof checkAccess> {
  const permissions = context.interaction.member?.permissions;
  return checkAccess(
    { ...context.user, ...(permissions ? { permissions } : {}) },
    capability,
    context.services.config.discord.roles,
  );
}

function hasCapability(context: CommandContext, capability: Capability): boolean {
  return accessTo(context, capability).allowed;
}

async function deployTo(context: CommandContext): Promise<void> {
  const environment = findEnvironment(context.services.config, optionText(context, "env") ?? "");
  await requestAndAnswer(context, environment, {
    environment: environment.name,
    ref: optionText(context, "ref"),
    overrideReason: optionText(context, "override-reason"),
  });
}

/**
 * The request path `/deploy to` and `/rollback` share: capability for the environment, lock and freeze,
 * the record, then the approval card in the channel or the deployment sent at once. Every outcome is
 * audited, as the dispatcher does for commands whose capability it checks itself.
 */
export async function requestAndAnswer(
  context: CommandContext,
  environment: EnvironmentConfig,
  request: Omit<DeployRequest, "requester" | "place">,
): Promise<void> {
  const capability = requiredDeployCapability(environment);
  const access = accessTo(context, capability);
  if (!access.allowed) {
    await auditRequest(context, capability, "denied", access.reason);
    await context.respond.reply({ content: access.reason }, { ephemeral: true });
    return;
  }
  try {
    const result = await explainingApiFailures("GitHub", context.logger, () =>
      requestDeployment(deployServices(context), {
        ...request,
        requester: {
          id: context.user.id,
          name: context.user.username,
          isAdmin: hasCapability(context, "admin"),
        },
        place: { guildId: context.guildId, channelId: context.channelId },
      }),
    );
    const { deployment } = result;
    const what = `${deploymentLabel(deployment)} to ${environment.name}`;
    const overridden = result.overridden ? `\nAudited: ${result.overridden}.` : "";
    if (deployment.state === "awaiting_approval") {
      await context.respond.reply(
        {
          content: `Deployment #${deployment.id} of ${what} needs ${environment.approvals > 1 ? `${environment.approvals} approvals` : "an approval"} from someone else with the \`approve\` capability: the card below asks for it.${overridden}`,
        },
        { ephemeral: true },
      );
      const card = await context.respond.followUp(
        renderApprovalCard({
          deployment,
          environment,
          changes: describeChanges(result.range, environment.repo),
        }),
        { ephemeral: false },
      );
      if (card) {
        await updateDeployment(context.services.db, deployment.id, {
          approval_channel_id: card.channel_id,
          approval_message_id: card.id,
        });
      }
    } else {
      const channel = environment.channel ?? context.services.defaultChannel;
      const where =
        channel && /^\d{17,20}$/.test(channel) ? ` Its card in <#${channel}> follows its progress.` : "";
      await context.respond.reply(
        {
          content: `Deployment #${deployment.id} of ${what} sent to GitHub (${environment.method}).${where}${overridden}`,
        },
        { ephemeral: true },
      );
    }
    await auditRequest(context, capability, "ok", `deployment #${deployment.id}`);
  } catch (error) {
    const outcome = error instanceof UserError ? "refused" : "error";
    await auditRequest(
      context,
      capability,
      outcome,
      auditDetailOf(error, `interaction ${context.interaction.id}`),
    );
    throw error;
  }
}

async function auditRequest(
  context: CommandContext,
  capability: Capability,
  outcome: AuditOutcome,
  detail: string,
): Promise<void> {
  // As the dispatcher names actions: `deploy to`, `rollback`.
  const action = [commandName(context), context.options.subcommand].filter(Boolean).join(" ");
  await auditInteraction(context, { action, capability, outcome, detail });
}

function commandName(context: CommandContext): string {
  const data = context.interaction.data as { name?: string } | undefined;
  return data?.name ?? "deploy";
}

/** The commit list of the card a button is on, carried over when the card is edited. */
function cardDescription(context: CommandContext): string {
  const message = "message" in context.interaction ? context.interaction.message : undefined;
  const embeds = (message as { embeds?: APIEmbed[] } | undefined)?.embeds;
  return embeds?.[0]?.description ?? "";
}

async function showStatus(context: CommandContext): Promise<void> {
  const { config, db, clock } = context.services;
  const name = optionText(context, "env");
  const environments = name ? [findEnvironment(config, name)] : config.environments;
  const names = environments.map((environment) => environment.name);
  const latest = await latestDeploymentPerEnvironment(db, names);
  const locks = await listLocks(db);
  const now = clock();
  const statuses = await Promise.all(
    environments.map(async (environment) => {
      const freeze = activeFreeze(config.freezes, environment.name, now);
      return {
        environment,
        latest: latest.get(environment.name),
        running: await currentDeployment(db, environment.name),
        lock: locks.find((entry) => entry.environment === environment.name),
        freeze: freeze ? describeFreeze(freeze) : undefined,
      };
    }),
  );
  await context.respond.reply(renderDeployBoard(statuses, now));
}

async function showHistory(context: CommandContext): Promise<void> {
  const environment = findEnvironment(context.services.config, optionText(context, "env") ?? "");
  const rows = await listDeployments(context.services.db, {
    environment: environment.name,
    limit: HISTORY_LIMIT,
  });
  await context.respond.reply(renderDeployHistory(environment, rows, context.services.clock()));
}

async function lock(context: CommandContext): Promise<void> {
  const { lock: held, alreadyHeld } = await lockForDeploys(deployServices(context), {
    environment: optionText(context, "env") ?? "",
    holder: { id: context.user.id, name: context.user.username },
    reason: optionText(context, "reason") ?? "",
  });
  if (alreadyHeld) {
    await context.respond.reply(
      {
        content: `You already hold the lock on ${held.environment} (since <t:${Math.floor(held.locked_at / 1000)}:R>: ${held.reason}).`,
      },
      { ephemeral: true },
    );
    return;
  }
  await context.respond.reply({
    content: `🔒 <@${held.locked_by}> locked **${held.environment}**: ${held.reason}\nOthers' deployments there are refused until \`/deploy unlock ${held.environment}\`.`,
    allowed_mentions: NO_MENTIONS,
  });
}

async function unlock(context: CommandContext): Promise<void> {
  const removed = await unlockForDeploys(deployServices(context), {
    environment: optionText(context, "env") ?? "",
    user: { id: context.user.id, name: context.user.username, isAdmin: hasCapability(context, "admin") },
  });
  const whose =
    removed.locked_by === context.user.id ? "" : ` (locked by <@${removed.locked_by}>: ${removed.reason})`;
  await context.respond.reply({
    content: `🔓 <@${context.user.id}> unlocked **${removed.environment}**${whose}.`,
    allowed_mentions: NO_MENTIONS,
  });
}

/** Configured environments whose name contains what was typed. */
export function environmentChoices(
  context: CommandContext,
  typed: string,
): APIApplicationCommandOptionChoice[] {
  return context.services.config.environments
    .filter((environment) => environment.name.toLowerCase().includes(typed))
    .slice(0, AUTOCOMPLETE_CHOICES)
    .map((environment) => ({
      name: `${environment.name} (${environment.repo})`.slice(0, 100),
      value: environment.name,
    }));
}

/** Recent release tags and commits of the chosen environment's repository. */
async function suggestRefChoices(
  context: CommandContext,
  typed: string,
): Promise<APIApplicationCommandOptionChoice[]> {
  const name = optionText(context, "env");
  const environment = context.services.config.environments.find((entry) => entry.name === name);
  if (!environment || !context.services.github) return [];
  const refs = await suggestRefs(deployServices(context), environment);
  return refs
    .filter((ref) => ref.name.toLowerCase().includes(typed) || ref.value.toLowerCase().startsWith(typed))
    .slice(0, AUTOCOMPLETE_CHOICES);
}
