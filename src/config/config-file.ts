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

const roleId = z.string().regex(/^\d{17,20}$/, "a Discord role id (17 to 20 digits, quoted in YAML)");
const roleIds = z.array(roleId);

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
      channels: z.record(channelId, z.string()).default({}),
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

const repoName = z.string().regex(/^[\w.-]+\/[\w.-]+$/, "owner/name of a GitHub repository");

/** A changelog section: commits whose Conventional Commit type is listed; `*` takes every type not listed. */
const changelogSectionSchema = z.strictObject({
  title: z.string().min(1),
  types: z.array(z.string().min(1)).min(1),
});

export const DEFAULT_CHANGELOG_SECTIONS = [
  { title: "Features", types: ["feat"] },
  { title: "Bug fixes", types: ["fix"] },
  { title: "Performance", types: ["perf"] },
  { title: "Reverts", types: ["revert"] },
  { title: "Other changes", types: ["*"] },
];

const SEMVER_CORE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/**
 * How one repository (or one package of a monorepo) is released: `/release preview <name>`. Breaking
 * changes always get a section of their own, first.
 */
export const releaseConfigSchema = z
  .strictObject({
    /** What users type in /release; default the repo. Set it for monorepo packages (`sdk`). */
    name: z.string().min(1).optional(),
    repo: repoName,
    /** Tags are `<tag_prefix><version>`: `v1.2.3`, or `sdk-v1.2.3` for a monorepo package. */
    tag_prefix: z.string().default("v"),
    /** The branch releases are cut from; default the repository's default branch. */
    branch: z.string().min(1).optional(),
    /** Monorepo packages: only commits touching this path count. */
    path: z.string().min(1).optional(),
    /** The version proposed when no tag with the prefix exists yet. */
    first_version: z.string().regex(SEMVER_CORE, "a version such as 0.1.0 or 1.0.0").default("0.1.0"),
    sections: z.array(changelogSectionSchema).min(1).default(DEFAULT_CHANGELOG_SECTIONS),
  })
  .transform((release) => ({ ...release, name: release.name ?? release.repo }));

const PRODUCTION_NAME = /^prod(uction)?$/i;

/** Where and how a deployment runs: `/deploy to <name>`. */
export const environmentConfigSchema = z
  .strictObject({
    name: z.string().regex(/^[\w.-]{1,64}$/, "letters, digits, '.', '_' or '-' (at most 64)"),
    repo: repoName,
    /** The `releases` entry whose versions deploy here; default the one for the same repo. */
    release: z.string().min(1).optional(),
    /** github-deployment: create a GitHub Deployment for CI to act on. workflow-dispatch: run a workflow. */
    method: z.enum(["github-deployment", "workflow-dispatch"]).default("github-deployment"),
    /** workflow-dispatch: the workflow file (`deploy.yml`) or id. */
    workflow: z.string().min(1).optional(),
    /** workflow-dispatch: the branch the workflow runs from; default the repository's default branch. */
    workflow_ref: z.string().min(1).optional(),
    /** workflow-dispatch inputs; `{ref}`, `{sha}`, `{version}` and `{environment}` are filled in. */
    inputs: z.record(z.string(), z.string()).default({}),
    /** Production environments need `deploy-production` and approvals; default: named prod or production. */
    production: z.boolean().optional(),
    /** Approvals by people other than the requester; default 1 for production, 0 otherwise. */
    approvals: z.number().int().min(0).max(5).optional(),
    /** Where deployment cards go; default DISCORD_DEFAULT_CHANNEL_ID. */
    channel: channelId.optional(),
    /** Discord role pinged when a deployment here fails. */
    on_call_role: roleId.optional(),
    /** Linear workflow state that shipped issues move to (`Released`); unset: comment only. */
    linear_state: z.string().min(1).optional(),
  })
  .superRefine((environment, ctx) => {
    if (environment.method === "workflow-dispatch" && !environment.workflow) {
      ctx.addIssue({
        code: "custom",
        path: ["workflow"],
        message: `environment "${environment.name}": method workflow-dispatch needs the workflow file (workflow: deploy.yml)`,
      });
    }
  })
  .transform((environment) => {
    const production = environment.production ?? PRODUCTION_NAME.test(environment.name);
    return { ...environment, production, approvals: environment.approvals ?? (production ? 1 : 0) };
  });

const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

/**
 * A deploy freeze: either one period (`from`/`to`, ISO 8601) or a weekly window (`days` with `start`/`end`
 * times in `timezone`). An `admin` may override it with a reason.
 */
export const freezeConfigSchema = z
  .strictObject({
    name: z.string().min(1),
    /** Environment names; default every environment. */
    environments: z.array(z.string().min(1)).optional(),
    reason: z.string().min(1).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    days: z.array(z.enum(WEEKDAYS)).min(1).optional(),
    start: z.string().regex(CLOCK_TIME, "HH:MM").optional(),
    end: z.string().regex(CLOCK_TIME, "HH:MM").optional(),
    timezone: z.string().min(1).optional(),
  })
  .superRefine((freeze, ctx) => {
    const period = freeze.from !== undefined || freeze.to !== undefined;
    const weekly = freeze.days !== undefined;
    if (period === weekly) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: `freeze "${freeze.name}": give either from/to (one period) or days with start/end (weekly)`,
      });
      return;
    }
    if (period && (!freeze.from || !freeze.to || Date.parse(freeze.from) >= Date.parse(freeze.to))) {
      ctx.addIssue({
        code: "custom",
        path: ["to"],
        message: `freeze "${freeze.name}": needs both from and to, with from before to`,
      });
    }
    if (weekly && (!freeze.start || !freeze.end || freeze.start >= freeze.end)) {
      ctx.addIssue({
        code: "custom",
        path: ["end"],
        message: `freeze "${freeze.name}": needs start and end times (HH:MM), with start before end`,
      });
    }
    if (freeze.timezone !== undefined && !isTimeZone(freeze.timezone)) {
      ctx.addIssue({
        code: "custom",
        path: ["timezone"],
        message: `freeze "${freeze.name}": unknown time zone "${freeze.timezone}" (use an IANA name such as Europe/Berlin)`,
      });
    }
  });

const configFileSchema = z
  .strictObject({
    routes: z.array(routeSchema).default([]),
    jobs: z.array(jobConfigSchema).default([]),
    discord: discordSchema.default({ roles: {}, feedback: { reaction: "📌", channels: {} } }),
    releases: z.array(releaseConfigSchema).default([]),
    environments: z.array(environmentConfigSchema).default([]),
    freezes: z.array(freezeConfigSchema).default([]),
  })
  .superRefine((config, ctx) => {
    flagDuplicateNames(config.routes, "routes", "route", ctx);
    flagDuplicateNames(config.jobs, "jobs", "job", ctx);
    flagDuplicateNames(config.releases, "releases", "release", ctx);
    flagDuplicateNames(config.environments, "environments", "environment", ctx);
    flagDuplicateNames(config.freezes, "freezes", "freeze", ctx);
    const releaseNames = new Set(config.releases.map((release) => release.name));
    config.environments.forEach((environment, index) => {
      if (environment.release !== undefined && !releaseNames.has(environment.release)) {
        ctx.addIssue({
          code: "custom",
          path: ["environments", index, "release"],
          message: `environment "${environment.name}": no releases entry is named "${environment.release}"`,
        });
      }
    });
    const environmentNames = new Set(config.environments.map((environment) => environment.name));
    config.freezes.forEach((freeze, index) => {
      for (const name of freeze.environments ?? []) {
        if (!environmentNames.has(name)) {
          ctx.addIssue({
            code: "custom",
            path: ["freezes", index, "environments"],
            message: `freeze "${freeze.name}": no environment is named "${name}"`,
          });
        }
      }
    });
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
export type ReleaseConfig = z.infer<typeof releaseConfigSchema>;
export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;
export type FreezeConfig = z.infer<typeof freezeConfigSchema>;
export type ChangelogSection = z.infer<typeof changelogSectionSchema>;

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
