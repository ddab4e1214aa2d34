/**
 * Composition root: environment and config file in, a running Switchboard out. Everything is created here
 * and passed down; nothing below reads the environment or opens its own connections.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import { REST } from "@discordjs/rest";
import type { RequestHandler } from "express";
import type { ConfigFile } from "./config/config-file.js";
import type { Environment } from "./config/environment.js";
import { secretValues } from "./config/environment.js";
import { createShipNoticeWorker } from "./deploy/ship-notices.js";
import { buildCommandRegistry } from "./discord/command-registry.js";
import { ALL_COMMANDS } from "./discord/commands/all-commands.js";
import type { CommandServices } from "./discord/commands/command.js";
import { createInteractionDispatcher } from "./discord/dispatcher.js";
import { createRestFeedbackDiscord, handleFeedbackReaction } from "./discord/feedback-capture.js";
import type { GatewayClient } from "./discord/gateway.js";
import { createStatusReporter, packageVersion } from "./discord/status-report.js";
import { createHttpApp } from "./http/app.js";
import { ALL_JOBS } from "./jobs/all-jobs.js";
import { createScheduler } from "./jobs/scheduler.js";
import type { Scheduler } from "./jobs/scheduler.js";
import type { ReadinessCheck } from "./http/app.js";
import { createDiscordInteractionsHandler } from "./http/discord-interactions.js";
import { listeningUrl, startMetricsServer } from "./http/metrics-server.js";
import { readStatusSnapshot } from "./http/status-page/read-status-snapshot.js";
import { createLogger } from "./observability/logger.js";
import type { Logger } from "./observability/logger.js";
import { createMetrics } from "./observability/metrics.js";
import { createInboxWorker } from "./pipeline/inbox-worker.js";
import { SHARED_DATABASE_PRIORITY, createIngestionPriority } from "./pipeline/ingestion-priority.js";
import { SHARED_DATABASE_POLL_MS, createOutboxWorker } from "./pipeline/outbox-worker.js";
import { createRouteRuleSource } from "./pipeline/route-rules.js";
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
import { latestJobRuns } from "./store/job-run-repository.js";
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
  /** The command modules the bot answers; ALL_COMMANDS by default (tests add their own). */
  commands?: readonly unknown[];
}

export interface Switchboard {
  /** `http://host:port` when the web role runs. */
  url?: string;
  /** `http://host:port` of the metrics-only listener, when METRICS_PORT is set. */
  metricsUrl?: string;
  store: Store;
  logger: Logger;
  /** The gateway connection, when the bot role runs with DISCORD_TOKEN. */
  gateway?: GatewayClient;
  /** The job scheduler, in the all, worker and bot roles (the bot role only runs jobs on demand). */
  scheduler?: Scheduler;
  /** Stop accepting, finish what is in flight, close the store. */
  close(): Promise<void>;
}

export async function startSwitchboard(options: StartOptions): Promise<Switchboard> {
  const { env, config } = options;
  const role = options.role ?? "all";
  const startedAt = Date.now();
  const logger = createLogger({
    level: env.LOG_LEVEL,
    format: env.LOG_FORMAT,
    secrets: secretValues(env),
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const store = await openStore(env.DATABASE_URL, {
    onBackgroundError: (message) => logger.error({ component: "store" }, message),
  });
  const metrics = createMetrics({
    collectOutbox: () => countMessagesByStatus(store.db),
    gatewayConnected: () => (gateway ? gateway.state().status === "ready" : undefined),
  });
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
  // In the "all" role the inbox worker yields to the HTTP server of its own process; in the "worker" role
  // (PM2 layout) it leaves the database's write lock free for the web process between batches instead.
  const ingestion = createIngestionPriority();
  let outbox: WorkerLoop | undefined;
  let inbox: WorkerLoop | undefined;
  let shipNotices: WorkerLoop | undefined;
  if (role === "all" || role === "worker") {
    outbox = createOutboxWorker({
      db: store.db,
      durable: () => store.durable(),
      sink,
      logger: logger.child({ component: "outbox" }),
      metrics,
      maxAttempts: env.OUTBOX_MAX_ATTEMPTS,
      retryBaseMs: env.OUTBOX_RETRY_BASE_MS,
      retryMaxMs: env.OUTBOX_RETRY_MAX_MS,
      ...(role === "worker" ? { pollMs: SHARED_DATABASE_POLL_MS } : {}),
    });
    inbox = createInboxWorker({
      db: store.db,
      logger: logger.child({ component: "inbox" }),
      metrics,
      listRules: createRouteRuleSource(store.db, config.routes, logger).listRules,
      defaultChannel,
      environments: config.environments,
      threadsSupported: sink.supportsThreads,
      onEnqueued: () => {
        outbox?.wake();
        shipNotices?.wake();
      },
      priority: role === "worker" ? SHARED_DATABASE_PRIORITY : ingestion,
    });
    workers.push(inbox, outbox);
  }

  // One API client each, shared by jobs and commands; undefined when the credentials are not set. Octokit,
  // the Linear SDK and discord.js are large (about 10, 30 and 40 MB resident): load them only when configured.
  const github =
    env.GITHUB_TOKEN || env.GITHUB_APP_ID
      ? (await import("./sources/github/github-client.js")).createGitHubApi(env, {
          logger: logger.child({ component: "github" }),
        })
      : undefined;
  const linear = env.LINEAR_API_KEY
    ? (await import("./sources/linear/linear-client.js")).createLinearApi(env)
    : undefined;
  // Linear follow-ups of successful deployments run beside the inbox and outbox workers.
  if ((role === "all" || role === "worker") && github && linear) {
    shipNotices = createShipNoticeWorker({
      db: store.db,
      github,
      linear,
      environments: config.environments,
      logger: logger.child({ component: "ship-notices" }),
      metrics,
    });
    workers.push(shipNotices);
  }

  // Scheduled jobs: run on cron in the all and worker roles (one process at a time, by a lease in the store);
  // the bot role keeps one unstarted for `/jobs run`, `pause` and `resume`.
  const scheduler =
    role === "web"
      ? undefined
      : createScheduler({
          jobs: ALL_JOBS,
          config: config.jobs,
          services: { store, config, github, linear },
          logger: logger.child({ component: "scheduler" }),
          metrics,
          ...(env.TZ ? { defaultTimezone: env.TZ } : {}),
          ...(defaultChannel ? { defaultChannel } : {}),
          onEnqueued: () => outbox?.wake(),
        });

  // Chat commands: one dispatcher for interactions from the gateway (bot role) and over HTTP (web role).
  // Commands are registered with `switchboard register-commands`, never here.
  const runsGateway = (role === "all" || role === "bot") && env.DISCORD_TOKEN !== undefined;
  const takesHttpInteractions = (role === "all" || role === "web") && env.DISCORD_PUBLIC_KEY !== undefined;
  let gateway: GatewayClient | undefined;
  let interactionRest: REST | undefined;
  let discordInteractions: RequestHandler | undefined;
  if (runsGateway || takesHttpInteractions) {
    // Interaction callbacks and webhooks are authorised by the interaction token: no bot token needed.
    interactionRest = new REST({ api: env.DISCORD_API_URL, timeout: env.DISCORD_TIMEOUT_MS });
    const commands = buildCommandRegistry(options.commands ?? ALL_COMMANDS);
    const services: CommandServices = {
      db: store.db,
      config,
      clock: Date.now,
      listCommands: () => [...commands.values()],
      github,
      linear,
      ...(scheduler ? { jobs: scheduler } : {}),
      ...(defaultChannel ? { defaultChannel } : {}),
      onEnqueued: () => outbox?.wake(),
      // Feedback capture reads messages and starts threads as the bot, so it needs the bot token.
      ...(env.DISCORD_TOKEN
        ? {
            feedbackDiscord: createRestFeedbackDiscord(
              new REST({ api: env.DISCORD_API_URL, timeout: env.DISCORD_TIMEOUT_MS }).setToken(
                env.DISCORD_TOKEN,
              ),
            ),
          }
        : {}),
      status: createStatusReporter({
        db: store.db,
        clock: Date.now,
        startedAt,
        gatewayState: () => gateway?.state(),
        jobRuns: async () => {
          const latest = await latestJobRuns(store.db);
          return ALL_JOBS.map((job) => {
            const run = latest.get(job.name);
            return { name: job.name, lastRunAt: run?.finished_at ?? null, outcome: run?.outcome ?? null };
          });
        },
      }),
    };
    const dispatcher = createInteractionDispatcher({
      commands,
      services,
      logger: logger.child({ component: "interactions" }),
      metrics,
    });
    if (runsGateway) {
      const { createGatewayClient } = await import("./discord/gateway.js");
      gateway = createGatewayClient({
        token: env.DISCORD_TOKEN!,
        apiUrl: env.DISCORD_API_URL,
        dispatcher,
        rest: interactionRest,
        logger: logger.child({ component: "gateway" }),
        feedbackReactions: feedbackReactionsEnabled(env, config),
      });
      const feedbackDeps = {
        db: store.db,
        config,
        linear: services.linear,
        discord: services.feedbackDiscord,
        logger: logger.child({ component: "feedback" }),
        clock: Date.now,
      };
      gateway.onReaction(async (event) => {
        await handleFeedbackReaction(event, feedbackDeps);
      });
      gateway.start();
    }
    if (takesHttpInteractions) {
      discordInteractions = createDiscordInteractionsHandler({
        publicKey: env.DISCORD_PUBLIC_KEY!,
        dispatcher,
        rest: interactionRest,
        logger: logger.child({ component: "interactions" }),
      });
    }
  } else if (role === "bot") {
    logger.warn("The bot role has nothing to do without DISCORD_TOKEN: set it to answer chat commands.");
  }

  let server: Server | undefined;
  let draining = false;
  let url: string | undefined;
  if (role === "all" || role === "web") {
    // Deliveries arriving together share one commit (one fsync); each is answered after that commit.
    const persist: PersistDelivery = (delivery) => store.recordDelivery(delivery);
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
    if (gateway) {
      const connection = gateway;
      readiness.push({
        name: "gateway",
        check: async () => {
          const state = connection.state();
          return { ok: state.status === "ready", detail: state };
        },
      });
    }
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
      trustProxy: env.TRUST_PROXY,
      readiness,
      onAccepted: () => inbox?.wake(),
      ...(discordInteractions ? { discordInteractions } : {}),
      ...(env.STATUS_PAGE === "on" ? { statusSnapshot: statusSnapshotReader(store, config) } : {}),
    });
    server = createServer(app);
    // While closing, every answer tells the sender to reconnect (to the instance that replaces this one), so
    // keep-alive connections end after their request instead of holding the shutdown open.
    server.prependListener("request", (_req, res) => {
      if (draining) res.setHeader("connection", "close");
      ingestion.noteRequest();
    });
    // Senders keep connections open between deliveries; outlive their idle timeouts so none is cut mid-send.
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server!.once("error", reject);
      server!.listen(env.PORT, env.HOST, () => resolve());
    });
    url = listeningUrl(server);
    if (!env.GITHUB_WEBHOOK_SECRET)
      logger.info("GitHub webhooks are off: set GITHUB_WEBHOOK_SECRET to accept them.");
    if (!env.LINEAR_WEBHOOK_SECRET)
      logger.info("Linear webhooks are off: set LINEAR_WEBHOOK_SECRET to accept them.");
  }

  // Started last, so a scrape never finds a process that is still setting up.
  const metricsServer =
    env.METRICS_PORT !== undefined
      ? await startMetricsServer({
          metrics,
          host: env.HOST,
          port: env.METRICS_PORT + env.NODE_APP_INSTANCE,
        })
      : undefined;

  for (const worker of workers) worker.start();
  // In one process a stored delivery wakes the inbox worker directly; a worker process is woken by the web
  // process's deliveries through the store instead (its inbox poll stays as the fallback).
  const deliveryWatcher = role === "worker" ? store.watchDeliveries(() => inbox?.wake()) : undefined;
  if (role === "all" || role === "worker") await scheduler?.start();
  logger.info(
    {
      role,
      url,
      metricsUrl: metricsServer?.url,
      store: store.location,
      sink: sink.name,
      routes: rules.length,
    },
    "Switchboard started",
  );

  let closing: Promise<void> | undefined;
  return {
    ...(url ? { url } : {}),
    ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
    store,
    logger,
    ...(gateway ? { gateway } : {}),
    ...(scheduler ? { scheduler } : {}),
    close() {
      closing ??= (async () => {
        if (server) {
          draining = true;
          const stopped = new Promise<void>((resolve) => server!.close(() => resolve()));
          server.closeIdleConnections();
          // Connections busy at close() become idle later; end them then too.
          const sweep = setInterval(() => server!.closeIdleConnections(), 100);
          await stopped;
          clearInterval(sweep);
        }
        await gateway?.close();
        interactionRest?.clearHashSweeper();
        interactionRest?.clearHandlerSweeper();
        await scheduler?.stop();
        await deliveryWatcher?.stop();
        await Promise.all(workers.map((worker) => worker.stop()));
        await metricsServer?.close();
        await store.close();
        logger.info("Switchboard stopped");
      })();
      return closing;
    },
  };
}

/** What `GET /status` and `GET /api/deployments` show, read afresh for each request. */
function statusSnapshotReader(store: Store, config: ConfigFile) {
  const version = packageVersion();
  return () => readStatusSnapshot({ db: store.db, config, clock: Date.now, version });
}

/**
 * Feedback reactions file a message in Linear, so they are on only with a Linear key and a team to file in;
 * they decide whether the gateway asks for the reaction and (privileged) message content intents.
 */
function feedbackReactionsEnabled(env: Environment, config: ConfigFile): boolean {
  const feedback = config.discord.feedback;
  return (
    env.LINEAR_API_KEY !== undefined &&
    (feedback.team !== undefined || Object.keys(feedback.channels).length > 0)
  );
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
      globalRequestsPerSecond: env.DISCORD_GLOBAL_REQUESTS_PER_SECOND,
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
