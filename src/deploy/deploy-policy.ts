/**
 * Who may deploy what, when. Pure: the command and service layers gather the facts (config, lock, clock,
 * roles) and these functions decide, so every rule is tested without Discord or GitHub.
 */
import type { EnvironmentConfig, FreezeConfig } from "../config/config-file.js";
import type { DeploymentRow } from "../store/deployment-repository.js";
import type { EnvironmentLockRow } from "../store/environment-lock-repository.js";

const WEEKDAY_INDEX: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

/** The freeze covering `environment` at `now`, if any (the first one listed wins). */
export function activeFreeze(
  freezes: readonly FreezeConfig[],
  environment: string,
  now: number,
): FreezeConfig | undefined {
  return freezes.find(
    (freeze) => (freeze.environments?.includes(environment) ?? true) && freezeCovers(freeze, now),
  );
}

function freezeCovers(freeze: FreezeConfig, now: number): boolean {
  if (freeze.from !== undefined && freeze.to !== undefined) {
    return now >= Date.parse(freeze.from) && now < Date.parse(freeze.to);
  }
  if (!freeze.days || !freeze.start || !freeze.end) return false;
  const { weekday, time } = localWeekdayAndTime(now, freeze.timezone);
  const days = freeze.days.map((day) => WEEKDAY_INDEX[day]);
  return days.includes(weekday) && time >= freeze.start && time < freeze.end;
}

/** The weekday (0 = Sunday) and `HH:MM` at `now` in `timeZone` (the process's zone when unset). */
function localWeekdayAndTime(now: number, timeZone: string | undefined): { weekday: number; time: string } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(now));
  const part = (type: string) => parts.find((entry) => entry.type === type)?.value ?? "";
  const weekday = WEEKDAY_INDEX[part("weekday").slice(0, 3).toLowerCase()] ?? -1;
  return { weekday, time: `${part("hour")}:${part("minute")}` };
}

/** "Holiday freeze (until 2027-01-02 00:00 UTC)" or "weekend (sat, sun 00:00-24:00 Europe/Berlin)". */
export function describeFreeze(freeze: FreezeConfig): string {
  const label = freeze.reason ? `${freeze.name}: ${freeze.reason}` : freeze.name;
  if (freeze.to !== undefined) {
    return `${label} (until ${new Date(freeze.to).toISOString().slice(0, 16).replace("T", " ")} UTC)`;
  }
  const zone = freeze.timezone ?? "server time";
  return `${label} (${(freeze.days ?? []).join(", ")} ${freeze.start}-${freeze.end} ${zone})`;
}

/** Production, or any environment that needs approval, takes the stronger capability. */
export function requiredDeployCapability(environment: EnvironmentConfig): "deploy" | "deploy-production" {
  return environment.production || environment.approvals > 0 ? "deploy-production" : "deploy";
}

export type DeployDecision = { allowed: true; overridden?: string } | { allowed: false; reason: string };

/**
 * A lock stops everyone but its holder. A freeze stops everyone unless an admin gives a reason to override it;
 * the override is returned so the caller audits it. Capabilities are checked by the caller (checkAccess).
 */
export function checkDeployAllowed(input: {
  environment: EnvironmentConfig;
  requesterId: string;
  lock?: EnvironmentLockRow | undefined;
  freeze?: FreezeConfig | undefined;
  overrideReason?: string | undefined;
  requesterIsAdmin: boolean;
}): DeployDecision {
  const { environment, lock, freeze } = input;
  if (lock && lock.locked_by !== input.requesterId) {
    return {
      allowed: false,
      reason: `${environment.name} is locked by ${lock.locked_by_name} (<@${lock.locked_by}>): ${lock.reason}. Ask them to run /deploy unlock ${environment.name} when done.`,
    };
  }
  if (freeze) {
    const reason = input.overrideReason?.trim();
    if (!reason) {
      return {
        allowed: false,
        reason: `${environment.name} is frozen: ${describeFreeze(freeze)}. An admin may override with the override-reason option.`,
      };
    }
    if (!input.requesterIsAdmin) {
      return {
        allowed: false,
        reason: `${environment.name} is frozen: ${describeFreeze(freeze)}. Only an admin may override a freeze.`,
      };
    }
    return { allowed: true, overridden: `freeze "${freeze.name}" overridden: ${reason}` };
  }
  return { allowed: true };
}

export type ApprovalDecision = { allowed: true; complete: boolean } | { allowed: false; reason: string };

/** Approvals come from people other than the requester, each once; `complete` when enough have approved. */
export function checkApprover(input: {
  deployment: DeploymentRow;
  approverId: string;
  approvalsNeeded: number;
}): ApprovalDecision {
  const { deployment } = input;
  if (deployment.state !== "awaiting_approval") {
    return {
      allowed: false,
      reason: `This deployment is no longer awaiting approval (it is ${deployment.state.replace(/_/g, " ")}).`,
    };
  }
  if (deployment.requested_by === input.approverId) {
    return { allowed: false, reason: "You requested this deployment: another person has to approve it." };
  }
  const approvers = parseApprovers(deployment.approved_by);
  if (approvers.includes(input.approverId)) {
    return { allowed: false, reason: "You already approved this deployment: it needs another person." };
  }
  return { allowed: true, complete: approvers.length + 1 >= Math.max(1, input.approvalsNeeded) };
}

/** The `approved_by` column: a JSON array of Discord user ids. */
export function parseApprovers(column: string): string[] {
  try {
    const value: unknown = JSON.parse(column);
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return [];
  }
}
