#!/usr/bin/env node
/**
 * `switchboard <command>`: start, simulate, outbox retry, doctor. Parses arguments, loads configuration and
 * hands over to main.ts or a store function; prints errors an operator can act on and exits non-zero.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError } from "./config/config-error.js";
import { loadConfigFile } from "./config/config-file.js";
import { loadEnvironment } from "./config/environment.js";
import type { Environment } from "./config/environment.js";
import { startSwitchboard } from "./main.js";
import type { Role } from "./main.js";
import { githubFixtureNames, loadGitHubFixture } from "./sources/github/fixtures.js";
import { linearFixtureNames, loadLinearFixture } from "./sources/linear/fixtures.js";
import { signGitHubDelivery, signLinearDelivery } from "./sources/signed-delivery.js";
import type { SignedDelivery } from "./sources/signed-delivery.js";
import { openStore } from "./store/database.js";
import { requeueDeadMessages } from "./store/outbox-repository.js";

const USAGE = `Usage: switchboard <command>

  start [--role all|web|bot|worker]       run Switchboard (default: every role in one process)
  simulate <github|linear> <event> [--fixture FILE] [--url URL]
                                          send a correctly signed sample delivery to a running instance
  outbox retry [ID...]                    resend dead-lettered messages (all, or the given ids)
  doctor                                  check the environment and config file, and say what to fix

Configuration comes from environment variables (see integration/.env.example) and CONFIG_FILE.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start":
      return start(rest);
    case "simulate":
      return simulate(rest);
    case "outbox":
      return outbox(rest);
    case "doctor":
      return doctor();
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
  const switchboard = await startSwitchboard({ env, config, role });
  // PM2's wait_ready: only now is the instance listening and its workers running.
  process.send?.("ready");
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      switchboard.logger.info({ signal }, "Shutting down");
      resolve();
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await switchboard.close();
  return 0;
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
    payload = JSON.parse(readFileSync(fixtureFile, "utf8"));
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

async function doctor(): Promise<number> {
  const problems: string[] = [];
  const notes: string[] = [];
  const env = loadEnvironment();
  const { path } = loadConfigFile(env.CONFIG_FILE);
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
