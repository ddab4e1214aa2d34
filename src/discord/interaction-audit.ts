/**
 * One audit-log row for an interaction: who, what (`deploy to`, `jobs run`), with which options, and how it
 * ended. The dispatcher writes one for every privileged invocation; commands whose capability depends on an
 * option (`/deploy to` production or staging) write their own through the same function.
 */
import { AuthError, RateLimitedError, UserError } from "../errors.js";
import { recordAudit } from "../store/audit-repository.js";
import type { CommandContext } from "./commands/command.js";

export type AuditOutcome = "ok" | "denied" | "refused" | "error";

/**
 * What the audit log (and so `/audit`) keeps of a failure. Typed errors are written for people; any other
 * error's text may carry internals (URLs, SQL, response bodies) and stays in the log, found by `logReference`.
 */
export function auditDetailOf(error: unknown, logReference: string): string {
  if (error instanceof UserError || error instanceof AuthError || error instanceof RateLimitedError) {
    return error.message;
  }
  return `unexpected failure: the logs have it under ${logReference}`;
}

export async function auditInteraction(
  context: CommandContext,
  entry: { action: string; capability: string | null; outcome: AuditOutcome; detail: string | null },
): Promise<void> {
  const data = context.interaction.data;
  await recordAudit(context.services.db, {
    at: context.services.clock(),
    user_id: context.user.id,
    user_name: context.user.username,
    action: entry.action,
    // A button carries no options; its custom_id says what was pressed (`deploy:approve:42`).
    options: JSON.stringify({
      ...Object.fromEntries(context.options.values),
      ...(data && "custom_id" in data ? { custom_id: data.custom_id } : {}),
    }),
    capability: entry.capability,
    outcome: entry.outcome,
    detail: entry.detail,
    guild_id: context.guildId ?? null,
    channel_id: context.channelId ?? null,
  }).catch((error: unknown) => context.logger.error({ err: error }, "Could not write the audit log"));
}
