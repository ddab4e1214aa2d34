/**
 * zod schemas for the GitHub webhook deliveries Switchboard reads.
 *
 * Shapes follow GitHub's "Webhook events and payloads" docs and the real deliveries collected in
 * `@octokit/webhooks-examples`. Every object is loose: GitHub adds fields without notice, and we declare only
 * the ones we read. Fields GitHub sends as `null` (an empty PR body, an unnamed release) are `nullable`;
 * fields that some variants of an event omit (the PR inside `pull_request_review` has no `merged` or `draft`)
 * are `optional`, so a real delivery never fails on a field we can live without.
 *
 * `action` is an enum of the actions we report: a delivery whose action is not listed fails on `action` alone,
 * which the normalizer reads as "not reported" rather than "malformed".
 */
import { z } from "zod";

/** A user, bot or organization as GitHub embeds it (`sender`, `user`, `assignees[]`, `creator`). */
export const GitHubUserSchema = z.looseObject({
  login: z.string(),
  /** "User", "Bot" or "Organization". */
  type: z.string().nullish(),
  html_url: z.string().nullish(),
  avatar_url: z.string().nullish(),
});
export type GitHubUser = z.infer<typeof GitHubUserSchema>;

export const GitHubRepositorySchema = z.looseObject({
  /** `owner/name`, the repo facet routes match on. */
  full_name: z.string(),
  html_url: z.string(),
});

const LabelSchema = z.looseObject({ name: z.string() });

/** Fields every repository event carries: who did it, and where. */
const RepositoryEventShape = {
  repository: GitHubRepositorySchema,
  sender: GitHubUserSchema,
};

const BranchRefSchema = z.looseObject({ ref: z.string() });

export const GitHubPullRequestSchema = z.looseObject({
  number: z.number().int(),
  title: z.string(),
  html_url: z.string(),
  body: z.string().nullable(),
  state: z.enum(["open", "closed"]),
  user: GitHubUserSchema,
  updated_at: z.string(),
  // The PR embedded in pull_request_review deliveries omits `draft`, `merged` and the diff stats; `merged_at`
  // is present in every variant and is the fallback for `merged`.
  draft: z.boolean().optional(),
  merged: z.boolean().nullish(),
  merged_at: z.string().nullable(),
  labels: z.array(LabelSchema),
  assignees: z.array(GitHubUserSchema).nullish(),
  head: BranchRefSchema,
  base: BranchRefSchema,
  additions: z.number().optional(),
  deletions: z.number().optional(),
  changed_files: z.number().optional(),
});
export type GitHubPullRequest = z.infer<typeof GitHubPullRequestSchema>;

export const GitHubPullRequestPayloadSchema = z.looseObject({
  ...RepositoryEventShape,
  action: z.enum([
    "opened",
    "reopened",
    "closed",
    "ready_for_review",
    "converted_to_draft",
    "review_requested",
    "labeled",
    "unlabeled",
  ]),
  pull_request: GitHubPullRequestSchema,
  label: LabelSchema.optional(),
  /** review_requested names either a person (`requested_reviewer`) or a team (`requested_team`). */
  requested_reviewer: GitHubUserSchema.optional(),
  requested_team: z.looseObject({ slug: z.string() }).optional(),
});
export type GitHubPullRequestPayload = z.infer<typeof GitHubPullRequestPayloadSchema>;

export const GitHubPullRequestReviewPayloadSchema = z.looseObject({
  ...RepositoryEventShape,
  action: z.enum(["submitted"]),
  review: z.looseObject({
    /** Lowercase in webhooks ("approved"), uppercase in the REST API ("APPROVED"). */
    state: z.string(),
    body: z.string().nullable(),
    html_url: z.string(),
    submitted_at: z.string().nullish(),
  }),
  pull_request: GitHubPullRequestSchema,
});
export type GitHubPullRequestReviewPayload = z.infer<typeof GitHubPullRequestReviewPayloadSchema>;

export const GitHubIssueSchema = z.looseObject({
  number: z.number().int(),
  title: z.string(),
  html_url: z.string(),
  body: z.string().nullable(),
  state: z.enum(["open", "closed"]),
  /** completed | not_planned | reopened; absent on older deliveries. */
  state_reason: z.string().nullish(),
  user: GitHubUserSchema,
  updated_at: z.string(),
  labels: z.array(LabelSchema).nullish(),
  assignees: z.array(GitHubUserSchema).nullish(),
  draft: z.boolean().optional(),
  /** Present when the "issue" is a pull request: GitHub sends PR comments as issue_comment. */
  pull_request: z.looseObject({ merged_at: z.string().nullish() }).optional(),
});
export type GitHubIssue = z.infer<typeof GitHubIssueSchema>;

export const GitHubIssuesPayloadSchema = z.looseObject({
  ...RepositoryEventShape,
  action: z.enum(["opened", "closed", "reopened", "labeled"]),
  issue: GitHubIssueSchema,
  label: LabelSchema.optional(),
});
export type GitHubIssuesPayload = z.infer<typeof GitHubIssuesPayloadSchema>;

export const GitHubIssueCommentPayloadSchema = z.looseObject({
  ...RepositoryEventShape,
  action: z.enum(["created"]),
  issue: GitHubIssueSchema,
  comment: z.looseObject({ body: z.string(), html_url: z.string(), created_at: z.string() }),
});
export type GitHubIssueCommentPayload = z.infer<typeof GitHubIssueCommentPayloadSchema>;

const CommitAuthorSchema = z.looseObject({ name: z.string(), username: z.string().nullish() });

const PushCommitSchema = z.looseObject({
  id: z.string(),
  message: z.string(),
  url: z.string(),
  timestamp: z.string(),
  author: CommitAuthorSchema,
});

export const GitHubPushPayloadSchema = z.looseObject({
  ...RepositoryEventShape,
  /** `refs/heads/<branch>` or `refs/tags/<tag>`. */
  ref: z.string(),
  created: z.boolean(),
  deleted: z.boolean(),
  forced: z.boolean(),
  compare: z.string(),
  commits: z.array(PushCommitSchema),
  /** Null when the push deleted the ref. */
  head_commit: PushCommitSchema.nullable(),
});
export type GitHubPushPayload = z.infer<typeof GitHubPushPayloadSchema>;

export const GitHubReleasePayloadSchema = z.looseObject({
  ...RepositoryEventShape,
  action: z.enum(["published", "prereleased"]),
  release: z.looseObject({
    tag_name: z.string(),
    /** Null or "" when the release was published without a title. */
    name: z.string().nullable(),
    html_url: z.string(),
    body: z.string().nullable(),
    prerelease: z.boolean(),
    created_at: z.string().nullish(),
    published_at: z.string().nullish(),
  }),
});
export type GitHubReleasePayload = z.infer<typeof GitHubReleasePayloadSchema>;

export const GitHubWorkflowRunPayloadSchema = z.looseObject({
  ...RepositoryEventShape,
  action: z.enum(["completed"]),
  workflow_run: z.looseObject({
    id: z.number(),
    /** Empty for some runs; the workflow's own name is the fallback. */
    name: z.string().nullish(),
    display_title: z.string().nullish(),
    conclusion: z.string().nullable(),
    html_url: z.string(),
    head_branch: z.string().nullable(),
    head_sha: z.string(),
    run_number: z.number(),
    /** The event that triggered the run: push, pull_request, workflow_dispatch, ... */
    event: z.string(),
    updated_at: z.string(),
  }),
  workflow: z.looseObject({ name: z.string() }).nullish(),
});
export type GitHubWorkflowRunPayload = z.infer<typeof GitHubWorkflowRunPayloadSchema>;

export const GitHubDeploymentSchema = z.looseObject({
  id: z.number(),
  environment: z.string(),
  ref: z.string(),
  sha: z.string(),
  description: z.string().nullable(),
  creator: GitHubUserSchema.nullable(),
  created_at: z.string(),
  /** Whatever the creator attached: an object, or (older API clients) a JSON string. */
  payload: z.unknown().optional(),
});
export type GitHubDeployment = z.infer<typeof GitHubDeploymentSchema>;

export const GitHubDeploymentPayloadSchema = z.looseObject({
  ...RepositoryEventShape,
  action: z.enum(["created"]),
  deployment: GitHubDeploymentSchema,
});
export type GitHubDeploymentPayload = z.infer<typeof GitHubDeploymentPayloadSchema>;

export const GitHubDeploymentStatusPayloadSchema = z.looseObject({
  ...RepositoryEventShape,
  action: z.enum(["created"]),
  deployment: GitHubDeploymentSchema,
  deployment_status: z.looseObject({
    state: z.string(),
    description: z.string().nullable(),
    /** GitHub sends "" rather than null when no URL was given. */
    target_url: z.string().nullish(),
    log_url: z.string().nullish(),
    created_at: z.string(),
  }),
});
export type GitHubDeploymentStatusPayload = z.infer<typeof GitHubDeploymentStatusPayloadSchema>;

/** `create` and `delete` share one shape and carry no action and no timestamp. */
export const GitHubRefPayloadSchema = z.looseObject({
  ...RepositoryEventShape,
  /** The bare branch or tag name, without `refs/heads/`. */
  ref: z.string(),
  /** "branch" or "tag" (the Events API also knows "repository", which webhooks do not send). */
  ref_type: z.string(),
});
export type GitHubRefPayload = z.infer<typeof GitHubRefPayloadSchema>;
