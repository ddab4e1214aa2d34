/**
 * The bot's Linear side, wired as the composition root will wire it: one real dispatcher (so cooldowns hold
 * across invocations) over every command, the real Linear client pointed at the fake Linear, the real
 * responder and feedback REST calls pointed at the fake Discord, and a store on a throwaway SQLite file.
 *
 * Interactions are built with the bot driver's payload builders and their answers read with its
 * `collectAnswers`; only the gateway hop is skipped, as in command-invoker.ts, which builds a fresh
 * dispatcher per call and so cannot show a cooldown.
 * The clock is the test's: `advance(ms)` moves it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REST } from "@discordjs/rest";
import type { APIInteraction } from "discord-api-types/v10";
import { parseConfigFile } from "../../src/config/config-file.js";
import { buildCommandRegistry } from "../../src/discord/command-registry.js";
import { ALL_COMMANDS } from "../../src/discord/commands/all-commands.js";
import type { CommandServices } from "../../src/discord/commands/command.js";
import { createInteractionDispatcher } from "../../src/discord/dispatcher.js";
import type { FeedbackDeps } from "../../src/discord/feedback-capture.js";
import { createRestFeedbackDiscord } from "../../src/discord/feedback-capture.js";
import { createLinearClient } from "../../src/sources/linear/linear-client.js";
import { openStore } from "../../src/store/database.js";
import type { Store } from "../../src/store/database.js";
import { FAKE_CHANNEL_ID, FAKE_MAINTAINER_ROLE_ID } from "../fakes/discord-gateway.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { startFakeLinear } from "../fakes/linear-server.js";
import type { FakeLinear } from "../fakes/linear-server.js";
import { capturingLogger, dispatchOverRest } from "./command-invoker.js";
import { DEFAULT_USER } from "./discord-bot-driver.js";
import type { InvocationResult } from "./discord-bot-driver.js";

export interface LinearBot {
  discord: FakeDiscord;
  linear: FakeLinear;
  store: Store;
  services: CommandServices;
  /** What the reaction hook receives. */
  feedbackDeps: FeedbackDeps;
  invoke(interaction: APIInteraction): Promise<InvocationResult>;
  advance(ms: number): void;
  logs: string[];
  close(): Promise<void>;
}

export async function startLinearBot(options: { config: string; linear?: boolean }): Promise<LinearBot> {
  const discord = await startFakeDiscord();
  const linear = await startFakeLinear();
  const directory = mkdtempSync(join(tmpdir(), "switchboard-linear-"));
  const store = await openStore(`sqlite:${join(directory, "db.sqlite")}`);
  const logs: string[] = [];
  const logger = capturingLogger(logs, [linear.apiKey]);
  let now = Date.parse("2025-06-02T09:00:00Z");
  const clock = () => now;
  const botRest = new REST({ api: discord.url, version: "10", retries: 0 }).setToken(discord.token);
  const config = parseConfigFile(options.config, "test-config.yaml");
  const commands = buildCommandRegistry(ALL_COMMANDS);
  const services: CommandServices = {
    db: store.db,
    config,
    clock,
    ...(options.linear === false
      ? {}
      : { linear: createLinearClient({ apiKey: linear.apiKey, apiUrl: linear.url, timeoutMs: 5000 }) }),
    feedbackDiscord: createRestFeedbackDiscord(botRest),
    listCommands: () => [...commands.values()],
  };
  const dispatcher = createInteractionDispatcher({
    commands,
    services,
    logger,
    metrics: { interactions: { inc: () => {} } },
  });
  return {
    discord,
    linear,
    store,
    services,
    feedbackDeps: {
      db: store.db,
      config,
      linear: services.linear,
      discord: services.feedbackDiscord,
      logger,
      clock,
    },
    logs,
    advance(ms) {
      now += ms;
    },
    invoke: (raw) =>
      dispatchOverRest(discord, dispatcher, {
        ...raw,
        application_id: discord.applicationId,
      } as APIInteraction),
    async close() {
      await Promise.all([discord.close(), linear.close()]);
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Two Discord users: ada (the driver's default user) files issues, grace writes the messages filed. */
export const ADA = DEFAULT_USER;
export const GRACE = { id: "200000000000000002", username: "grace" };

/** A role that may create issues, and the fake Discord channel mapped to the ENG team for feedback. */
export const CREATOR_ROLE = FAKE_MAINTAINER_ROLE_ID;
export const CREATE_ISSUES_CONFIG = `
discord:
  roles:
    create-issues: ["${CREATOR_ROLE}"]
  feedback:
    channels:
      "${FAKE_CHANNEL_ID}": ENG
`;

/** Before each test: no Linear faults or latency left over, and the clock past every cooldown. */
export function resetLinearBot(bot: LinearBot): void {
  bot.linear.clearFaults();
  bot.linear.setLatency(0);
  bot.advance(10 * 60_000);
}
