/** `/audit [count]`: the latest audit log entries, for admins. */
import { ApplicationCommandOptionType, PermissionFlagsBits } from "discord-api-types/v10";
import { listRecentAudit } from "../../store/audit-repository.js";
import type { AuditEntry } from "../../store/audit-repository.js";
import { truncate } from "../../events/text.js";
import type { Command } from "./command.js";

const DEFAULT_COUNT = 15;
const MAX_COUNT = 50;

export const command: Command = {
  data: {
    name: "audit",
    description: "Show the latest privileged actions and denials",
    // Hidden from members without Manage Server; the capability check below is what actually guards it.
    default_member_permissions: String(PermissionFlagsBits.ManageGuild),
    options: [
      {
        type: ApplicationCommandOptionType.Integer,
        name: "count",
        description: `How many entries (default ${DEFAULT_COUNT}, at most ${MAX_COUNT})`,
        min_value: 1,
        max_value: MAX_COUNT,
      },
    ],
  },
  access: { default: "admin" },
  ephemeral: true,
  async execute({ options, respond, services }) {
    const count = Number(options.values.get("count") ?? DEFAULT_COUNT);
    const entries = await listRecentAudit(services.db, Math.min(MAX_COUNT, Math.max(1, count)));
    if (entries.length === 0) {
      await respond.reply({ content: "The audit log is empty." }, { ephemeral: true });
      return;
    }
    await respond.reply(
      { content: truncate(entries.map(describeEntry).join("\n"), 2000) },
      { ephemeral: true },
    );
  },
};

/** `<t:1700000000:R> **ada** subscribe github → ok` with Discord's relative timestamp. */
export function describeEntry(entry: AuditEntry): string {
  const when = `<t:${Math.floor(entry.at / 1000)}:R>`;
  const detail = entry.detail ? `: ${truncate(entry.detail.replace(/\s+/g, " "), 120)}` : "";
  return `${when} **${entry.user_name}** (${entry.user_id}) \`${entry.action}\` → ${entry.outcome}${detail}`;
}
