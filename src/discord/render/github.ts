/**
 * GitHub domain event -> EventSummary. Pure: the same event always reads the same way.
 *
 * Every summary names the repo, what happened and the item (`#12 Fix the flux capacitor`, a tag, a workflow
 * run), links to the page a reader would open next, and picks its colour from the outcome. `toMessage` does
 * the layout and enforces Discord's limits; excerpts here are cut short on purpose so a notification stays a
 * notification, not a copy of the PR.
 */
import { oneLine, truncate } from "../../events/text.js";
import type { GitHubEvent } from "../../events/domain-event.js";
import { COLORS, type EmbedField, type EventSummary } from "./message.js";

type EventOfKind<K extends GitHubEvent["kind"]> = Extract<GitHubEvent, { kind: K }>;

/** What a kind contributes; the repo-wide parts (footer, actor, timestamp) are added once. */
type KindSummary = Omit<EventSummary, "actor" | "timestamp" | "footer">;

/** PR and issue bodies give context, not the whole story: the link has the rest. */
const BODY_EXCERPT_LENGTH = 500;
/** A review or comment body is the news itself, so more of it is shown. */
const COMMENT_EXCERPT_LENGTH = 1000;
const RELEASE_NOTES_EXCERPT_LENGTH = 1500;
const MAX_COMMITS_LISTED = 10;
const COMMIT_TITLE_LENGTH = 100;
const SHORT_SHA_LENGTH = 7;

export function summarizeGitHubEvent(event: GitHubEvent): EventSummary {
  const summary = summarizeKind(event);
  return {
    ...summary,
    line: oneLine(summary.line),
    actor: event.actor,
    timestamp: event.occurredAt,
    footer: `GitHub · ${event.repo}`,
  };
}

function summarizeKind(event: GitHubEvent): KindSummary {
  switch (event.kind) {
    case "github.push":
      return summarizePush(event);
    case "github.pull_request":
      return summarizePullRequest(event);
    case "github.pull_request_review":
      return summarizeReview(event);
    case "github.issue":
      return summarizeIssue(event);
    case "github.issue_comment":
      return summarizeIssueComment(event);
    case "github.release":
      return summarizeRelease(event);
    case "github.workflow_run":
      return summarizeWorkflowRun(event);
    case "github.deployment":
      return summarizeDeployment(event);
    case "github.deployment_status":
      return summarizeDeploymentStatus(event);
    case "github.ref":
      return summarizeRef(event);
  }
}

// --- push and refs -------------------------------------------------------------------------------------

function summarizePush(event: EventOfKind<"github.push">): KindSummary {
  const { repo, ref } = event;
  const by = event.actor.name;
  if (event.deleted) {
    // The compare URL of a deletion points at 000000000000, which GitHub answers with an error page.
    return {
      title: `[${repo}] ${capitalize(event.refType)} deleted: ${ref}`,
      line: `${repo} ${event.refType} ${ref} deleted by ${by}`,
      color: COLORS.neutral,
    };
  }
  const commits = pluralize(event.totalCommits, "commit");
  const description = commitList(event) || undefined;
  if (event.refType === "tag") {
    return {
      title: `[${repo}] Tag pushed: ${ref}`,
      line: `${repo} tag ${ref} pushed by ${by}`,
      url: event.compareUrl,
      description,
      color: COLORS.info,
    };
  }
  if (event.forced) {
    return {
      title: `[${repo}] Force-pushed ${commits} to ${ref}`,
      line: `${repo} force-push to ${ref} by ${by}: ${commits}`,
      url: event.compareUrl,
      description,
      color: COLORS.warning,
    };
  }
  if (event.created) {
    return {
      title: `[${repo}] Branch created: ${ref}`,
      line: `${repo} branch ${ref} created by ${by}${event.totalCommits > 0 ? `: ${commits}` : ""}`,
      url: event.compareUrl,
      description,
      color: COLORS.info,
    };
  }
  return {
    title: `[${repo}] Pushed ${commits} to ${ref}`,
    line: `${repo} push to ${ref} by ${by}: ${commits}`,
    url: event.compareUrl,
    description,
    color: COLORS.info,
  };
}

/** ``[`abc1234`](url) Fix the thing - octocat`` per commit, newest last as GitHub lists them. */
function commitList(event: EventOfKind<"github.push">): string {
  const shown = event.commits.slice(0, MAX_COMMITS_LISTED).map((commit) => {
    const title = truncate(commit.title, COMMIT_TITLE_LENGTH);
    return `[\`${shortSha(commit.sha)}\`](${commit.url}) ${title} - ${commit.author}`;
  });
  const more = event.totalCommits - shown.length;
  if (more > 0) shown.push(`…and ${more} more`);
  return shown.join("\n");
}

function summarizeRef(event: EventOfKind<"github.ref">): KindSummary {
  const { repo, ref, refType, action } = event;
  return {
    title: `[${repo}] ${capitalize(refType)} ${action}: ${ref}`,
    line: `${repo} ${refType} ${ref} ${action} by ${event.actor.name}`,
    color: action === "created" ? COLORS.info : COLORS.neutral,
  };
}

// --- pull requests and reviews -------------------------------------------------------------------------

interface Outcome {
  /** Title wording: `Pull request merged`. */
  headline: string;
  /** Line wording after `PR #12`: `merged`. */
  verb: string;
  color: number;
  /** Whether the PR or issue body belongs in the message: only when someone is asked to read it. */
  showBody: boolean;
}

function pullRequestOutcome(event: EventOfKind<"github.pull_request">): Outcome {
  const pr = event.pullRequest;
  switch (event.action) {
    case "opened":
      return pr.draft
        ? {
            headline: "Draft pull request opened",
            verb: "opened as draft",
            color: COLORS.warning,
            showBody: true,
          }
        : { headline: "Pull request opened", verb: "opened", color: COLORS.info, showBody: true };
    case "reopened":
      return { headline: "Pull request reopened", verb: "reopened", color: COLORS.info, showBody: true };
    case "closed":
      return pr.merged
        ? { headline: "Pull request merged", verb: "merged", color: COLORS.merged, showBody: false }
        : {
            headline: "Pull request closed without merging",
            verb: "closed without merging",
            color: COLORS.neutral,
            showBody: false,
          };
    case "ready_for_review":
      return {
        headline: "Pull request ready for review",
        verb: "marked ready for review",
        color: COLORS.info,
        showBody: true,
      };
    case "converted_to_draft":
      return {
        headline: "Pull request converted to draft",
        verb: "converted to draft",
        color: COLORS.warning,
        showBody: false,
      };
    case "review_requested": {
      const reviewer = event.requestedReviewer ? ` from ${event.requestedReviewer}` : "";
      return {
        headline: "Review requested",
        verb: `review requested${reviewer}`,
        color: COLORS.info,
        showBody: false,
      };
    }
    case "labeled":
    case "unlabeled": {
      const label = event.label ? ` ${event.label}` : "";
      const headline = event.action === "labeled" ? "Pull request labeled" : "Pull request unlabeled";
      return { headline, verb: `${event.action}${label}`, color: COLORS.info, showBody: false };
    }
  }
}

function summarizePullRequest(event: EventOfKind<"github.pull_request">): KindSummary {
  const pr = event.pullRequest;
  const outcome = pullRequestOutcome(event);
  const fields = [
    field("Branch", `\`${pr.baseBranch}\` ← \`${pr.headBranch}\``),
    ...(outcome.showBody ? changesField(event) : []),
    ...(event.action === "review_requested" && event.requestedReviewer
      ? [field("Reviewer", event.requestedReviewer)]
      : []),
    ...(event.action === "labeled" && event.label ? [field("Label added", event.label)] : []),
    ...(event.action === "unlabeled" && event.label ? [field("Label removed", event.label)] : []),
    ...labelsField(event.labels),
  ];
  return {
    title: `[${event.repo}] ${outcome.headline}: #${pr.number} ${pr.title}`,
    line: `${event.repo} PR #${pr.number} ${outcome.verb} by ${event.actor.name}: ${pr.title}`,
    url: pr.url,
    description: outcome.showBody ? excerpt(pr.body, BODY_EXCERPT_LENGTH) : undefined,
    color: outcome.color,
    fields,
  };
}

/** `+12 −3 in 2 files`, when the delivery has diff stats (the PR inside a review delivery does not). */
function changesField(event: EventOfKind<"github.pull_request">): EmbedField[] {
  const { additions, deletions, changedFiles } = event.pullRequest;
  if (additions === undefined || deletions === undefined || changedFiles === undefined) return [];
  return [field("Changes", `+${additions} −${deletions} in ${pluralize(changedFiles, "file")}`)];
}

const REVIEW_OUTCOMES: Record<EventOfKind<"github.pull_request_review">["review"]["state"], Outcome> = {
  approved: { headline: "Pull request approved", verb: "approved", color: COLORS.success, showBody: false },
  changes_requested: {
    headline: "Changes requested on pull request",
    verb: "changes requested",
    color: COLORS.warning,
    showBody: false,
  },
  commented: { headline: "Pull request reviewed", verb: "reviewed", color: COLORS.info, showBody: false },
};

function summarizeReview(event: EventOfKind<"github.pull_request_review">): KindSummary {
  const pr = event.pullRequest;
  const outcome = REVIEW_OUTCOMES[event.review.state];
  return {
    title: `[${event.repo}] ${outcome.headline}: #${pr.number} ${pr.title}`,
    line: `${event.repo} PR #${pr.number} ${outcome.verb} by ${event.actor.name}: ${pr.title}`,
    url: event.review.url,
    description: excerpt(event.review.body, COMMENT_EXCERPT_LENGTH),
    color: outcome.color,
  };
}

// --- issues and comments -------------------------------------------------------------------------------

function issueOutcome(event: EventOfKind<"github.issue">): Outcome {
  const noun = event.issue.isPullRequest ? "Pull request" : "Issue";
  switch (event.action) {
    case "opened":
      return { headline: `${noun} opened`, verb: "opened", color: COLORS.info, showBody: true };
    case "reopened":
      return { headline: `${noun} reopened`, verb: "reopened", color: COLORS.info, showBody: true };
    case "closed": {
      // state_reason: completed (done), not_planned (won't do), duplicate; absent on older deliveries.
      const reason = event.issue.stateReason;
      const how = reason && reason !== "completed" ? ` as ${reason.replace(/_/g, " ")}` : "";
      const color = reason === "completed" ? COLORS.success : COLORS.neutral;
      return { headline: `${noun} closed${how}`, verb: `closed${how}`, color, showBody: false };
    }
    case "labeled": {
      const label = event.label ? ` ${event.label}` : "";
      return { headline: `${noun} labeled`, verb: `labeled${label}`, color: COLORS.info, showBody: false };
    }
  }
}

function summarizeIssue(event: EventOfKind<"github.issue">): KindSummary {
  const { issue } = event;
  const outcome = issueOutcome(event);
  const fields = [
    ...(event.label ? [field("Label added", event.label)] : []),
    ...labelsField(event.labels),
    ...(event.item?.assignee ? [field("Assignees", event.item.assignee)] : []),
  ];
  return {
    title: `[${event.repo}] ${outcome.headline}: #${issue.number} ${issue.title}`,
    line: `${event.repo} ${itemNoun(issue.isPullRequest)} #${issue.number} ${outcome.verb} by ${event.actor.name}: ${issue.title}`,
    url: issue.url,
    description: outcome.showBody ? excerpt(issue.body, BODY_EXCERPT_LENGTH) : undefined,
    color: outcome.color,
    fields,
  };
}

function summarizeIssueComment(event: EventOfKind<"github.issue_comment">): KindSummary {
  const { issue } = event;
  const noun = issue.isPullRequest ? "pull request" : "issue";
  return {
    title: `[${event.repo}] New comment on ${noun}: #${issue.number} ${issue.title}`,
    line: `${event.repo} comment on ${itemNoun(issue.isPullRequest)} #${issue.number} by ${event.actor.name}: ${issue.title}`,
    url: event.comment.url,
    description: excerpt(event.comment.body, COMMENT_EXCERPT_LENGTH),
    color: COLORS.info,
  };
}

function itemNoun(isPullRequest: boolean): string {
  return isPullRequest ? "PR" : "issue";
}

// --- releases, workflow runs and deployments -----------------------------------------------------------

function summarizeRelease(event: EventOfKind<"github.release">): KindSummary {
  const { release } = event;
  // GitHub sends both `published` and `prereleased` for a pre-release; either way it is a pre-release.
  const prerelease = release.prerelease || event.action === "prereleased";
  const noun = prerelease ? "Pre-release" : "Release";
  const name = release.name && release.name !== release.tag ? release.name : "";
  return {
    title: `[${event.repo}] ${noun} published: ${release.tag}${name ? ` ${name}` : ""}`,
    line: `${event.repo} ${noun.toLowerCase()} ${release.tag} published by ${event.actor.name}${name ? `: ${name}` : ""}`,
    url: release.url,
    description: excerpt(release.body, RELEASE_NOTES_EXCERPT_LENGTH),
    color: prerelease ? COLORS.info : COLORS.success,
  };
}

/** Workflow conclusions (GitHub Actions docs, "workflow_run" and check suites), worded for a headline. */
const WORKFLOW_CONCLUSIONS: Record<string, { verb: string; color: number }> = {
  success: { verb: "succeeded", color: COLORS.success },
  failure: { verb: "failed", color: COLORS.failure },
  timed_out: { verb: "timed out", color: COLORS.failure },
  startup_failure: { verb: "failed to start", color: COLORS.failure },
  cancelled: { verb: "was cancelled", color: COLORS.neutral },
  skipped: { verb: "was skipped", color: COLORS.neutral },
  neutral: { verb: "finished", color: COLORS.neutral },
  stale: { verb: "went stale", color: COLORS.neutral },
  action_required: { verb: "needs action", color: COLORS.warning },
};

function summarizeWorkflowRun(event: EventOfKind<"github.workflow_run">): KindSummary {
  const { run } = event;
  const conclusion = WORKFLOW_CONCLUSIONS[run.conclusion] ?? {
    verb: `finished (${run.conclusion})`,
    color: COLORS.neutral,
  };
  const onBranch = run.headBranch ? ` on ${run.headBranch}` : "";
  return {
    title: `[${event.repo}] Workflow ${conclusion.verb}: ${run.name} #${run.runNumber}`,
    line: `${event.repo} workflow ${run.name} #${run.runNumber} ${conclusion.verb}${onBranch}`,
    url: run.url,
    description: `Conclusion: **${run.conclusion}**`,
    color: conclusion.color,
    fields: [
      ...(run.headBranch ? [field("Branch", run.headBranch)] : []),
      field("Commit", `\`${shortSha(run.headSha)}\``),
      field("Trigger", run.trigger),
    ],
  };
}

function summarizeDeployment(event: EventOfKind<"github.deployment">): KindSummary {
  const { deployment } = event;
  const target = deploymentTarget(deployment);
  return {
    title: `[${event.repo}] Deployment to ${deployment.environment} created: ${target}`,
    line: `${event.repo} deployment to ${deployment.environment} created by ${event.actor.name}: ${target}`,
    url: deployment.url,
    description: excerpt(deployment.description, COMMENT_EXCERPT_LENGTH),
    color: COLORS.info,
    fields: deploymentFields(deployment),
  };
}

/** Deployment status states (REST "Create a deployment status"), worded for a headline. */
const DEPLOYMENT_STATES: Record<string, { verb: string; color: number }> = {
  success: { verb: "succeeded", color: COLORS.success },
  failure: { verb: "failed", color: COLORS.failure },
  error: { verb: "errored", color: COLORS.failure },
  inactive: { verb: "is inactive", color: COLORS.neutral },
  pending: { verb: "is pending", color: COLORS.info },
  queued: { verb: "is queued", color: COLORS.info },
  in_progress: { verb: "is in progress", color: COLORS.info },
};

function summarizeDeploymentStatus(event: EventOfKind<"github.deployment_status">): KindSummary {
  const { deployment, status } = event;
  const state = DEPLOYMENT_STATES[status.state] ?? { verb: `is ${status.state}`, color: COLORS.info };
  const target = deploymentTarget(deployment);
  return {
    title: `[${event.repo}] Deployment to ${deployment.environment} ${state.verb}: ${target}`,
    line: `${event.repo} deployment to ${deployment.environment} ${state.verb}: ${target}`,
    // The log explains a failure; the target URL is the older single link; the deployments page is the fallback.
    url: status.logUrl ?? status.targetUrl ?? deployment.url,
    description: excerpt(status.description, COMMENT_EXCERPT_LENGTH),
    color: state.color,
    fields: deploymentFields(deployment),
  };
}

type Deployment = EventOfKind<"github.deployment">["deployment"];

/** `main (abc1234)`, or just the short sha when the deployment targets a commit. */
function deploymentTarget(deployment: Deployment): string {
  const sha = shortSha(deployment.sha);
  return deployment.ref === deployment.sha ? sha : `${deployment.ref} (${sha})`;
}

function deploymentFields(deployment: Deployment): EmbedField[] {
  return [
    field("Environment", deployment.environment),
    field("Ref", deployment.ref === deployment.sha ? shortSha(deployment.sha) : deployment.ref),
    field("Commit", `\`${shortSha(deployment.sha)}\``),
  ];
}

// --- text ----------------------------------------------------------------------------------------------

function field(name: string, value: string): EmbedField {
  return { name, value, inline: true };
}

function labelsField(labels: string[]): EmbedField[] {
  return labels.length > 0 ? [field("Labels", labels.join(", "))] : [];
}

/**
 * The start of a body, or undefined when there is nothing to show. PR and issue templates hide their
 * instructions in HTML comments, which GitHub does not render but Discord would show verbatim.
 */
function excerpt(body: string, max: number): string | undefined {
  const text = body
    .replace(/<!--[\s\S]*?(-->|$)/g, "")
    .replace(/\r\n?/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return text ? truncate(text, max) : undefined;
}

function shortSha(sha: string): string {
  return sha.slice(0, SHORT_SHA_LENGTH);
}

function pluralize(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
