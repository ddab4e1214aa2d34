/**
 * Runs slash commands the way the gateway path does: a raw interaction (built with the bot driver's
 * `chatInput` / `autocomplete`) goes through the real command registry, dispatcher and responder, whose
 * answers travel over REST to the fake Discord, where the driver's `collectAnswers` reads them.
 *
 * Only the gateway hop is skipped, so a command test needs no logged-in bot and can swap services per call;
 * tests/integration/bot-gateway.test.ts covers that hop (the driver's `invokeCommand`).
 * `logs` holds every log line the dispatcher and commands wrote, for what an operator would see.
 */
import { Writable } from "node:stream";
import { REST } from "@discordjs/rest";
import type { APIInteraction } from "discord-api-types/v10";
import { parseConfigFile } from "../../src/config/config-file.js";
import { buildCommandRegistry } from "../../src/discord/command-registry.js";
import { ALL_COMMANDS } from "../../src/discord/commands/all-commands.js";
import type { CommandServices } from "../../src/discord/commands/command.js";
import { createInteractionDispatcher } from "../../src/discord/dispatcher.js";
import type { InteractionDispatcher } from "../../src/discord/dispatcher.js";
import { createResponder, restInitialResponse } from "../../src/discord/responder.js";
import { createLogger } from "../../src/observability/logger.js";
import type { Logger } from "../../src/observability/logger.js";
import type { Store } from "../../src/store/database.js";
import { FAKE_CHANNEL_ID } from "../fakes/discord-gateway.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { collectAnswers } from "./discord-bot-driver.js";
import type { InvocationResult } from "./discord-bot-driver.js";

export interface CommandInvoker {
  invoke(interaction: APIInteraction, overrides?: Partial<CommandServices>): Promise<InvocationResult>;
  /** Every JSON log line written while handling interactions. */
  logs: string[];
}

export function createCommandInvoker(options: {
  discord: FakeDiscord;
  db: Store["db"];
  /** Services on top of the defaults (an empty config file, the real clock, no GitHub or Linear API). */
  services?: Partial<CommandServices>;
  /** YAML text of the config file. */
  config?: string;
}): CommandInvoker {
  const logs: string[] = [];
  const commands = buildCommandRegistry(ALL_COMMANDS);
  const logger = capturingLogger(logs);

  return {
    logs,
    async invoke(interaction, overrides = {}) {
      const services: CommandServices = {
        db: options.db,
        config: parseConfigFile(options.config ?? "", "test-config.yaml"),
        clock: Date.now,
        listCommands: () => [...commands.values()],
        ...options.services,
        ...overrides,
      };
      const dispatcher = createInteractionDispatcher({
        commands,
        services,
        logger,
        metrics: { interactions: { inc: () => {} } },
      });
      return dispatchOverRest(options.discord, dispatcher, interaction);
    },
  };
}

/** A debug JSON logger whose lines land in `logs`; `secrets` are scrubbed as in production. */
export function capturingLogger(logs: string[], secrets: string[] = []): Logger {
  return createLogger({
    level: "debug",
    format: "json",
    secrets,
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        callback();
      },
    }),
  });
}

/**
 * Hands `interaction` to `dispatcher` with the real responder, whose answers go over REST (on the
 * interaction's own token, without the bot token) to the fake Discord, and collects them there.
 */
export async function dispatchOverRest(
  discord: FakeDiscord,
  dispatcher: InteractionDispatcher,
  interaction: APIInteraction,
): Promise<InvocationResult> {
  const rest = new REST({ api: discord.url, version: "10", retries: 0 });
  discord.trackInteraction({ id: interaction.id, token: interaction.token, channelId: FAKE_CHANNEL_ID });
  const responder = createResponder({
    interaction,
    rest,
    sendInitial: restInitialResponse(rest, interaction),
  });
  await dispatcher.dispatch(interaction, responder);
  return collectAnswers(discord, interaction, { quietMs: 20 });
}
