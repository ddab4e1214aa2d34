/**
 * Environment variables, parsed once into a typed object. The only module (with config-file.ts) that reads
 * process.env; everything else receives `Environment` from the composition root.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError, describeZodIssues } from "./config-error.js";

/** Variables that hold secrets: each may also be given as `<NAME>_FILE`, and none is ever logged. */
export const SECRET_VARIABLES = [
  "DISCORD_TOKEN",
  "DISCORD_PUBLIC_KEY",
  "DISCORD_WEBHOOK_URL",
  "GITHUB_WEBHOOK_SECRET",
  "GITHUB_TOKEN",
  "GITHUB_APP_PRIVATE_KEY",
  "LINEAR_WEBHOOK_SECRET",
  "LINEAR_API_KEY",
  "DATABASE_URL",
] as const;

const snowflake = z.string().regex(/^\d{17,20}$/, "a Discord id (17 to 20 digits)");
const optionalText = z
  .string()
  .transform((value) => value.trim())
  .pipe(z.string())
  .optional()
  .transform((value) => (value === "" ? undefined : value));
const url = z.url({ protocol: /^https?$/, error: "an http(s) URL" });
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const environmentSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default("127.0.0.1"),
    DATABASE_URL: z
      .string()
      .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, "sqlite:<path> or postgres://...")
      .default("sqlite:./data/switchboard.db"),
    CONFIG_FILE: optionalText,
    DISCORD_TOKEN: optionalText,
    DISCORD_APPLICATION_ID: snowflake.optional(),
    DISCORD_PUBLIC_KEY: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, "the application's 64-character hex public key")
      .optional(),
    DISCORD_GUILD_ID: snowflake.optional(),
    DISCORD_API_URL: url.default("https://discord.com/api"),
    DISCORD_WEBHOOK_URL: url.optional(),
    DISCORD_DEFAULT_CHANNEL_ID: snowflake.optional(),
    /** How long one Discord request may take before it counts as failed and is retried. */
    DISCORD_TIMEOUT_MS: positiveInt(10_000),
    /** Discord allows a bot 50 requests per second unless it has granted that bot more. */
    DISCORD_GLOBAL_REQUESTS_PER_SECOND: positiveInt(50),
    GITHUB_WEBHOOK_SECRET: optionalText,
    GITHUB_TOKEN: optionalText,
    GITHUB_APP_ID: optionalText,
    GITHUB_APP_PRIVATE_KEY: optionalText,
    GITHUB_APP_INSTALLATION_ID: optionalText,
    GITHUB_API_URL: url.default("https://api.github.com"),
    LINEAR_WEBHOOK_SECRET: optionalText,
    LINEAR_API_KEY: optionalText,
    LINEAR_API_URL: url.default("https://api.linear.app/graphql"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    LOG_FORMAT: z.enum(["json", "pretty"]).default("json"),
    TZ: optionalText,
    /** Attempts before an outbox message is dead-lettered. */
    OUTBOX_MAX_ATTEMPTS: positiveInt(10),
    /** First retry delay; later ones double, with jitter, up to OUTBOX_RETRY_MAX_MS. */
    OUTBOX_RETRY_BASE_MS: positiveInt(1000),
    OUTBOX_RETRY_MAX_MS: positiveInt(5 * 60_000),
    /**
     * `GET /status` and `GET /api/deployments`: on by default. They show no secrets, but they do show
     * environment names, versions and who deployed: keep them private behind the proxy's auth, or turn them off.
     */
    STATUS_PAGE: z.enum(["on", "off"]).default("on"),
    /**
     * A second listener serving only `/metrics` and `/healthz`, on HOST, for every role: how Prometheus reaches
     * the bot and worker processes, which serve no HTTP otherwise. Under PM2 cluster mode each instance adds
     * its instance number (NODE_APP_INSTANCE), so two web instances use METRICS_PORT and METRICS_PORT + 1.
     */
    METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /** Set by PM2 in cluster mode: this instance's number, 0, 1, ... */
    NODE_APP_INSTANCE: z.coerce.number().int().min(0).default(0),
    /**
     * Which proxies may set X-Forwarded-For / -Proto: off by default, so a client cannot choose its own
     * address. A hop count (`1` behind one reverse proxy) or addresses/subnets (`loopback, 10.0.0.0/8`).
     */
    TRUST_PROXY: z
      .string()
      .trim()
      .default("false")
      .transform((value): boolean | number | string => {
        if (value === "" || value === "false" || value === "0") return false;
        if (value === "true") return true;
        return /^\d+$/.test(value) ? Number(value) : value;
      }),
  })
  .superRefine((env, ctx) => {
    const app = [env.GITHUB_APP_ID, env.GITHUB_APP_PRIVATE_KEY, env.GITHUB_APP_INSTALLATION_ID];
    if (app.some(Boolean) && !app.every(Boolean)) {
      ctx.addIssue({
        code: "custom",
        path: ["GITHUB_APP_ID"],
        message:
          "GitHub App auth needs all of GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID",
      });
    }
  });

export type Environment = z.infer<typeof environmentSchema>;

/**
 * Parse the environment. `<NAME>_FILE` is read for every secret (Docker/Kubernetes secrets, Vault Agent);
 * giving both forms is refused, because which one wins would be a guess.
 */
export function loadEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const raw: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== "") raw[name] = value;
  }
  for (const name of SECRET_VARIABLES) {
    const file = raw[`${name}_FILE`];
    if (!file) continue;
    if (raw[name] !== undefined) {
      throw new ConfigError(`${name} and ${name}_FILE are both set: keep only one of them.`);
    }
    try {
      raw[name] = readFileSync(file, "utf8").trim();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConfigError(`${name}_FILE: cannot read ${file} (${reason}).`);
    }
  }
  const parsed = environmentSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`Invalid environment:\n${describeZodIssues(parsed.error, "")}`);
  }
  return parsed.data;
}

/** The secret values in force, so the logger can scrub them from every line. */
export function secretValues(env: Environment): string[] {
  const values: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const value = env[name];
    if (typeof value !== "string" || value.length < 6) continue;
    if (name === "DATABASE_URL") {
      // Only the password part of a database URL is secret.
      const password = passwordOf(value);
      if (password) values.push(password);
      continue;
    }
    values.push(value);
    if (name === "DISCORD_WEBHOOK_URL") {
      const token = value.split("/").filter(Boolean).pop();
      if (token && token.length >= 6) values.push(token);
    }
  }
  return values;
}

function passwordOf(databaseUrl: string): string | undefined {
  try {
    const password = new URL(databaseUrl).password;
    return password.length >= 4 ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}
