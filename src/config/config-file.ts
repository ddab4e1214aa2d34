/**
 * The YAML config file: routes and jobs now; `discord.roles`, `environments` and `releases` are added by the
 * features that need them. Unknown keys are refused, so a typo is an error at start-up, not a silent no-op.
 */
import { existsSync, readFileSync } from "node:fs";
import { validate as validateCron, validateDetailed as validateCronDetailed } from "node-cron";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError, describeZodIssues } from "./config-error.js";

// YAML reads an unquoted id as a number (and rounds it), so the type error carries the same hint.
const CHANNEL_ID_EXPECTED = "a Discord channel id (17 to 20 digits, quoted in YAML)";
const channelId = z.string({ error: CHANNEL_ID_EXPECTED }).regex(/^\d{17,20}$/, CHANNEL_ID_EXPECTED);
const globs = z.array(z.string().min(1)).optional();

export const routeSchema = z.strictObject({
  name: z.string().min(1),
  source: z.enum(["github", "linear"]),
  match: z
    .strictObject({
      repos: globs,
      teams: globs,
      /** Linear project names. */
      projects: globs,
      events: globs,
      branches: globs,
      labels: z
        .strictObject({
          any: z.array(z.string()).default([]),
          all: z.array(z.string()).default([]),
          none: z.array(z.string()).default([]),
        })
        .optional(),
      authors: z
        .strictObject({
          include: z.array(z.string()).default([]),
          exclude: z.array(z.string()).default([]),
        })
        .optional(),
      /** false: skip draft pull requests. Unset or true: include them. */
      drafts: z.boolean().optional(),
    })
    .default({}),
  channel: channelId,
  style: z.enum(["full", "compact"]).default("full"),
  threads: z.enum(["per-item", "none"]).default("per-item"),
});

const roleIds = z.array(
  z.string().regex(/^\d{17,20}$/, "a Discord role id (17 to 20 digits, quoted in YAML)"),
);

/** Capability -> Discord role ids. Capability names are checked in discord/access.ts's list. */
const discordSchema = z.strictObject({
  roles: z
    .strictObject({
      "manage-subscriptions": roleIds.optional(),
      "create-issues": roleIds.optional(),
      release: roleIds.optional(),
      deploy: roleIds.optional(),
      "deploy-production": roleIds.optional(),
      approve: roleIds.optional(),
      admin: roleIds.optional(),
    })
    .default({}),
  feedback: z
    .strictObject({
      /** Reacting with this emoji on a message files it as a Linear issue. */
      reaction: z.string().min(1).default("📌"),
      /** Linear team key for captures in channels not listed in `channels`. */
      team: z.string().optional(),
      /** Channel id -> Linear team key. */
      channels: z.record(z.string().regex(/^\d{17,20}$/, "a Discord channel id"), z.string()).default({}),
    })
    .default({ reaction: "📌", channels: {} }),
});

/**
 * One scheduled job (see src/jobs/all-jobs.ts for the names and README.md for what each does). Only `name` is
 * required; `options` are checked by the job itself when the scheduler loads it.
 */
export const jobConfigSchema = z
  .strictObject({
    name: z.string().min(1),
    /** A cron expression (5 fields, or 6 with seconds); the job's default schedule when unset. */
    schedule: z.string().min(1).optional(),
    /** IANA time zone the schedule is read in; default the TZ variable, else the system's. */
    timezone: z.string().min(1).optional(),
    /** Default true once a job is listed (retention runs even when it is not listed). */
    enabled: z.boolean().optional(),
    /** Where the job posts; default DISCORD_DEFAULT_CHANNEL_ID. */
    channel: channelId.optional(),
    /** Run once after start-up when a scheduled run was missed while no process was running jobs. */
    catch_up: z.boolean().optional(),
    options: z.record(z.string(), z.unknown()).default({}),
  })
  .superRefine((job, ctx) => {
    if (job.schedule !== undefined && !validateCron(job.schedule)) {
      const reasons = validateCronDetailed(job.schedule)
        .errors.map((error) => `${error.field}: ${error.message}`)
        .join("; ");
      ctx.addIssue({
        code: "custom",
        path: ["schedule"],
        message: `job "${job.name}": "${job.schedule}" is not a valid cron expression${reasons ? ` (${reasons})` : ""}`,
      });
    }
    if (job.timezone !== undefined && !isTimeZone(job.timezone)) {
      ctx.addIssue({
        code: "custom",
        path: ["timezone"],
        message: `job "${job.name}": unknown time zone "${job.timezone}" (use an IANA name such as Europe/Berlin)`,
      });
    }
  });

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const configFileSchema = z
  .strictObject({
    routes: z.array(routeSchema).default([]),
    jobs: z.array(jobConfigSchema).default([]),
    discord: discordSchema.default({ roles: {}, feedback: { reaction: "📌", channels: {} } }),
  })
  .superRefine((config, ctx) => {
    flagDuplicateNames(config.routes, "routes", "route", ctx);
    flagDuplicateNames(config.jobs, "jobs", "job", ctx);
  });

/** One issue at `<list>.<index>.name` for each entry whose name an earlier entry already has. */
function flagDuplicateNames(
  entries: ReadonlyArray<{ name: string }>,
  list: string,
  noun: string,
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.name)) {
      ctx.addIssue({
        code: "custom",
        path: [list, index, "name"],
        message: `duplicate ${noun} name "${entry.name}"`,
      });
    }
    seen.add(entry.name);
  });
}

export type RouteConfig = z.infer<typeof routeSchema>;
export type RouteMatch = RouteConfig["match"];
export type DiscordConfig = z.infer<typeof discordSchema>;
export type ConfigFile = z.infer<typeof configFileSchema>;
export type JobConfig = z.infer<typeof jobConfigSchema>;

export const DEFAULT_CONFIG_FILE = "./switchboard.yaml";

/**
 * Read and validate the config file. With no CONFIG_FILE, `./switchboard.yaml` is used if present and an
 * empty config otherwise; an explicitly named file that is missing is an error.
 */
export function loadConfigFile(path: string | undefined): { path?: string; config: ConfigFile } {
  const file = path ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (!file) return { config: configFileSchema.parse({}) };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`CONFIG_FILE ${file}: cannot read it (${reason}).`);
  }
  return { path: file, config: parseConfigFile(text, file) };
}

export function parseConfigFile(text: string, file: string): ConfigFile {
  let data: unknown;
  try {
    data = parseYaml(text) ?? {};
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${file}: not valid YAML (${reason}).`);
  }
  const parsed = configFileSchema.safeParse(data);
  if (!parsed.success) throw new ConfigError(`${file} is invalid:\n${describeZodIssues(parsed.error, "")}`);
  return parsed.data;
}
