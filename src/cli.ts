#!/usr/bin/env node
/**
 * `switchboard <command>`: start, register-commands, simulate, outbox retry, doctor, backup, restore. Parses arguments, loads configuration and
 * hands over to main.ts or a store function; prints errors an operator can act on and exits non-zero.
 */
import { parseArgs } from "node:util";
import { DiscordAPIError, REST } from "@discordjs/rest";
import { ConfigError } from "./config/config-error.js";
import { loadConfigFile } from "./config/config-file.js";
import { loadEnvironment } from "./config/environment.js";
import type { Environment } from "./config/environment.js";
import { buildCommandRegistry } from "./discord/command-registry.js";
import { ALL_COMMANDS } from "./discord/commands/all-commands.js";
import { describeRegistration, registerCommands } from "./discord/register-commands.js";
import type { Role } from "./main.js";
import { readJsonFile } from "./sources/fixture-files.js";
import { githubFixtureNames, loadGitHubFixture } from "./sources/github/fixtures.js";
import { linearFixtureNames, loadLinearFixture } from "./sources/linear/fixtures.js";
import { signGitHubDelivery, signLinearDelivery } from "./sources/signed-delivery.js";
import type { SignedDelivery } from "./sources/signed-delivery.js";
import { backupSqlite, restoreSqlite, sqlitePathOf } from "./store/backup.js";
import { openStore } from "./store/database.js";
import { requeueDeadMessages } from "./store/outbox-repository.js";

const USAGE = `Usage: switchboard <command>

  start [--role all|web|bot|worker]       run Switchboard (default: every role in one process)
  register-commands                       register the slash commands with Discord (in DISCORD_GUILD_ID
                                          when set, globally otherwise); writes only what changed
  simulate <github|linear> <event> [--fixture FILE] [--url URL]
                                          send a correctly signed sample delivery to a running instance
  outbox retry [ID...]                    resend dead-lettered messages (all, or the given ids)
  doctor [--config FILE]                  check the environment and config file (FILE instead of
                                          CONFIG_FILE), and say what to fix
  backup <file>                           copy the SQLite database to <file>, safe while Switchboard runs
  restore <file>                          replace the SQLite database with <file>; stop Switchboard first

Configuration comes from environment variables (see integration/.env.example) and CONFIG_FILE.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start":
      return start(rest);
    case "simulate":
      return simulate(rest);
    case "register-commands":
      return registerCommandsCommand();
    case "outbox":
      return outbox(rest);
    case "doctor":
      return doctor(rest);
    case "backup":
      return backup(rest);
    case "restore":
      return restore(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { role: { type: "string", default: "all" } } });
  const role = values.role as Role;
  if (!["all", "web", "bot", "worker"].includes(role))
    throw new UsageError(`--role must be all, web, bot or worker.`);
  const env = loadEnvironment();
  const { config } = loadConfigFile(env.CONFIG_FILE);
  // Loaded here, not at the top: the one-shot commands need none of it (discord.js alone takes a second).
  const { startSwitchboard } = await import("./main.js");
  const switchboard = await startSwitchboard({ env, config, role });
  // PM2's wait_ready: only now is the instance listening, its workers running and its gateway connected.
  if (process.send) {
    await gatewaySettled(switchboard);
    process.send("ready");
  }
  // A role with nothing to listen to or poll (the bot without DISCORD_TOKEN) must still live until told to
  // stop; otherwise Node exits and PM2 restarts it in a loop.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      switchboard.logger.info({ signal }, "Shutting down");
      resolve();
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  clearInterval(keepAlive);
  await switchboard.close();
  // Everything is closed, but a PM2 cluster worker's IPC channel keeps Node running until PM2's kill_timeout
  // ends in SIGKILL: leave on our own once the last log lines had a moment to flush.
  setTimeout(() => process.exit(), 500).unref();
  return 0;
}

/**
 * The gateway logs in in the background; a reload must not stop the old bot before the new one is connected.
 * Resolves once it is connected or has failed for good (the process then stays up, and /readyz says why),
 * or after 25 s, inside PM2's listen_timeout.
 */
async function gatewaySettled(switchboard: { gateway?: { state(): { status: string } } }): Promise<void> {
  const gateway = switchboard.gateway;
  if (!gateway) return;
  const deadline = Date.now() + 25_000;
  while (gateway.state().status === "connecting" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function registerCommandsCommand(): Promise<number> {
  const env = loadEnvironment();
  const missing = [
    env.DISCORD_TOKEN ? "" : "DISCORD_TOKEN (Developer Portal > your app > Bot > Reset Token)",
    env.DISCORD_APPLICATION_ID
      ? ""
      : "DISCORD_APPLICATION_ID (Developer Portal > your app > General Information)",
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new ConfigError(`register-commands needs ${missing.join(" and ")}.`);
  }
  // The loader checks every command file against the contract before anything is sent.
  const commands = [...buildCommandRegistry(ALL_COMMANDS).values()];
  const rest = new REST({ api: env.DISCORD_API_URL, timeout: env.DISCORD_TIMEOUT_MS }).setToken(
    env.DISCORD_TOKEN!,
  );
  try {
    const result = await registerCommands({
      rest,
      applicationId: env.DISCORD_APPLICATION_ID!,
      ...(env.DISCORD_GUILD_ID ? { guildId: env.DISCORD_GUILD_ID } : {}),
      commands,
    });
    console.log(describeRegistration(result));
    return 0;
  } catch (error) {
    if (error instanceof DiscordAPIError) {
      console.error(explainRegistrationError(error, env.DISCORD_GUILD_ID));
      return 1;
    }
    throw error;
  } finally {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
  }
}

/** Discord's answer, turned into what the operator should change. */
function explainRegistrationError(error: DiscordAPIError, guildId: string | undefined): string {
  if (error.status === 401)
    return "Discord refused DISCORD_TOKEN (401): reset the bot token in the Developer Portal.";
  if (error.status === 403 && guildId && error.code === 50001) {
    return `The bot cannot manage commands in guild ${guildId} (DISCORD_GUILD_ID): invite it with the applications.commands scope.`;
  }
  if (error.status === 403 || error.status === 404) {
    return `Discord answered ${error.status} (${error.message}): check that DISCORD_APPLICATION_ID is this bot's application${guildId ? ` and DISCORD_GUILD_ID a guild it is in` : ""}.`;
  }
  const details =
    error.rawError && "errors" in error.rawError ? ` ${JSON.stringify(error.rawError.errors)}` : "";
  return `Discord refused the commands (${error.status} ${error.message}).${details}`;
}

async function simulate(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { fixture: { type: "string" }, url: { type: "string" } },
  });
  const [source, event] = positionals;
  if ((source !== "github" && source !== "linear") || !event) {
    throw new UsageError(
      "simulate needs a source (github or linear) and an event, e.g. `simulate github pull_request.opened`.",
    );
  }
  const env = loadEnvironment();
  const base = values.url ?? `http://${env.HOST === "0.0.0.0" ? "127.0.0.1" : env.HOST}:${env.PORT}`;
  const delivery = await buildSimulatedDelivery(env, source, event, values.fixture);
  const response = await fetch(new URL(delivery.path, base), {
    method: "POST",
    headers: delivery.headers,
    body: delivery.body,
  }).catch((error: unknown) => {
    throw new UsageError(
      `Could not reach Switchboard at ${base} (${(error as Error).message}): is it running?`,
    );
  });
  const answer = await response.text();
  console.log(`${response.status} ${answer} (delivery ${delivery.deliveryId})`);
  if (response.status === 404) {
    console.error(
      `The instance has no ${source} secret: start it with the same ${secretName(source)} as this command.`,
    );
  }
  return response.ok ? 0 : 1;
}

async function buildSimulatedDelivery(
  env: Environment,
  source: "github" | "linear",
  event: string,
  fixtureFile: string | undefined,
): Promise<SignedDelivery> {
  const secret = source === "github" ? env.GITHUB_WEBHOOK_SECRET : env.LINEAR_WEBHOOK_SECRET;
  if (!secret)
    throw new UsageError(
      `Set ${secretName(source)} (the same value as the running instance) to sign the delivery.`,
    );
  const names = source === "github" ? githubFixtureNames() : linearFixtureNames();
  let payload: unknown;
  let header = event.split(".", 1)[0]!;
  if (fixtureFile) {
    try {
      payload = readJsonFile(fixtureFile, "--fixture");
    } catch (error) {
      throw new UsageError(`${(error as Error).message}: pass a file holding one webhook payload as JSON.`);
    }
  } else {
    // `pull_request.closed` picks the first of pull_request.closed.merged / .unmerged.
    const name =
      names.find((candidate) => candidate === event) ??
      names.find((candidate) => candidate.startsWith(`${event}.`));
    if (!name) throw new UsageError(`No ${source} sample for "${event}". Known: ${names.join(", ")}`);
    const fixture = source === "github" ? loadGitHubFixture(name) : loadLinearFixture(name);
    payload = fixture.payload;
    header = fixture.event;
  }
  return source === "github"
    ? signGitHubDelivery({ secret, event: header, payload })
    : signLinearDelivery({ secret, payload });
}

async function outbox(args: string[]): Promise<number> {
  const [action, ...ids] = args;
  if (action !== "retry") throw new UsageError("Usage: switchboard outbox retry [ID...]");
  const numbers = ids.map((id) => {
    const value = Number(id);
    if (!Number.isInteger(value) || value <= 0) throw new UsageError(`"${id}" is not an outbox message id.`);
    return value;
  });
  const env = loadEnvironment();
  const store = await openStore(env.DATABASE_URL);
  try {
    const count = await requeueDeadMessages(store.db, Date.now(), numbers);
    console.log(
      `${count} dead-lettered message(s) queued again; a running worker sends them within seconds.`,
    );
  } finally {
    await store.close();
  }
  return 0;
}

async function doctor(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: "string" } } });
  const problems: string[] = [];
  const notes: string[] = [];
  const env = loadEnvironment();
  // An invalid file throws a ConfigError naming the path and the reason: exit 1.
  const { path } = loadConfigFile(values.config ?? env.CONFIG_FILE);
  notes.push(`config file: ${path ?? "none (routes empty)"} is valid`);
  if (!env.DISCORD_TOKEN && !env.DISCORD_WEBHOOK_URL) {
    problems.push("No DISCORD_TOKEN or DISCORD_WEBHOOK_URL: notifications go to the console only.");
  }
  if (!env.GITHUB_WEBHOOK_SECRET)
    problems.push("GITHUB_WEBHOOK_SECRET is unset: /webhooks/github answers 404.");
  if (!env.LINEAR_WEBHOOK_SECRET)
    problems.push("LINEAR_WEBHOOK_SECRET is unset: /webhooks/linear answers 404.");
  if (env.DISCORD_TOKEN) {
    const response = await fetch(`${env.DISCORD_API_URL}/v10/users/@me`, {
      headers: { authorization: `Bot ${env.DISCORD_TOKEN}` },
      signal: AbortSignal.timeout(env.DISCORD_TIMEOUT_MS),
    }).catch((error: unknown) => error as Error);
    if (response instanceof Error)
      problems.push(`Discord API at ${env.DISCORD_API_URL} unreachable: ${response.message}`);
    else if (response.status === 401)
      problems.push("DISCORD_TOKEN was refused by Discord (401): reset it in the Developer Portal.");
    else if (!response.ok) problems.push(`Discord answered ${response.status} to GET /users/@me.`);
    else notes.push("Discord: the bot token works");
  }
  for (const note of notes) console.log(`ok   ${note}`);
  for (const problem of problems) console.log(`warn ${problem}`);
  return 0;
}

async function backup(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [target] = positionals;
  if (!target || positionals.length > 1) throw new UsageError("Usage: switchboard backup <file>");
  const env = loadEnvironment();
  const database = sqlitePathOrExplain(env.DATABASE_URL);
  const pages = await backupSqlite(database, target).catch((error: unknown) => {
    throw new ConfigError(`Backup failed: ${(error as Error).message}`);
  });
  console.log(`Backed up ${database} to ${target} (${pages} pages).`);
  return 0;
}

async function restore(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [source] = positionals;
  if (!source || positionals.length > 1) throw new UsageError("Usage: switchboard restore <file>");
  const env = loadEnvironment();
  const database = sqlitePathOrExplain(env.DATABASE_URL);
  try {
    restoreSqlite(source, database);
  } catch (error) {
    throw new ConfigError(`Restore failed: ${(error as Error).message}`);
  }
  console.log(
    `Restored ${database} from ${source}; the replaced file is kept as ${database}.before-restore. ` +
      "Start Switchboard again: it resumes the inbox and outbox where the backup left them.",
  );
  return 0;
}

/** The database path for backup and restore, or an operator-facing error (Postgres, in-memory). */
function sqlitePathOrExplain(databaseUrl: string): string {
  try {
    return sqlitePathOf(databaseUrl);
  } catch (error) {
    throw new ConfigError(`DATABASE_URL: ${(error as Error).message}`);
  }
}

function secretName(source: "github" | "linear"): string {
  return source === "github" ? "GITHUB_WEBHOOK_SECRET" : "LINEAR_WEBHOOK_SECRET";
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof UsageError) {
      console.error(error.message);
      if (error instanceof UsageError) console.error(`\n${USAGE}`);
    } else {
      console.error(error);
    }
    process.exitCode = 1;
  },
);
