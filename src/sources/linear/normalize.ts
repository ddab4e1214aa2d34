/**
 * Linear delivery -> domain event.
 *
 * Pure and total: every input yields a NormalizeResult, never an exception. Deliveries we do not post
 * (unknown models, other actions, updates that only moved sort orders) come back as `ignored` with a reason
 * an operator can read in the delivery log.
 */
import { describePayloadIssues } from "../payload-issues.js";
import type { z } from "zod";
import type {
  Actor,
  FieldChange,
  ItemSnapshot,
  LinearEvent,
  LinearIssueInfo,
  NormalizeResult,
} from "../../events/domain-event.js";
import {
  LinearCommentDataSchema,
  LinearCycleDataSchema,
  LinearEnvelopeSchema,
  LinearIssueDataSchema,
  LinearIssueUpdatedFromSchema,
  LinearProjectDataSchema,
  LinearProjectUpdateDataSchema,
  LinearProjectUpdatedFromSchema,
  type LinearCommentData,
  type LinearCycleData,
  type LinearEnvelope,
  type LinearIssueData,
  type LinearProjectData,
  type LinearProjectUpdateData,
} from "./payloads.js";

export interface LinearDelivery {
  /** The `Linear-Delivery` header. */
  deliveryId: string;
  /** The parsed JSON body. */
  payload: unknown;
  receivedAt: Date;
}

/** Linear's fixed priority scale (`Issue.priority`). */
export const LINEAR_PRIORITY_LABELS: Readonly<Record<number, string>> = {
  0: "No priority",
  1: "Urgent",
  2: "High",
  3: "Medium",
  4: "Low",
};

const UNASSIGNED = "Unassigned";
const NONE = "None";

type EventContext = Pick<LinearEvent, "source" | "name" | "deliveryId" | "occurredAt" | "actor">;

export function normalizeLinear(input: LinearDelivery): NormalizeResult {
  try {
    return normalizeDelivery(input);
  } catch (error) {
    // The schemas should make this unreachable; the pipeline still must never crash on a delivery.
    return { outcome: "ignored", reason: `Linear delivery could not be normalized: ${String(error)}` };
  }
}

function normalizeDelivery(input: LinearDelivery): NormalizeResult {
  const envelope = LinearEnvelopeSchema.safeParse(input.payload);
  if (!envelope.success) {
    return ignored(`Linear payload is not a webhook delivery: ${describePayloadIssues(envelope.error)}`);
  }
  const payload = envelope.data;
  const name = `${payload.type}.${payload.action}`;
  const context: EventContext = {
    source: "linear",
    name,
    deliveryId: input.deliveryId,
    occurredAt: payload.createdAt,
    actor: actorOf(payload),
  };

  switch (name) {
    case "Issue.create":
    case "Issue.update":
    case "Issue.remove":
      return withData(LinearIssueDataSchema, payload, name, (data) => issueEvent(context, payload, data));
    case "Comment.create":
      return withData(LinearCommentDataSchema, payload, name, (data) => commentEvent(context, payload, data));
    case "Project.create":
    case "Project.update":
      return withData(LinearProjectDataSchema, payload, name, (data) => projectEvent(context, payload, data));
    case "ProjectUpdate.create":
      return withData(LinearProjectUpdateDataSchema, payload, name, (data) =>
        projectUpdateEvent(context, payload, data),
      );
    case "Cycle.create":
    case "Cycle.update":
      return withData(LinearCycleDataSchema, payload, name, (data) => cycleEvent(context, payload, data));
    default:
      return ignored(`Linear ${name} deliveries are not reported`);
  }
}

function withData<T>(
  schema: z.ZodType<T>,
  payload: LinearEnvelope,
  name: string,
  toResult: (data: T) => NormalizeResult,
): NormalizeResult {
  const data = schema.safeParse(payload.data);
  if (!data.success) {
    return ignored(
      `${name} payload does not have the expected shape: ${describePayloadIssues(data.error, "data")}`,
    );
  }
  return toResult(data.data);
}

// --- Issue ---------------------------------------------------------------------------------------------

function issueEvent(context: EventContext, payload: LinearEnvelope, data: LinearIssueData): NormalizeResult {
  const action = payload.action as "create" | "update" | "remove";
  const issue = issueInfo(data, payload.url);
  let changes: FieldChange[] = [];
  if (action === "update") {
    changes = issueChanges(data, issue, payload.updatedFrom ?? {});
    if (changes.length === 0) return ignored("Issue.update changed nothing worth reporting");
  }
  const event: LinearEvent = {
    ...context,
    kind: "linear.issue",
    action,
    issue,
    changes,
    team: issue.teamKey,
    labels: issue.labels,
    item: issueItem(issue, data.creator?.name),
    ...(data.project ? { project: data.project.name } : {}),
  };
  return { outcome: "event", event };
}

function issueInfo(data: LinearIssueData, envelopeUrl: string | null | undefined): LinearIssueInfo {
  const priority = data.priority ?? 0;
  const assigneeId = data.assignee?.id ?? data.assigneeId;
  return {
    id: data.id,
    identifier: data.identifier,
    title: data.title,
    url: data.url ?? envelopeUrl ?? "",
    description: data.description ?? "",
    state: data.state?.name ?? "Unknown",
    ...(data.state?.type ? { stateType: data.state.type } : {}),
    ...(data.assignee ? { assignee: data.assignee.name } : {}),
    ...(assigneeId ? { assigneeId } : {}),
    ...(data.assignee?.email ? { assigneeEmail: data.assignee.email } : {}),
    priority,
    priorityLabel: data.priorityLabel ?? priorityLabel(priority),
    ...(typeof data.estimate === "number" ? { estimate: data.estimate } : {}),
    labels: (data.labels ?? []).map((label) => label.name),
    teamKey: data.team?.key ?? teamKeyOfIdentifier(data.identifier),
  };
}

function issueItem(issue: LinearIssueInfo, author: string | undefined): ItemSnapshot {
  return {
    key: `linear:issue:${issue.id}`,
    kind: "linear_issue",
    reference: issue.identifier,
    title: issue.title,
    url: issue.url,
    ...(author ? { author } : {}),
    status: issue.state,
    ...(issue.assignee ? { assignee: issue.assignee } : {}),
    labels: issue.labels,
    container: issue.teamKey,
  };
}

/**
 * What an update changed, in a fixed order. Only keys present in `updatedFrom` count: Linear lists exactly
 * the fields that changed, with their previous values, and a key with a `null` value means "was unset".
 * Fields we do not report (sortOrder, updatedAt, description edits, cycle, due date, ...) are left out, so an
 * update touching only those yields no changes and is ignored as noise.
 */
function issueChanges(
  data: LinearIssueData,
  issue: LinearIssueInfo,
  raw: Record<string, unknown>,
): FieldChange[] {
  const parsed = LinearIssueUpdatedFromSchema.safeParse(raw);
  // A previous value of an unexpected type still tells us the field changed; we just cannot show it.
  const previous = parsed.success ? parsed.data : {};
  const changes: FieldChange[] = [];

  if ("stateId" in raw) {
    // updatedFrom carries only the previous state's id; its name is not in the payload.
    changes.push({ field: "state", to: issue.state });
  }
  if ("assigneeId" in raw) {
    changes.push({
      field: "assignee",
      ...(previous.assigneeId === null ? { from: UNASSIGNED } : {}),
      to: issue.assignee ?? UNASSIGNED,
    });
  }
  if ("priority" in raw) {
    changes.push({
      field: "priority",
      ...(typeof previous.priority === "number" ? { from: priorityLabel(previous.priority) } : {}),
      to: issue.priorityLabel,
    });
  }
  if ("title" in raw) {
    changes.push({
      field: "title",
      ...(typeof previous.title === "string" ? { from: previous.title } : {}),
      to: issue.title,
    });
  }
  if ("labelIds" in raw) {
    const from = previous.labelIds ? previousLabelNames(previous.labelIds, data) : undefined;
    changes.push({
      field: "labels",
      ...(from !== undefined ? { from } : {}),
      to: issue.labels.length ? issue.labels.join(", ") : NONE,
    });
  }
  if ("estimate" in raw) {
    changes.push({
      field: "estimate",
      ...(previous.estimate !== undefined ? { from: estimateText(previous.estimate) } : {}),
      to: estimateText(data.estimate),
    });
  }
  if ("projectId" in raw) {
    changes.push({
      field: "project",
      ...(previous.projectId === null ? { from: NONE } : {}),
      to: data.project?.name ?? NONE,
    });
  }
  return changes;
}

/**
 * Names of the labels an issue had before. Only ids are sent; a label still on the issue can be named from
 * `data.labels`, a removed one cannot, so it is counted instead of guessed.
 */
function previousLabelNames(previousIds: string[], data: LinearIssueData): string {
  if (previousIds.length === 0) return NONE;
  const current = new Map((data.labels ?? []).map((label) => [label.id, label.name]));
  const names = previousIds.flatMap((id) => current.get(id) ?? []);
  const removed = previousIds.length - names.length;
  if (removed > 0) names.push(`${removed} removed label${removed === 1 ? "" : "s"}`);
  return names.join(", ");
}

function estimateText(estimate: number | null | undefined): string {
  return typeof estimate === "number" ? String(estimate) : NONE;
}

function priorityLabel(priority: number): string {
  return LINEAR_PRIORITY_LABELS[priority] ?? `Priority ${priority}`;
}

/** `ENG-123` -> `ENG`: an issue identifier is the team key, a dash and the issue number. */
function teamKeyOfIdentifier(identifier: string): string {
  const dash = identifier.lastIndexOf("-");
  return dash > 0 ? identifier.slice(0, dash) : identifier;
}

// --- Comment -------------------------------------------------------------------------------------------

function commentEvent(
  context: EventContext,
  payload: LinearEnvelope,
  data: LinearCommentData,
): NormalizeResult {
  const issue = data.issue;
  if (!issue) {
    return ignored(
      "Comment.create on a project update, document or initiative (not an issue) is not reported",
    );
  }
  const url = data.url ?? payload.url ?? issue.url ?? "";
  const identifier = issue.identifier ?? identifierInUrl(issue.url) ?? identifierInUrl(url);
  const team = issue.team?.key ?? (identifier ? teamKeyOfIdentifier(identifier) : undefined);
  const issueUrl = issue.url ?? url.replace(/#.*$/, "");
  const item: ItemSnapshot = {
    key: `linear:issue:${issue.id}`,
    kind: "linear_issue",
    reference: identifier ?? issue.title,
    title: issue.title,
    url: issueUrl,
    // A comment delivery does not carry the issue's state, assignee or labels: left empty, not guessed.
    status: "",
    labels: [],
    container: team ?? "",
  };
  const event: LinearEvent = {
    ...context,
    // Older deliveries may omit `actor`; the comment's author is then the best actor we have.
    actor: payload.actor ? context.actor : data.user ? userActor(data.user) : context.actor,
    kind: "linear.comment",
    action: "create",
    comment: { id: data.id, body: data.body, url },
    issue: { id: issue.id, identifier: identifier ?? "", title: issue.title, url: issueUrl },
    labels: [],
    item,
    ...(team ? { team } : {}),
  };
  return { outcome: "event", event };
}

/** Linear issue URLs read `https://linear.app/<workspace>/issue/<IDENTIFIER>/<slug>`. */
function identifierInUrl(url: string | null | undefined): string | undefined {
  return url?.match(/\/issue\/([A-Za-z0-9_]+-\d+)/)?.[1];
}

// --- Project and project update ------------------------------------------------------------------------

function projectEvent(
  context: EventContext,
  payload: LinearEnvelope,
  data: LinearProjectData,
): NormalizeResult {
  const action = payload.action as "create" | "update";
  const state = projectState(data);
  const changes: FieldChange[] = [];
  if (action === "update") {
    const raw = payload.updatedFrom ?? {};
    const parsed = LinearProjectUpdatedFromSchema.safeParse(raw);
    const previous = parsed.success ? parsed.data : {};
    if ("statusId" in raw || "state" in raw) {
      // Older deliveries send the previous `state` by name; current ones only the previous status id.
      changes.push({
        field: "state",
        ...(previous.state ? { from: capitalize(previous.state) } : {}),
        to: state,
      });
    }
    if ("name" in raw) {
      changes.push({ field: "title", ...(previous.name ? { from: previous.name } : {}), to: data.name });
    }
    if (changes.length === 0) return ignored("Project.update changed nothing worth reporting");
  }
  const event: LinearEvent = {
    ...context,
    kind: "linear.project",
    action,
    projectInfo: { id: data.id, name: data.name, url: data.url ?? payload.url ?? "", state },
    changes,
    project: data.name,
    labels: [],
  };
  return { outcome: "event", event };
}

function projectState(data: LinearProjectData): string {
  if (data.status) return data.status.name;
  return data.state ? capitalize(data.state) : "Unknown";
}

function projectUpdateEvent(
  context: EventContext,
  payload: LinearEnvelope,
  data: LinearProjectUpdateData,
): NormalizeResult {
  const event: LinearEvent = {
    ...context,
    actor: payload.actor ? context.actor : data.user ? userActor(data.user) : context.actor,
    kind: "linear.project_update",
    action: "create",
    projectUpdate: {
      id: data.id,
      body: data.body,
      url: data.url ?? payload.url ?? "",
      ...(data.health ? { health: data.health } : {}),
    },
    projectInfo: { name: data.project.name, ...(data.project.url ? { url: data.project.url } : {}) },
    project: data.project.name,
    labels: [],
  };
  return { outcome: "event", event };
}

// --- Cycle ---------------------------------------------------------------------------------------------

/** Cycle fields whose change is worth a message. Linear also sends a daily update with only scope histories. */
const REPORTED_CYCLE_FIELDS = ["name", "startsAt", "endsAt", "completedAt"] as const;

function cycleEvent(context: EventContext, payload: LinearEnvelope, data: LinearCycleData): NormalizeResult {
  const action = payload.action as "create" | "update";
  if (action === "update") {
    const raw = payload.updatedFrom ?? {};
    if (!REPORTED_CYCLE_FIELDS.some((field) => field in raw)) {
      return ignored("Cycle.update changed nothing worth reporting");
    }
  }
  const url = payload.url ?? undefined;
  const team = data.team?.key ?? teamKeyInUrl(url);
  const event: LinearEvent = {
    ...context,
    kind: "linear.cycle",
    action,
    cycle: {
      id: data.id,
      number: data.number,
      ...(data.name ? { name: data.name } : {}),
      startsAt: data.startsAt,
      endsAt: data.endsAt,
      ...(url ? { url } : {}),
      ...(data.completedAt ? { completedAt: data.completedAt } : {}),
    },
    labels: [],
    ...(team ? { team } : {}),
  };
  return { outcome: "event", event };
}

/** Cycle payloads carry only `teamId`; the team key is in the URL: `https://linear.app/<ws>/team/ENG/cycle/12`. */
function teamKeyInUrl(url: string | undefined): string | undefined {
  return url?.match(/\/team\/([^/]+)\//)?.[1];
}

// --- Shared --------------------------------------------------------------------------------------------

function actorOf(payload: LinearEnvelope): Actor {
  const actor = payload.actor;
  if (!actor) return { name: "Linear", isBot: true };
  return {
    name: actor.name,
    ...(actor.url ? { url: actor.url } : {}),
    ...(actor.avatarUrl ? { avatarUrl: actor.avatarUrl } : {}),
    // Linear marks people as "user"; OAuth apps, integrations and automations have other types.
    isBot: actor.type !== "user",
  };
}

function userActor(user: { name: string; url?: string | null; avatarUrl?: string | null }): Actor {
  return {
    name: user.name,
    ...(user.url ? { url: user.url } : {}),
    ...(user.avatarUrl ? { avatarUrl: user.avatarUrl } : {}),
    isBot: false,
  };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function ignored(reason: string): NormalizeResult {
  return { outcome: "ignored", reason };
}
