/* global process, URL */
/**
 * PM2 apps for Switchboard. PM2 reads this file (an ES module, because package.json says "type": "module")
 * through its named export `apps`; a default export would leave PM2 with no apps.
 *
 *   npm run pm2:start            the roles as separate processes (default)
 *   SWITCHBOARD_PM2_MODE=single npm run pm2:start
 *                                everything in one process (`start --role all`): the small-team setup and the
 *                                Docker image's choice
 *
 * Roles (all on the same DATABASE_URL; SQLite in WAL mode serves several processes on one host):
 *   switchboard-web     webhooks, /discord/interactions, health, metrics. Cluster mode, so `pm2 reload`
 *                       starts a new worker, waits for its "ready" and only then stops the old one: no
 *                       delivery is refused during a deploy.
 *   switchboard-bot     the Discord gateway. Exactly one: two gateway sessions would answer every command twice.
 *   switchboard-worker  inbox and outbox workers and the scheduler. Exactly one: the scheduler must not run
 *                       a job twice.
 *
 * Environment: PM2 passes its own environment on, so export the variables of integration/.env.example (or
 * their `<NAME>_FILE` forms) before `pm2 start`, or use `pm2 start ecosystem.config.js --env production`
 * with an `env_production` block of your own. This file reads only the SWITCHBOARD_PM2_* knobs below.
 */

/** `roles` (default) or `single`. */
const mode = process.env.SWITCHBOARD_PM2_MODE === "single" ? "single" : "roles";
/** Web workers in cluster mode; 2 keeps one answering while the other reloads. */
const webInstances = Number(process.env.SWITCHBOARD_PM2_WEB_INSTANCES ?? 2);
/**
 * In `roles` mode every process serves /metrics on a port of its own (METRICS_PORT) so Prometheus sees the
 * worker's and bot's metrics too: web instances on base, base+1, ...; the bot on base+10; the worker on
 * base+20. Scrape them as in integration/prometheus/prometheus.yml.
 */
const metricsPortBase = Number(process.env.SWITCHBOARD_PM2_METRICS_PORT_BASE ?? 9100);

/** Settings every app shares. */
const common = {
  script: "dist/cli.js",
  cwd: import.meta.dirname ?? new URL(".", import.meta.url).pathname,
  // The CLI sends "ready" once its role is up (listening, gateway connected, workers running).
  wait_ready: true,
  // How long PM2 waits for "ready" before treating the process as online anyway (start-up runs migrations
  // and, for the bot, logs in to Discord).
  listen_timeout: 30_000,
  // SIGINT starts a graceful shutdown: stop accepting, finish in-flight requests and batches (Discord
  // requests time out after DISCORD_TIMEOUT_MS, 10 s by default), close the store. 20 s covers that; only
  // then does PM2 send SIGKILL.
  kill_timeout: 20_000,
  // A crash loop backs off from 100 ms doubling to 15 s instead of hammering Discord or the database.
  exp_backoff_restart_delay: 100,
  max_memory_restart: "400M",
  // Logs are JSON lines (pino); PM2 adds no prefix so they stay parseable.
  time: false,
  merge_logs: true,
  autorestart: true,
};

const roleApps = [
  {
    ...common,
    name: "switchboard-web",
    args: "start --role web",
    exec_mode: "cluster",
    instances: webInstances,
    env: { METRICS_PORT: String(metricsPortBase) },
  },
  {
    ...common,
    name: "switchboard-bot",
    args: "start --role bot",
    exec_mode: "fork",
    instances: 1,
    env: { METRICS_PORT: String(metricsPortBase + 10) },
  },
  {
    ...common,
    name: "switchboard-worker",
    args: "start --role worker",
    exec_mode: "fork",
    instances: 1,
    env: { METRICS_PORT: String(metricsPortBase + 20) },
  },
];

const singleApps = [
  {
    ...common,
    name: "switchboard",
    args: "start --role all",
    exec_mode: "fork",
    instances: 1,
  },
];

export const apps = mode === "single" ? singleApps : roleApps;
