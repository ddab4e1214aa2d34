/**
 * GitHub delivery -> domain event.
 *
 * Pure and total: every input yields a NormalizeResult, never an exception. Deliveries we do not post (ping,
 * events and actions nobody routes, payloads that do not match their schema) come back as `ignored` with a
 * reason an operator can read in the delivery log.
 */
import { describePayloadIssues } from "../payload-issues.js";
import { firstLine } from "../../events/text.js";
import type { z } from "zod";
import type {
  Actor,
  GitHubDeploymentInfo,
  GitHubEvent,
  GitHubIssueInfo,
  ItemSnapshot,
  NormalizeResult,
  PullRequestInfo,
} from "../../events/domain-event.js";
import {
  GitHubDeploymentPayloadSchema,
  GitHubDeploymentStatusPayloadSchema,
  GitHubIssueCommentPayloadSchema,
  GitHubIssuesPayloadSchema,
  GitHubPullRequestPayloadSchema,
  GitHubPullRequestReviewPayloadSchema,
  GitHubPushPayloadSchema,
  GitHubRefPayloadSchema,
  GitHubReleasePayloadSchema,
  GitHubWorkflowRunPayloadSchema,
  type GitHubDeployment,
  type GitHubDeploymentPayload,
  type GitHubDeploymentStatusPayload,
  type GitHubIssue,
  type GitHubIssueCommentPayload,
  type GitHubIssuesPayload,
  type GitHubPullRequest,
  type GitHubPullRequestPayload,
  type GitHubPullRequestReviewPayload,
  type GitHubPushPayload,
  type GitHubRefPayload,
  type GitHubReleasePayload,
  type GitHubUser,
  type GitHubWorkflowRunPayload,
} from "./payloads.js";

export interface GitHubDelivery {
  /** The `X-GitHub-Event` header: `pull_request`, `push`, ... */
  event: string;
  /** The `X-GitHub-Delivery` header. */
  deliveryId: string;
  /** The parsed JSON body. */
  payload: unknown;
  receivedAt: Date;
}

/** What every GitHub event shares, built once per delivery from `repository`, `sender` and a timestamp. */
type SharedFacets = Pick<
  GitHubEvent,
  "source" | "name" | "deliveryId" | "occurredAt" | "actor" | "repo" | "labels"
>;

type ReviewState = "approved" | "changes_requested" | "commented";
const REVIEW_STATES: ReadonlySet<string> = new Set<ReviewState>([
  "approved",
  "changes_requested",
  "commented",
]);

const BRANCH_REF_PREFIX = "refs/heads/";
const TAG_REF_PREFIX = "refs/tags/";
/** A full commit id. Deployments may target one instead of a branch, and then there is no branch facet. */
const COMMIT_SHA = /^[0-9a-f]{40}$/i;

export function normalizeGitHub(input: GitHubDelivery): NormalizeResult {
  try {
    return normalizeDelivery(input);
  } catch (error) {
    // The schemas should make this unreachable; the pipeline still must never crash on a delivery.
    return ignored(`GitHub ${input.event} delivery could not be normalized: ${String(error)}`);
  }
}

function normalizeDelivery(input: GitHubDelivery): NormalizeResult {
  switch (input.event) {
    case "ping":
      // GitHub sends ping once when a webhook is created; the receiver answers it, nobody needs to read it.
      return ignored("ping is answered, never posted");
    case "push":
      return parseThen(input, GitHubPushPayloadSchema, pushEvent);
    case "pull_request":
      return parseThen(input, GitHubPullRequestPayloadSchema, pullRequestEvent);
    case "pull_request_review":
      return parseThen(input, GitHubPullRequestReviewPayloadSchema, pullRequestReviewEvent);
    case "issues":
      return parseThen(input, GitHubIssuesPayloadSchema, issuesEvent);
    case "issue_comment":
      return parseThen(input, GitHubIssueCommentPayloadSchema, issueCommentEvent);
    case "release":
      return parseThen(input, GitHubReleasePayloadSchema, releaseEvent);
    case "workflow_run":
      return parseThen(input, GitHubWorkflowRunPayloadSchema, workflowRunEvent);
    case "deployment":
      return parseThen(input, GitHubDeploymentPayloadSchema, deploymentEvent);
    case "deployment_status":
      return parseThen(input, GitHubDeploymentStatusPayloadSchema, deploymentStatusEvent);
    case "create":
    case "delete":
      return parseThen(input, GitHubRefPayloadSchema, refEvent);
    default:
      return ignored(`${eventName(input.event, actionOf(input.payload))} is not reported`);
  }
}

/**
 * Parse the payload with the event's schema, then build the event. A payload whose only fault is an action
 * outside the schema's enum is a delivery we chose not to report, not a malformed one.
 */
function parseThen<T>(
  input: GitHubDelivery,
  schema: z.ZodType<T>,
  toResult: (payload: T, input: GitHubDelivery) => NormalizeResult,
): NormalizeResult {
  const parsed = schema.safeParse(input.payload, { error: describeInvalidType });
  if (parsed.success) return toResult(parsed.data, input);
  const action = actionOf(input.payload);
  const actionRejected = parsed.error.issues.some((issue) => issue.path.join(".") === "action");
  if (actionRejected && action !== undefined) return ignored(`${input.event}.${action} is not reported`);
  return ignored(`${input.event} payload did not match: ${describePayloadIssues(parsed.error)}`);
}

// --- push ----------------------------------------------------------------------------------------------

function pushEvent(payload: GitHubPushPayload, input: GitHubDelivery): NormalizeResult {
  const parsedRef = parseRef(payload.ref);
  if (!parsedRef) return ignored(`push to ${payload.ref} (neither a branch nor a tag) is not reported`);
  const { refType, name: ref } = parsedRef;
  const event: GitHubEvent = {
    ...sharedFacets(input, payload, "push", [payload.head_commit?.timestamp]),
    kind: "github.push",
    refType,
    ref,
    forced: payload.forced,
    created: payload.created,
    deleted: payload.deleted,
    commits: payload.commits.map((commit) => ({
      sha: commit.id,
      title: firstLine(commit.message),
      url: commit.url,
      author: commit.author.username ?? commit.author.name,
    })),
    // Push webhooks have no `size` or `distinct_size` (those are Events API fields), and GitHub documents its
    // 20-commit cap as applying to timeline events, not webhook deliveries: the array is the whole push.
    totalCommits: payload.commits.length,
    compareUrl: payload.compare,
    ...(refType === "branch" ? { branch: ref } : {}),
  };
  return { outcome: "event", event };
}

/** `refs/heads/main` is branch main, `refs/tags/v1` tag v1; other refs (notes, PR heads) are neither. */
function parseRef(ref: string): { refType: "branch" | "tag"; name: string } | undefined {
  if (ref.startsWith(BRANCH_REF_PREFIX))
    return { refType: "branch", name: ref.slice(BRANCH_REF_PREFIX.length) };
  if (ref.startsWith(TAG_REF_PREFIX)) return { refType: "tag", name: ref.slice(TAG_REF_PREFIX.length) };
  return undefined;
}

// --- pull_request and pull_request_review --------------------------------------------------------------

function pullRequestEvent(payload: GitHubPullRequestPayload, input: GitHubDelivery): NormalizeResult {
  const { action } = payload;
  const pullRequest = pullRequestInfo(payload.pull_request);
  const label = payload.label?.name;
  const labels = labelsAfter(action, labelNames(payload.pull_request.labels), label);
  const requestedReviewer = payload.requested_reviewer?.login ?? payload.requested_team?.slug;
  const event: GitHubEvent = {
    ...sharedFacets(input, payload, `pull_request.${action}`, [payload.pull_request.updated_at]),
    kind: "github.pull_request",
    action,
    pullRequest,
    ...(label !== undefined && (action === "labeled" || action === "unlabeled") ? { label } : {}),
    ...(requestedReviewer !== undefined && action === "review_requested" ? { requestedReviewer } : {}),
    ...(action === "review_requested" && !payload.requested_reviewer && payload.requested_team
      ? { requestedReviewerIsTeam: true as const }
      : {}),
    branch: pullRequest.baseBranch,
    labels,
    draft: pullRequest.draft,
    item: pullRequestItem(payload.repository.full_name, payload.pull_request, pullRequest, labels),
  };
  return { outcome: "event", event };
}

function pullRequestReviewEvent(
  payload: GitHubPullRequestReviewPayload,
  input: GitHubDelivery,
): NormalizeResult {
  const state = payload.review.state.toLowerCase();
  if (!isReviewState(state))
    return ignored(`pull_request_review.submitted with state ${state} is not reported`);
  const pullRequest = pullRequestInfo(payload.pull_request);
  const labels = labelNames(payload.pull_request.labels);
  const timestamps = [payload.review.submitted_at, payload.pull_request.updated_at];
  const event: GitHubEvent = {
    ...sharedFacets(input, payload, "pull_request_review.submitted", timestamps),
    kind: "github.pull_request_review",
    action: "submitted",
    review: { state, body: payload.review.body ?? "", url: payload.review.html_url },
    pullRequest,
    branch: pullRequest.baseBranch,
    labels,
    draft: pullRequest.draft,
    item: pullRequestItem(payload.repository.full_name, payload.pull_request, pullRequest, labels, state),
  };
  return { outcome: "event", event };
}

function isReviewState(state: string): state is ReviewState {
  return REVIEW_STATES.has(state);
}

function pullRequestInfo(pr: GitHubPullRequest): PullRequestInfo {
  return {
    number: pr.number,
    title: pr.title,
    url: pr.html_url,
    body: pr.body ?? "",
    author: pr.user.login,
    state: pr.state,
    draft: pr.draft ?? false,
    merged: pr.merged ?? pr.merged_at !== null,
    headBranch: pr.head.ref,
    baseBranch: pr.base.ref,
    ...(pr.additions !== undefined ? { additions: pr.additions } : {}),
    ...(pr.deletions !== undefined ? { deletions: pr.deletions } : {}),
    ...(pr.changed_files !== undefined ? { changedFiles: pr.changed_files } : {}),
  };
}

function pullRequestItem(
  repo: string,
  raw: GitHubPullRequest,
  pullRequest: PullRequestInfo,
  labels: string[],
  review?: ReviewState,
): ItemSnapshot {
  return {
    key: `github:pr:${repo}#${pullRequest.number}`,
    kind: "pull_request",
    reference: `#${pullRequest.number}`,
    title: pullRequest.title,
    url: pullRequest.url,
    author: pullRequest.author,
    status: pullRequestStatus(pullRequest, review),
    ...assigneeOf(raw.assignees),
    labels,
    container: repo,
  };
}

/** A verdict only describes an open PR: merged and closed win, and a plain comment changes nothing. */
function pullRequestStatus(pullRequest: PullRequestInfo, review?: ReviewState): string {
  if (pullRequest.merged) return "merged";
  if (pullRequest.state === "closed") return "closed";
  if (review === "approved" || review === "changes_requested") return review;
  return pullRequest.draft ? "draft" : "open";
}

// --- issues and issue_comment --------------------------------------------------------------------------

function issuesEvent(payload: GitHubIssuesPayload, input: GitHubDelivery): NormalizeResult {
  const { action } = payload;
  const issue = issueInfo(payload.issue);
  const label = payload.label?.name;
  const labels = labelsAfter(action, labelNames(payload.issue.labels), label);
  const event: GitHubEvent = {
    ...sharedFacets(input, payload, `issues.${action}`, [payload.issue.updated_at]),
    kind: "github.issue",
    action,
    issue,
    ...(label !== undefined && action === "labeled" ? { label } : {}),
    labels,
    ...draftFacet(payload.issue),
    item: issueItem(payload.repository.full_name, payload.issue, issue, labels),
  };
  return { outcome: "event", event };
}

function issueCommentEvent(payload: GitHubIssueCommentPayload, input: GitHubDelivery): NormalizeResult {
  const issue = issueInfo(payload.issue);
  const labels = labelNames(payload.issue.labels);
  const event: GitHubEvent = {
    ...sharedFacets(input, payload, "issue_comment.created", [payload.comment.created_at]),
    kind: "github.issue_comment",
    action: "created",
    issue,
    comment: { body: payload.comment.body, url: payload.comment.html_url },
    labels,
    ...draftFacet(payload.issue),
    item: issueItem(payload.repository.full_name, payload.issue, issue, labels),
  };
  return { outcome: "event", event };
}

function issueInfo(issue: GitHubIssue): GitHubIssueInfo {
  return {
    number: issue.number,
    title: issue.title,
    url: issue.html_url,
    body: issue.body ?? "",
    author: issue.user.login,
    state: issue.state,
    ...(issue.state_reason ? { stateReason: issue.state_reason } : {}),
    // GitHub models every PR as an issue too; comments on a PR arrive as issue_comment with this key set.
    isPullRequest: issue.pull_request !== undefined,
  };
}

/** An issue-shaped PR (a comment on a PR) is keyed as the PR, so it lands in the PR's thread. */
function issueItem(repo: string, raw: GitHubIssue, issue: GitHubIssueInfo, labels: string[]): ItemSnapshot {
  return {
    key: `github:${issue.isPullRequest ? "pr" : "issue"}:${repo}#${issue.number}`,
    kind: issue.isPullRequest ? "pull_request" : "issue",
    reference: `#${issue.number}`,
    title: issue.title,
    url: issue.url,
    author: issue.author,
    status: issueStatus(raw),
    ...assigneeOf(raw.assignees),
    labels,
    container: repo,
  };
}

function issueStatus(issue: GitHubIssue): string {
  if (issue.pull_request?.merged_at) return "merged";
  if (issue.state === "closed") return "closed";
  return issue.pull_request && issue.draft ? "draft" : "open";
}

function draftFacet(issue: GitHubIssue): { draft?: boolean } {
  return issue.pull_request ? { draft: issue.draft ?? false } : {};
}

// --- release, workflow_run, deployment, deployment_status ----------------------------------------------

function releaseEvent(payload: GitHubReleasePayload, input: GitHubDelivery): NormalizeResult {
  const { release } = payload;
  const event: GitHubEvent = {
    ...sharedFacets(input, payload, `release.${payload.action}`, [release.published_at, release.created_at]),
    kind: "github.release",
    action: payload.action,
    release: {
      tag: release.tag_name,
      name: release.name ?? "",
      url: release.html_url,
      body: release.body ?? "",
      prerelease: release.prerelease,
    },
    labels: [],
  };
  return { outcome: "event", event };
}

function workflowRunEvent(payload: GitHubWorkflowRunPayload, input: GitHubDelivery): NormalizeResult {
  const run = payload.workflow_run;
  // GitHub documents `conclusion` as set once a run completes; a completed run without one says nothing.
  if (run.conclusion === null) return ignored("workflow_run.completed without a conclusion is not reported");
  const event: GitHubEvent = {
    ...sharedFacets(input, payload, "workflow_run.completed", [run.updated_at]),
    kind: "github.workflow_run",
    action: "completed",
    run: {
      id: run.id,
      name: run.name || payload.workflow?.name || run.display_title || `Workflow run ${run.id}`,
      conclusion: run.conclusion,
      url: run.html_url,
      headBranch: run.head_branch ?? "",
      headSha: run.head_sha,
      runNumber: run.run_number,
      trigger: run.event,
    },
    ...(run.head_branch ? { branch: run.head_branch } : {}),
    labels: [],
  };
  return { outcome: "event", event };
}

function deploymentEvent(payload: GitHubDeploymentPayload, input: GitHubDelivery): NormalizeResult {
  const event: GitHubEvent = {
    ...sharedFacets(input, payload, "deployment.created", [payload.deployment.created_at]),
    kind: "github.deployment",
    action: "created",
    deployment: deploymentInfo(payload.deployment, payload.repository.html_url),
    ...deploymentBranch(payload.deployment),
    labels: [],
  };
  return { outcome: "event", event };
}

function deploymentStatusEvent(
  payload: GitHubDeploymentStatusPayload,
  input: GitHubDelivery,
): NormalizeResult {
  const status = payload.deployment_status;
  const event: GitHubEvent = {
    ...sharedFacets(input, payload, "deployment_status.created", [status.created_at]),
    kind: "github.deployment_status",
    action: "created",
    deployment: deploymentInfo(payload.deployment, payload.repository.html_url),
    status: {
      state: status.state,
      description: status.description ?? "",
      // GitHub sends "" for URLs that were never set.
      ...(status.target_url ? { targetUrl: status.target_url } : {}),
      ...(status.log_url ? { logUrl: status.log_url } : {}),
    },
    ...deploymentBranch(payload.deployment),
    labels: [],
  };
  return { outcome: "event", event };
}

function deploymentInfo(deployment: GitHubDeployment, repositoryUrl: string): GitHubDeploymentInfo {
  return {
    id: deployment.id,
    environment: deployment.environment,
    ref: deployment.ref,
    sha: deployment.sha,
    description: deployment.description ?? "",
    creator: deployment.creator?.login ?? "",
    // A deployment has only an API URL; the repository's deployments page is the one a person can open.
    url: `${repositoryUrl}/deployments`,
    ...switchboardIdOf(deployment.payload),
  };
}

/** `switchboard_deployment_id` from a deployment's payload (see deploy-service.ts deploymentPayload). */
function switchboardIdOf(payload: unknown): { switchboardId?: number } {
  let value = payload;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return {};
    }
  }
  const id = (value as { switchboard_deployment_id?: unknown } | null)?.switchboard_deployment_id;
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? { switchboardId: id } : {};
}

function deploymentBranch(deployment: GitHubDeployment): { branch?: string } {
  return COMMIT_SHA.test(deployment.ref) ? {} : { branch: deployment.ref };
}

// --- create and delete ---------------------------------------------------------------------------------

function refEvent(payload: GitHubRefPayload, input: GitHubDelivery): NormalizeResult {
  const refType = payload.ref_type;
  if (refType !== "branch" && refType !== "tag") {
    return ignored(`${input.event} of a ${refType} is not reported`);
  }
  const event: GitHubEvent = {
    // create and delete carry no timestamp at all: the receipt time is the best we have.
    ...sharedFacets(input, payload, input.event, []),
    kind: "github.ref",
    action: input.event === "create" ? "created" : "deleted",
    refType,
    ref: payload.ref,
    ...(refType === "branch" ? { branch: payload.ref } : {}),
    labels: [],
  };
  return { outcome: "event", event };
}

// --- shared facets -------------------------------------------------------------------------------------

function sharedFacets(
  input: GitHubDelivery,
  payload: { repository: { full_name: string }; sender: GitHubUser },
  name: string,
  timestamps: Array<string | null | undefined>,
): SharedFacets {
  return {
    source: "github",
    name,
    deliveryId: input.deliveryId,
    occurredAt: firstValidTimestamp(timestamps) ?? input.receivedAt.toISOString(),
    actor: actorOf(payload.sender),
    repo: payload.repository.full_name,
    labels: [],
  };
}

/** GitHub mixes `2019-05-15T15:20:33Z` and `-07:00` offsets; events carry one UTC form. */
function firstValidTimestamp(candidates: Array<string | null | undefined>): string | undefined {
  for (const candidate of candidates) {
    const time = candidate ? Date.parse(candidate) : Number.NaN;
    if (!Number.isNaN(time)) return new Date(time).toISOString();
  }
  return undefined;
}

function actorOf(sender: GitHubUser): Actor {
  return {
    name: sender.login,
    ...(sender.html_url ? { url: sender.html_url } : {}),
    ...(sender.avatar_url ? { avatarUrl: sender.avatar_url } : {}),
    // GitHub Apps act as `type: "Bot"` users whose login ends in `[bot]` (dependabot[bot], renovate[bot]).
    isBot: sender.type === "Bot" || sender.login.endsWith("[bot]"),
  };
}

function labelNames(labels: Array<{ name: string }> | null | undefined): string[] {
  return (labels ?? []).map((label) => label.name);
}

/**
 * Labels after a (un)labeled action. The item in the delivery is a snapshot that may or may not already
 * reflect the change (the octokit example of `unlabeled` still lists the removed label), so apply it here.
 */
function labelsAfter(action: string, labels: string[], label: string | undefined): string[] {
  if (label === undefined) return labels;
  if (action === "labeled") return labels.includes(label) ? labels : [...labels, label];
  if (action === "unlabeled") return labels.filter((name) => name !== label);
  return labels;
}

function assigneeOf(assignees: GitHubUser[] | null | undefined): { assignee?: string } {
  const logins = (assignees ?? []).map((user) => user.login);
  return logins.length > 0 ? { assignee: logins.join(", ") } : {};
}

// --- ignored deliveries --------------------------------------------------------------------------------

function ignored(reason: string): NormalizeResult {
  return { outcome: "ignored", reason };
}

function eventName(event: string, action: string | undefined): string {
  return action === undefined ? event : `${event}.${action}`;
}

function actionOf(payload: unknown): string | undefined {
  if (typeof payload !== "object" || payload === null || !("action" in payload)) return undefined;
  return typeof payload.action === "string" ? payload.action : undefined;
}

/** `expected number, got string` reads better in a delivery log than zod's default "Invalid input: ...". */
function describeInvalidType(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== "invalid_type") return undefined;
  const input: unknown = issue.input;
  const got =
    input === undefined ? "nothing" : input === null ? "null" : Array.isArray(input) ? "array" : typeof input;
  return `expected ${issue.expected}, got ${got}`;
}
