/**
 * Linear domain events -> EventSummary. Pure: the same event always gives the same summary.
 *
 * Every summary has a one-line `line` that stands on its own (compact style and the console sink show
 * nothing else), so it always names the thing, what happened to it, and who did it.
 */
import { oneLine, truncate } from "../../events/text.js";
import type { FieldChange, LinearEvent } from "../../events/domain-event.js";
import { COLORS, type EmbedField, type EventSummary } from "./message.js";

type IssueEvent = Extract<LinearEvent, { kind: "linear.issue" }>;
type CommentEvent = Extract<LinearEvent, { kind: "linear.comment" }>;
type ProjectEvent = Extract<LinearEvent, { kind: "linear.project" }>;
type ProjectUpdateEvent = Extract<LinearEvent, { kind: "linear.project_update" }>;
type CycleEvent = Extract<LinearEvent, { kind: "linear.cycle" }>;

/** An issue card previews its description; the full text is one click away in Linear. */
const ISSUE_DESCRIPTION_PREVIEW = 500;
/** How much of a comment or project update the compact line quotes. */
const LINE_EXCERPT = 200;

const ISSUE_FIELD_NAMES: Record<FieldChange["field"], string> = {
  state: "State",
  assignee: "Assignee",
  priority: "Priority",
  title: "Title",
  labels: "Labels",
  estimate: "Estimate",
  description: "Description",
  project: "Project",
};

/** Linear's project update health values and the words its UI shows for them. */
const HEALTH: Record<string, { label: string; color: number }> = {
  onTrack: { label: "On track", color: COLORS.success },
  atRisk: { label: "At risk", color: COLORS.warning },
  offTrack: { label: "Off track", color: COLORS.failure },
};

export function summarizeLinearEvent(event: LinearEvent): EventSummary {
  switch (event.kind) {
    case "linear.issue":
      return summarizeIssue(event);
    case "linear.comment":
      return summarizeComment(event);
    case "linear.project":
      return summarizeProject(event);
    case "linear.project_update":
      return summarizeProjectUpdate(event);
    case "linear.cycle":
      return summarizeCycle(event);
  }
}

function summarizeIssue(event: IssueEvent): EventSummary {
  const { issue } = event;
  const happened = issueHeadline(event);
  const summary: EventSummary = {
    title: `${teamPrefix(event)}Issue ${happened}: ${issue.identifier} ${issue.title}`,
    url: issue.url,
    color: issueColor(event),
    actor: event.actor,
    timestamp: event.occurredAt,
    footer: footerOf(event),
    line: `${issue.identifier} ${happened} by ${event.actor.name}: ${issue.title}`,
  };
  if (event.action === "update") {
    summary.fields = event.changes.map((change) => ({
      name: ISSUE_FIELD_NAMES[change.field],
      value: changeText(change),
      inline: change.field !== "title",
    }));
    return summary;
  }
  if (event.action === "create") {
    const description = issue.description.trim();
    if (description) summary.description = truncate(description, ISSUE_DESCRIPTION_PREVIEW);
    summary.fields = issueOverviewFields(event);
  }
  return summary;
}

function issueHeadline(event: IssueEvent): string {
  if (event.action === "create") return "created";
  if (event.action === "remove") return "removed";
  return event.changes.map(issueChangePhrase).join(", ") || "updated";
}

/** A change as a verb phrase: "moved to In Progress", "assigned to Ada". Joined with commas for several. */
function issueChangePhrase(change: FieldChange): string {
  const to = change.to ?? "";
  switch (change.field) {
    case "state":
      return `moved to ${to}`;
    case "assignee":
      return to === "Unassigned" ? "unassigned" : `assigned to ${to}`;
    case "priority":
      return to === "No priority" ? "priority cleared" : `priority set to ${to}`;
    case "title":
      return "renamed";
    case "labels":
      return to === "None" ? "labels cleared" : `labels set to ${to}`;
    case "estimate":
      return to === "None" ? "estimate cleared" : `estimate set to ${to}`;
    case "project":
      return to === "None" ? "removed from its project" : `moved to project ${to}`;
    case "description":
      return "description edited";
  }
}

/** `Todo → In Progress`; `→ In Progress` when Linear did not tell the previous value. */
function changeText(change: FieldChange): string {
  if (change.from === undefined && change.to === undefined) return "Changed";
  return [change.from, "→", change.to].filter((part) => part !== undefined).join(" ");
}

function issueOverviewFields(event: IssueEvent): EmbedField[] {
  const { issue } = event;
  const fields: EmbedField[] = [{ name: "State", value: issue.state, inline: true }];
  if (issue.priority !== 0) fields.push({ name: "Priority", value: issue.priorityLabel, inline: true });
  if (issue.assignee) fields.push({ name: "Assignee", value: issue.assignee, inline: true });
  if (issue.estimate !== undefined)
    fields.push({ name: "Estimate", value: String(issue.estimate), inline: true });
  if (issue.labels.length) fields.push({ name: "Labels", value: issue.labels.join(", "), inline: true });
  return fields;
}

function issueColor(event: IssueEvent): number {
  if (event.action === "remove") return COLORS.neutral;
  if (event.action === "update" && event.changes.some((change) => change.field === "state")) {
    if (event.issue.stateType === "completed") return COLORS.success;
    if (event.issue.stateType === "canceled") return COLORS.neutral;
  }
  return COLORS.info;
}

function summarizeComment(event: CommentEvent): EventSummary {
  const { issue, comment } = event;
  // Older comment deliveries may not name the issue's identifier; the title alone still says which issue.
  const named = issue.identifier ? `${issue.identifier} ${issue.title}` : issue.title;
  const reference = issue.identifier ? `${issue.identifier} (${issue.title})` : issue.title;
  return {
    title: `${teamPrefix(event)}New comment on ${named}`,
    url: comment.url || issue.url,
    description: comment.body.trim(),
    color: COLORS.info,
    actor: event.actor,
    timestamp: event.occurredAt,
    footer: footerOf(event),
    line: `${event.actor.name} commented on ${reference}: ${excerpt(comment.body)}`,
  };
}

function summarizeProject(event: ProjectEvent): EventSummary {
  const project = event.projectInfo;
  const happened =
    event.action === "create" ? "created" : event.changes.map(projectChangePhrase).join(", ") || "updated";
  const summary: EventSummary = {
    title: `${teamPrefix(event)}Project ${happened}: ${project.name}`,
    url: project.url,
    color: projectColor(event),
    actor: event.actor,
    timestamp: event.occurredAt,
    footer: footerOf(event),
    line: `Project ${project.name} ${happened} by ${event.actor.name}`,
  };
  summary.fields =
    event.action === "create"
      ? [{ name: "Status", value: project.state, inline: true }]
      : event.changes.map((change) => ({
          name: change.field === "state" ? "Status" : "Name",
          value: changeText(change),
          inline: change.field === "state",
        }));
  return summary;
}

function projectChangePhrase(change: FieldChange): string {
  return change.field === "state" ? `moved to ${change.to ?? ""}` : "renamed";
}

/** Project statuses are customisable names; Linear's defaults are "Completed" and "Canceled". */
function projectColor(event: ProjectEvent): number {
  if (event.action !== "update" || !event.changes.some((change) => change.field === "state"))
    return COLORS.info;
  const state = event.projectInfo.state.toLowerCase();
  if (state.startsWith("complete")) return COLORS.success;
  if (state.startsWith("cancel")) return COLORS.neutral;
  return COLORS.info;
}

function summarizeProjectUpdate(event: ProjectUpdateEvent): EventSummary {
  const { projectUpdate, projectInfo } = event;
  const health = projectUpdate.health ? HEALTH[projectUpdate.health] : undefined;
  const healthLabel = health?.label ?? projectUpdate.health;
  const summary: EventSummary = {
    title: `${teamPrefix(event)}Project update: ${projectInfo.name}${healthLabel ? ` is ${healthLabel.toLowerCase()}` : ""}`,
    url: projectUpdate.url || projectInfo.url,
    description: projectUpdate.body.trim(),
    color: health?.color ?? COLORS.info,
    actor: event.actor,
    timestamp: event.occurredAt,
    footer: footerOf(event),
    line:
      `${event.actor.name} posted a project update on ${projectInfo.name}` +
      `${healthLabel ? ` (${healthLabel.toLowerCase()})` : ""}: ${excerpt(projectUpdate.body)}`,
  };
  if (healthLabel) summary.fields = [{ name: "Health", value: healthLabel, inline: true }];
  return summary;
}

function summarizeCycle(event: CycleEvent): EventSummary {
  const { cycle } = event;
  const name = cycle.name || `Cycle ${cycle.number}`;
  const happened = event.action === "create" ? "created" : cycle.completedAt ? "completed" : "updated";
  const dates = `${day(cycle.startsAt)} – ${day(cycle.endsAt)}`;
  const team = event.team ? `${event.team} ` : "";
  const summary: EventSummary = {
    title: `${teamPrefix(event)}Cycle ${happened}: ${name} (${dates})`,
    color: happened === "completed" ? COLORS.success : COLORS.info,
    fields: [
      { name: "Starts", value: day(cycle.startsAt), inline: true },
      { name: "Ends", value: day(cycle.endsAt), inline: true },
    ],
    actor: event.actor,
    timestamp: event.occurredAt,
    footer: footerOf(event),
    line: `${team}${name} ${happened} by ${event.actor.name} (${dates})`,
  };
  if (cycle.url) summary.url = cycle.url;
  return summary;
}

/** `2025-03-17T05:00:00.000Z` -> `2025-03-17`: cycle bounds are whole days, and renders must not depend on TZ. */
function day(iso: string): string {
  return iso.slice(0, 10);
}

function teamPrefix(event: LinearEvent): string {
  return event.team ? `[${event.team}] ` : "";
}

function footerOf(event: LinearEvent): string {
  return event.team ? `Linear · ${event.team}` : "Linear";
}

function excerpt(body: string): string {
  return truncate(oneLine(body), LINE_EXCERPT);
}
