/**
 * `/rollback <env> [override-reason]`: redeploys the last successful version before the one running now
 * (rollback.ts picks it), through the same path as `/deploy to`: the same capability, lock, freeze and
 * approvals, with "rollback to <version>" as the reason on every card.
 */
import type { APIApplicationCommandOptionChoice } from "discord-api-types/v10";
import { ApplicationCommandOptionType } from "discord-api-types/v10";
import { findEnvironment } from "../../deploy/deploy-service.js";
import { pickRollbackTarget } from "../../deploy/rollback.js";
import { UserError } from "../../errors.js";
import { listDeployments } from "../../store/deployment-repository.js";
import { shortSha } from "../render/deployment-card.js";
import type { Command } from "./command.js";
import { environmentChoices, optionText, requestAndAnswer } from "./deploy.js";

/** How far back a rollback looks for the previous version. */
const HISTORY_SCANNED = 100;

export const command: Command = {
  data: {
    name: "rollback",
    description: "Redeploy the version before the current one (needs deploy or deploy-production)",
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: "env",
        description: "Environment, as named in the config file",
        required: true,
        autocomplete: true,
        max_length: 64,
      },
      {
        type: ApplicationCommandOptionType.String,
        name: "override-reason",
        description: "Admins only: roll back through a freeze, saying why (audited)",
        max_length: 300,
      },
    ],
  },
  // Like `/deploy to`: `deploy` or `deploy-production` depending on the environment, checked in the handler.
  access: { default: null },
  ephemeral: true,

  async execute(context) {
    const environment = findEnvironment(context.services.config, optionText(context, "env") ?? "");
    const history = await listDeployments(context.services.db, {
      environment: environment.name,
      limit: HISTORY_SCANNED,
    });
    // A deployment of another repository to an environment of the same name (tracked from GitHub) is no target.
    const target = pickRollbackTarget(
      history.filter((row) => row.repo.toLowerCase() === environment.repo.toLowerCase()),
    );
    if (!target) {
      throw new UserError(
        `${environment.name} has no earlier successful version to roll back to: use /deploy to ${environment.name} with a ref instead.`,
      );
    }
    // The release tag (`v1.2.0`) reads best; a bare commit by its short sha.
    const label = target.version ? target.ref : shortSha(target.sha);
    await requestAndAnswer(context, environment, {
      environment: environment.name,
      target: { ref: target.ref, sha: target.sha, version: target.version },
      reason: `rollback to ${label}`,
      overrideReason: optionText(context, "override-reason"),
    });
  },

  async autocomplete(context): Promise<APIApplicationCommandOptionChoice[]> {
    return environmentChoices(context, (context.options.focused?.value ?? "").trim().toLowerCase());
  },
};
