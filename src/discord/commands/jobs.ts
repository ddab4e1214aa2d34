/**
 * `/jobs list | run | pause | resume`: the scheduled jobs, for admins. Pausing is stored, so it holds for
 * every process and across restarts; a paused job still runs when asked with `/jobs run`.
 */
import { ApplicationCommandOptionType, PermissionFlagsBits } from "discord-api-types/v10";
import { UserError } from "../../errors.js";
import { truncate } from "../../events/text.js";
import type { JobRunReport, JobStatus, Scheduler } from "../../jobs/scheduler.js";
import type { Command, CommandServices } from "./command.js";

const jobName = {
  type: ApplicationCommandOptionType.String,
  name: "name",
  description: "The job",
  required: true,
  autocomplete: true,
} as const;

export const command: Command = {
  data: {
    name: "jobs",
    description: "List, run, pause and resume scheduled jobs",
    // Hidden from members without Manage Server; the capability check is what actually guards it.
    default_member_permissions: String(PermissionFlagsBits.ManageGuild),
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "list",
        description: "Every job with its schedule, next run and last outcome",
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "run",
        description: "Run a job now",
        options: [
          jobName,
          {
            type: ApplicationCommandOptionType.Boolean,
            name: "dry-run",
            description: "Only report what the job would do (default false)",
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "pause",
        description: "Stop a job's scheduled runs until it is resumed",
        options: [jobName],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "resume",
        description: "Resume a paused job's scheduled runs",
        options: [jobName],
      },
    ],
  },
  access: { default: "admin" },
  ephemeral: true,

  async execute({ options, respond, services, user }) {
    const jobs = schedulerOf(services);
    const reply = (content: string) =>
      respond.reply({ content: truncate(content, 2000) }, { ephemeral: true });
    switch (options.subcommand) {
      case "list": {
        // Discord refuses an empty message, so an instance without jobs says so.
        await reply((await jobs.list()).map(describeJob).join("\n") || "No jobs are configured.");
        return;
      }
      case "run": {
        const name = knownJob(jobs, options.values.get("name"));
        const dryRun = options.values.get("dry-run") === true;
        await reply(describeRun(await jobs.run(name, { dryRun, trigger: "manual" })));
        return;
      }
      case "pause": {
        const name = knownJob(jobs, options.values.get("name"));
        await jobs.pause(name, user.username);
        await reply(
          `Paused **${name}**: its scheduled runs are skipped until \`/jobs resume name:${name}\`.`,
        );
        return;
      }
      case "resume": {
        const name = knownJob(jobs, options.values.get("name"));
        await jobs.resume(name);
        await reply(`Resumed **${name}**: it runs on its schedule again.`);
        return;
      }
      default:
        throw new UserError("Use `/jobs list`, `/jobs run`, `/jobs pause` or `/jobs resume`.");
    }
  },

  async autocomplete({ options, services }) {
    const typed = (options.focused?.value ?? "").toLowerCase();
    return (services.jobs?.names() ?? [])
      .filter((name) => name.includes(typed))
      .map((name) => ({ name, value: name }));
  },
};

function schedulerOf(services: CommandServices): Scheduler {
  if (!services.jobs) {
    throw new UserError(
      "This Switchboard instance runs no jobs (web role): use a process started with `--role all`, `worker` or `bot`.",
    );
  }
  return services.jobs;
}

function knownJob(jobs: Scheduler, value: unknown): string {
  const name = String(value ?? "").trim();
  if (jobs.names().includes(name)) return name;
  throw new UserError(
    `There is no job named "${truncate(name, 50)}": choose one of ${jobs
      .names()
      .map((known) => `\`${known}\``)
      .join(", ")}.`,
  );
}

const when = (ms: number) => `<t:${Math.floor(ms / 1000)}:R>`;

/** `**retention** \`30 3 * * *\` (UTC) · next <t:…:R> · last ok <t:…:R>: Deleted 3 …` */
export function describeJob(job: JobStatus): string {
  const zone = job.timezone ? ` (${job.timezone})` : "";
  const state = !job.enabled
    ? "disabled"
    : job.paused
      ? `paused${job.pausedBy ? ` by ${job.pausedBy}` : ""}`
      : job.nextRunAt !== undefined
        ? `next ${when(job.nextRunAt)}`
        : "not scheduled";
  const last = job.lastRun
    ? `last ${job.lastRun.outcome}${job.lastRun.dry_run ? " (dry run)" : ""} ${when(job.lastRun.started_at)}${
        job.lastRun.summary ? `: ${truncate(job.lastRun.summary, 120)}` : ""
      }`
    : "never run";
  return `**${job.name}** \`${job.schedule}\`${zone} · ${state}${job.running ? " · running now" : ""} · ${last}`;
}

export function describeRun(report: JobRunReport): string {
  const label = `**${report.job}**${report.dryRun ? " (dry run)" : ""}`;
  switch (report.outcome) {
    case "ok":
      return `Ran ${label}: ${report.summary}`;
    case "skipped":
      return `Did not run ${label}: ${report.summary}`;
    case "error":
      return `${label} failed: ${report.error ?? "unknown error"}. The run is recorded; details are in the logs.`;
  }
}
