/**
 * `/status`: is Switchboard healthy? Version, uptime, gateway latency, when GitHub and Linear last
 * delivered, and the outbox backlog with what to do about dead letters.
 */
import { UserError } from "../../errors.js";
import { formatDuration } from "../../events/text.js";
import type { EmbedField } from "../render/message.js";
import { COLORS } from "../render/message.js";
import type { StatusReport } from "../status-report.js";
import type { Command } from "./command.js";

const SOURCES = [
  { key: "github", label: "GitHub" },
  { key: "linear", label: "Linear" },
] as const;

export const command: Command = {
  data: {
    name: "status",
    description: "Switchboard's health: version, uptime, gateway, latest deliveries and outbox",
  },
  access: { default: null },
  ephemeral: true,
  async execute({ respond, services }) {
    if (!services.status) throw new UserError("Status is not available in this process.");
    const report = await services.status();
    const healthy = report.outbox.dead === 0 && (report.gateway?.status ?? "ready") === "ready";
    await respond.reply(
      {
        embeds: [
          {
            title: `Switchboard ${report.version}`,
            color: healthy ? COLORS.success : COLORS.warning,
            fields: statusFields(report),
          },
        ],
      },
      { ephemeral: true },
    );
  },
};

export function statusFields(report: StatusReport): EmbedField[] {
  const fields: EmbedField[] = [
    { name: "Uptime", value: formatDuration(report.uptimeSeconds), inline: true },
    { name: "Gateway", value: describeGateway(report.gateway), inline: true },
    {
      name: "Latest deliveries",
      value: SOURCES.map(({ key, label }) => {
        const at = report.lastDeliveries[key];
        return `${label}: ${at === undefined ? "none yet" : `<t:${Math.floor(at / 1000)}:R>`}`;
      }).join("\n"),
    },
    {
      name: "Outbox",
      value:
        `${report.outbox.pending} pending, ${report.outbox.dead} dead` +
        (report.outbox.dead > 0 ? "\nFix the cause, then run `switchboard outbox retry`." : ""),
    },
  ];
  if (report.jobs) {
    fields.push({
      name: "Latest job runs",
      value:
        report.jobs
          .map(
            (job) =>
              `${job.name}: ${job.lastRunAt === null ? "not run yet" : `<t:${Math.floor(job.lastRunAt / 1000)}:R>`}` +
              (job.outcome ? ` (${job.outcome})` : ""),
          )
          .join("\n") || "no jobs configured",
    });
  }
  return fields;
}

function describeGateway(gateway: StatusReport["gateway"]): string {
  if (!gateway) return "not connected from this process (HTTP interactions)";
  if (gateway.status === "ready") {
    return gateway.pingMs === null ? "connected" : `connected, ${Math.round(gateway.pingMs)} ms latency`;
  }
  return `${gateway.status}${gateway.reason ? `: ${gateway.reason}` : ""}`;
}
