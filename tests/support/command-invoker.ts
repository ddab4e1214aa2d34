/**
 * Runs slash commands the way the gateway path does: a raw interaction (built with the bot driver's
 * `chatInput` / `autocomplete`) goes through the real command registry, dispatcher and responder, whose
 * answers travel over REST to the fake Discord, where the driver's `collectAnswers` reads them.
 *
 * Only the gateway hop is skipped: Switchboard has no bot role logging in to the gateway yet. Once it has,
 * `invoke` becomes the driver's `invokeCommand(discord, interaction)` with no other change to the tests.
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
import { createResponder, restInitialResponse } from "../../src/discord/responder.js";
import { createLogger } from "../../src/observability/logger.js";
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
  const logger = createLogger({
    level: "debug",
    format: "json",
    secrets: [],
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        callback();
      },
    }),
  });

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
      const rest = new REST({ api: options.discord.url, version: "10", retries: 0 });
      options.discord.trackInteraction({
        id: interaction.id,
        token: interaction.token,
        channelId: FAKE_CHANNEL_ID,
      });
      const responder = createResponder({
        interaction,
        rest,
        sendInitial: restInitialResponse(rest, interaction),
      });
      await dispatcher.dispatch(interaction, responder);
      return collectAnswers(options.discord, interaction, { quietMs: 20 });
    },
  };
}
