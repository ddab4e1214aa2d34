/**
 * Composition root: environment and config file in, a running Switchboard out. Everything is created here
 * and passed down; nothing below reads the environment or opens its own connections.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConfigFile } from "./config/config-file.js";
import type { Environment } from "./config/environment.js";
import { secretValues } from "./config/environment.js";
import { createHttpApp } from "./http/app.js";
import type { ReadinessCheck } from "./http/app.js";
import { createLogger } from "./observability/logger.js";
import type { Logger } from "./observability/logger.js";
import { createMetrics } from "./observability/metrics.js";
import { createInboxWorker } from "./pipeline/inbox-worker.js";
import { createOutboxWorker } from "./pipeline/outbox-worker.js";
import type { RouteRule } from "./pipeline/router.js";
import { createConsoleSink } from "./pipeline/sinks/console-sink.js";
import { createDiscordBotSink } from "./pipeline/sinks/discord-bot-sink.js";
import { createDiscordWebhookSink } from "./pipeline/sinks/discord-webhook-sink.js";
import type { Sink } from "./pipeline/sinks/sink.js";
import type { WorkerLoop } from "./pipeline/worker-loop.js";
import { GITHUB_BODY_LIMIT_BYTES, createGitHubReceiver } from "./sources/github/receiver.js";
import { LINEAR_BODY_LIMIT_BYTES, createLinearReceiver } from "./sources/linear/receiver.js";
import type { PersistDelivery } from "./sources/webhook-receiver.js";
import { openStore } from "./store/database.js";
import type { Store } from "./store/database.js";
import { recordDelivery } from "./store/inbox-repository.js";
import { countMessagesByStatus, listDeadMessages } from "./store/outbox-repository.js";

export type Role = "all" | "web" | "bot" | "worker";

export interface StartOptions {
  env: Environment;
  config: ConfigFile;
  role?: Role;
  /** Where logs go (stdout by default); tests collect them. */
  logDestination?: NodeJS.WritableStream;
  /** Where the console sink prints (stdout by default). */
  consoleWrite?: (line: string) => void;
}

export interface Switchboard {
  /** `http://host:port` when the web role runs. */
  url?: string;
  store: Store;
  logger: Logger;
  /** Stop accepting, finish what is in flight, close the store. */
  close(): Promise<void>;
}

export async function startSwitchboard(options: StartOptions): Promise<Switchboard> {
  const { env, config } = options;
  const role = options.role ?? "all";
  const logger = createLogger({
    level: env.LOG_LEVEL,
    format: env.LOG_FORMAT,
    secrets: secretValues(env),
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const store = await openStore(env.DATABASE_URL);
  const metrics = createMetrics({ collectOutbox: () => countMessagesByStatus(store.db) });
  const onDiscordResponse = (status: number) => metrics.discordRequests.inc({ status: String(status) });
  const sink = chooseSink(env, logger, onDiscordResponse, options.consoleWrite);
  const rules: RouteRule[] = config.routes.map((route) => ({ ...route, origin: "config" }));
  // Console and webhook sinks post wherever they post: with no channel configured, events still show.
  const defaultChannel =
    env.DISCORD_DEFAULT_CHANNEL_ID ?? (sink.name === "discord-bot" ? undefined : "default");
  if (sink.name === "discord-bot" && rules.length === 0 && !defaultChannel) {
    logger.warn("No routes and no DISCORD_DEFAULT_CHANNEL_ID: events are recorded but posted nowhere.");
  }

  const workers: WorkerLoop[] = [];
  let outbox: WorkerLoop | undefined;
  let inbox: WorkerLoop | undefined;
  if (role === "all" || role === "worker") {
    outbox = createOutboxWorker({
      db: store.db,
      sink,
      logger: logger.child({ component: "outbox" }),
      metrics,
      maxAttempts: env.OUTBOX_MAX_ATTEMPTS,
      retryBaseMs: env.OUTBOX_RETRY_BASE_MS,
      retryMaxMs: env.OUTBOX_RETRY_MAX_MS,
    });
    inbox = createInboxWorker({
      db: store.db,
      logger: logger.child({ component: "inbox" }),
      metrics,
      listRules: async () => rules,
      defaultChannel,
      threadsSupported: sink.supportsThreads,
      onEnqueued: () => outbox?.wake(),
    });
    workers.push(inbox, outbox);
  }

  let server: Server | undefined;
  let url: string | undefined;
  if (role === "all" || role === "web") {
    const persist: PersistDelivery = (delivery) => recordDelivery(store.db, delivery);
    const readiness: ReadinessCheck[] = [
      {
        name: "store",
        check: async () => {
          await countMessagesByStatus(store.db);
          return { ok: true, detail: { location: store.location } };
        },
      },
      {
        name: "outbox",
        // Dead letters need an operator but do not make this instance unfit for traffic.
        check: async () => {
          const counts = await countMessagesByStatus(store.db);
          const dead = counts.dead > 0 ? await listDeadMessages(store.db, 5) : [];
          return {
            ok: true,
            detail: {
              sink: sink.name,
              pending: counts.pending,
              dead: counts.dead,
              ...(dead.length > 0
                ? {
                    latestDead: dead.map((row) => ({
                      id: row.id,
                      channel: row.channel_id,
                      error: row.last_error,
                    })),
                    fix: "Fix the cause, then run `switchboard outbox retry`.",
                  }
                : {}),
            },
          };
        },
      },
    ];
    const app = createHttpApp({
      logger: logger.child({ component: "http" }),
      metrics,
      ...(env.GITHUB_WEBHOOK_SECRET
        ? { github: createGitHubReceiver({ secret: env.GITHUB_WEBHOOK_SECRET, persist }) }
        : {}),
      ...(env.LINEAR_WEBHOOK_SECRET
        ? { linear: createLinearReceiver({ secret: env.LINEAR_WEBHOOK_SECRET, persist }) }
        : {}),
      bodyLimits: { github: GITHUB_BODY_LIMIT_BYTES, linear: LINEAR_BODY_LIMIT_BYTES },
      readiness,
      onAccepted: () => inbox?.wake(),
    });
    server = createServer(app);
    // Senders keep connections open between deliveries; outlive their idle timeouts so none is cut mid-send.
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server!.once("error", reject);
      server!.listen(env.PORT, env.HOST, () => resolve());
    });
    const address = server.address() as AddressInfo;
    url = `http://${address.address.includes(":") ? `[${address.address}]` : address.address}:${address.port}`;
    if (!env.GITHUB_WEBHOOK_SECRET)
      logger.info("GitHub webhooks are off: set GITHUB_WEBHOOK_SECRET to accept them.");
    if (!env.LINEAR_WEBHOOK_SECRET)
      logger.info("Linear webhooks are off: set LINEAR_WEBHOOK_SECRET to accept them.");
  }

  for (const worker of workers) worker.start();
  logger.info(
    { role, url, store: store.location, sink: sink.name, routes: rules.length },
    "Switchboard started",
  );

  let closing: Promise<void> | undefined;
  return {
    ...(url ? { url } : {}),
    store,
    logger,
    close() {
      closing ??= (async () => {
        if (server) {
          const stopped = new Promise<void>((resolve) => server!.close(() => resolve()));
          server.closeIdleConnections();
          await stopped;
        }
        await Promise.all(workers.map((worker) => worker.stop()));
        await store.close();
        logger.info("Switchboard stopped");
      })();
      return closing;
    },
  };
}

function chooseSink(
  env: Environment,
  logger: Logger,
  onResponse: (status: number) => void,
  consoleWrite: ((line: string) => void) | undefined,
): Sink {
  if (env.DISCORD_TOKEN) {
    return createDiscordBotSink({
      token: env.DISCORD_TOKEN,
      apiUrl: env.DISCORD_API_URL,
      timeoutMs: env.DISCORD_TIMEOUT_MS,
      onResponse,
    });
  }
  if (env.DISCORD_WEBHOOK_URL) {
    logger.info("Posting through DISCORD_WEBHOOK_URL: no threads or commands without DISCORD_TOKEN.");
    return createDiscordWebhookSink({
      webhookUrl: env.DISCORD_WEBHOOK_URL,
      timeoutMs: env.DISCORD_TIMEOUT_MS,
      onResponse,
    });
  }
  logger.warn(
    "No Discord credentials: notifications are printed to the console. Set DISCORD_TOKEN and DISCORD_DEFAULT_CHANNEL_ID " +
      "(or routes in switchboard.yaml) to post with a bot, or DISCORD_WEBHOOK_URL to post through a channel webhook.",
  );
  return consoleWrite ? createConsoleSink(consoleWrite) : createConsoleSink();
}
