/**
 * zod schemas for the Linear webhook deliveries Switchboard reads.
 *
 * Shapes follow Linear's "Webhooks" developer docs and the `*WebhookPayload` types of its GraphQL schema
 * (the ones `@linear/sdk/webhooks` exports). Every object is loose: Linear adds fields without notice, and we
 * declare only the ones we read. Anything Linear documents as nullable, or omits on older deliveries, is
 * `nullish` here so a real delivery never fails on a field we could live without.
 */
import { z } from "zod";

/** `actor` is the user, OAuth app or integration that caused the change. Absent on some system changes. */
export const LinearActorSchema = z.looseObject({
  id: z.string().nullish(),
  name: z.string(),
  /** "user" for people; "OauthClient", "Integration" and others for apps and automations. */
  type: z.string().nullish(),
  email: z.string().nullish(),
  url: z.string().nullish(),
  avatarUrl: z.string().nullish(),
});

/**
 * The envelope every data-change delivery shares. `type` is the model ("Issue", "Comment", ...) and equals the
 * `Linear-Event` header; `createdAt` is when the change happened; `webhookTimestamp` (Unix ms) is when this
 * attempt was sent. `updatedFrom` holds, for `update` actions only, the previous values of the changed fields
 * keyed like `data` (so a state change shows up as `stateId`, never as `state`).
 */
export const LinearEnvelopeSchema = z.looseObject({
  action: z.string(),
  type: z.string(),
  createdAt: z.string(),
  url: z.string().nullish(),
  actor: LinearActorSchema.nullish(),
  data: z.record(z.string(), z.unknown()),
  updatedFrom: z.record(z.string(), z.unknown()).nullish(),
  organizationId: z.string().nullish(),
  webhookTimestamp: z.number().nullish(),
  webhookId: z.string().nullish(),
});
export type LinearEnvelope = z.infer<typeof LinearEnvelopeSchema>;

const UserChildSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  email: z.string().nullish(),
  url: z.string().nullish(),
  avatarUrl: z.string().nullish(),
});

const TeamChildSchema = z.looseObject({ id: z.string(), key: z.string(), name: z.string().nullish() });

const WorkflowStateChildSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  color: z.string().nullish(),
  /** backlog | unstarted | started | completed | canceled | triage */
  type: z.string().nullish(),
});

const LabelChildSchema = z.looseObject({ id: z.string(), name: z.string(), color: z.string().nullish() });

const ProjectChildSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  url: z.string().nullish(),
});

export const LinearIssueDataSchema = z.looseObject({
  id: z.string(),
  identifier: z.string(),
  number: z.number().nullish(),
  title: z.string(),
  description: z.string().nullish(),
  /** 0 No priority, 1 Urgent, 2 High, 3 Medium, 4 Low. */
  priority: z.number().nullish(),
  priorityLabel: z.string().nullish(),
  estimate: z.number().nullish(),
  url: z.string().nullish(),
  createdAt: z.string().nullish(),
  updatedAt: z.string().nullish(),
  stateId: z.string().nullish(),
  state: WorkflowStateChildSchema.nullish(),
  teamId: z.string().nullish(),
  team: TeamChildSchema.nullish(),
  assigneeId: z.string().nullish(),
  assignee: UserChildSchema.nullish(),
  creator: UserChildSchema.nullish(),
  labelIds: z.array(z.string()).nullish(),
  labels: z.array(LabelChildSchema).nullish(),
  projectId: z.string().nullish(),
  project: ProjectChildSchema.nullish(),
});
export type LinearIssueData = z.infer<typeof LinearIssueDataSchema>;

/**
 * Previous values of an issue's changed fields. Only ids travel here: the previous state, assignee and
 * labels are not expanded, so their names are unknown unless the current data still holds them.
 */
export const LinearIssueUpdatedFromSchema = z.looseObject({
  stateId: z.string().nullish(),
  assigneeId: z.string().nullish(),
  priority: z.number().nullish(),
  title: z.string().nullish(),
  labelIds: z.array(z.string()).nullish(),
  estimate: z.number().nullish(),
  description: z.string().nullish(),
  projectId: z.string().nullish(),
});

export const LinearCommentDataSchema = z.looseObject({
  id: z.string(),
  body: z.string(),
  url: z.string().nullish(),
  createdAt: z.string().nullish(),
  /** Null when the comment is on a project update, document or initiative instead of an issue. */
  issueId: z.string().nullish(),
  issue: z
    .looseObject({
      id: z.string(),
      /** Older deliveries send only `id` and `title`. */
      identifier: z.string().nullish(),
      title: z.string(),
      url: z.string().nullish(),
      team: TeamChildSchema.nullish(),
    })
    .nullish(),
  userId: z.string().nullish(),
  user: UserChildSchema.nullish(),
});
export type LinearCommentData = z.infer<typeof LinearCommentDataSchema>;

export const LinearProjectDataSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.string().nullish(),
  url: z.string().nullish(),
  /** Current workspaces send a customisable `status`; older deliveries sent a fixed `state` string. */
  status: z
    .looseObject({
      id: z.string(),
      name: z.string(),
      type: z.string().nullish(),
      color: z.string().nullish(),
    })
    .nullish(),
  statusId: z.string().nullish(),
  state: z.string().nullish(),
  lead: UserChildSchema.nullish(),
  teamIds: z.array(z.string()).nullish(),
});
export type LinearProjectData = z.infer<typeof LinearProjectDataSchema>;

/** A project's previous values: `statusId` (current) or `state` (older deliveries), and `name`. */
export const LinearProjectUpdatedFromSchema = z.looseObject({
  statusId: z.string().nullish(),
  state: z.string().nullish(),
  name: z.string().nullish(),
});

export const LinearProjectUpdateDataSchema = z.looseObject({
  id: z.string(),
  body: z.string(),
  /** onTrack | atRisk | offTrack */
  health: z.string().nullish(),
  url: z.string().nullish(),
  project: ProjectChildSchema,
  projectId: z.string().nullish(),
  user: UserChildSchema.nullish(),
});
export type LinearProjectUpdateData = z.infer<typeof LinearProjectUpdateDataSchema>;

export const LinearCycleDataSchema = z.looseObject({
  id: z.string(),
  number: z.number(),
  name: z.string().nullish(),
  description: z.string().nullish(),
  startsAt: z.string(),
  endsAt: z.string(),
  completedAt: z.string().nullish(),
  teamId: z.string().nullish(),
  /** Not in Linear's documented cycle payload, but read when present. */
  team: TeamChildSchema.nullish(),
});
export type LinearCycleData = z.infer<typeof LinearCycleDataSchema>;
