/**
 * Domain events: what happened, independent of how GitHub or Linear phrased it.
 *
 * Sources turn a verified webhook payload into one DomainEvent (or none, for events we record and ignore).
 * The router matches routes against the facets on EventBase; renderers turn the kind-specific data into a
 * Discord message; the item tracker keeps one card per PR, GitHub issue or Linear issue up to date.
 */

export type Source = "github" | "linear";

export interface Actor {
  /** GitHub login or Linear display name. */
  name: string;
  url?: string;
  avatarUrl?: string;
  /** GitHub `sender.type === "Bot"`, a `[bot]` login, or a Linear integration/app actor. */
  isBot: boolean;
}

export interface Commit {
  sha: string;
  /** First line of the message. */
  title: string;
  url: string;
  author: string;
}

/**
 * The thing a per-item thread is about, with its current state as far as this event tells.
 * `key` is stable across events: `github:pr:acme/api#12`, `github:issue:acme/api#3`, `linear:issue:<uuid>`.
 */
export interface ItemSnapshot {
  key: string;
  kind: "pull_request" | "issue" | "linear_issue";
  /** `#12` for GitHub, `ENG-123` for Linear. */
  reference: string;
  title: string;
  url: string;
  author?: string;
  /**
   * GitHub: open | draft | approved | changes_requested | merged | closed.
   * Linear: the workflow state's name (e.g. "In Progress").
   */
  status: string;
  /** Linear assignee display name, or GitHub assignees joined. */
  assignee?: string;
  labels: string[];
  /** owner/name for GitHub, team key for Linear. */
  container: string;
}

/** One field a Linear update changed, read from `updatedFrom`. */
export interface FieldChange {
  field: "state" | "assignee" | "priority" | "title" | "labels" | "estimate" | "description" | "project";
  from?: string;
  to?: string;
}

interface EventBase {
  source: Source;
  /**
   * `<event>.<action>` as route `events` globs see it: `pull_request.opened`, `push`, `Issue.update`.
   * Events without an action (push, create, delete) have just the event name.
   */
  name: string;
  deliveryId: string;
  /** ISO 8601. */
  occurredAt: string;
  actor: Actor;
  /** GitHub owner/name. */
  repo?: string;
  /** Linear team key. */
  team?: string;
  /** Linear project name, for subscriptions that filter on it. */
  project?: string;
  /** Branch the event is about (push target, PR base, workflow head branch). */
  branch?: string;
  /** Current labels of the item, including one just added. */
  labels: string[];
  draft?: boolean;
  /** Set when the event is about a PR, GitHub issue or Linear issue: enables per-item threads. */
  item?: ItemSnapshot;
}

export interface PullRequestInfo {
  number: number;
  title: string;
  url: string;
  body: string;
  author: string;
  state: "open" | "closed";
  draft: boolean;
  merged: boolean;
  headBranch: string;
  baseBranch: string;
  additions?: number;
  deletions?: number;
  changedFiles?: number;
}

export interface GitHubIssueInfo {
  number: number;
  title: string;
  url: string;
  body: string;
  author: string;
  state: "open" | "closed";
  /** completed | not_planned | reopened | null */
  stateReason?: string;
  isPullRequest: boolean;
}

export type GitHubEvent = EventBase & { source: "github"; repo: string } & (
    | {
        kind: "github.push";
        refType: "branch" | "tag";
        /** Branch or tag name without refs/heads/ or refs/tags/. */
        ref: string;
        forced: boolean;
        created: boolean;
        deleted: boolean;
        commits: Commit[];
        totalCommits: number;
        compareUrl: string;
      }
    | {
        kind: "github.pull_request";
        action:
          | "opened"
          | "reopened"
          | "closed"
          | "ready_for_review"
          | "converted_to_draft"
          | "review_requested"
          | "labeled"
          | "unlabeled";
        pullRequest: PullRequestInfo;
        /** For labeled / unlabeled. */
        label?: string;
        /** For review_requested: a user login or `team-slug`. */
        requestedReviewer?: string;
        /** Set when `requestedReviewer` is a team slug, not a login: teams are never mentioned as a person. */
        requestedReviewerIsTeam?: true;
      }
    | {
        kind: "github.pull_request_review";
        action: "submitted";
        review: { state: "approved" | "changes_requested" | "commented"; body: string; url: string };
        pullRequest: PullRequestInfo;
      }
    | {
        kind: "github.issue";
        action: "opened" | "closed" | "reopened" | "labeled";
        issue: GitHubIssueInfo;
        label?: string;
      }
    | {
        kind: "github.issue_comment";
        action: "created";
        issue: GitHubIssueInfo;
        comment: { body: string; url: string };
      }
    | {
        kind: "github.release";
        action: "published" | "prereleased";
        release: { tag: string; name: string; url: string; body: string; prerelease: boolean };
      }
    | {
        kind: "github.workflow_run";
        action: "completed";
        run: {
          id: number;
          name: string;
          /** success | failure | cancelled | skipped | timed_out | action_required | neutral | stale */
          conclusion: string;
          url: string;
          headBranch: string;
          headSha: string;
          runNumber: number;
          trigger: string;
        };
      }
    | {
        kind: "github.deployment";
        action: "created";
        deployment: GitHubDeploymentInfo;
      }
    | {
        kind: "github.deployment_status";
        action: "created";
        deployment: GitHubDeploymentInfo;
        status: {
          /** pending | queued | in_progress | success | failure | error | inactive */
          state: string;
          description: string;
          targetUrl?: string;
          logUrl?: string;
        };
      }
    | {
        kind: "github.ref";
        action: "created" | "deleted";
        refType: "branch" | "tag";
        ref: string;
      }
  );

export interface GitHubDeploymentInfo {
  id: number;
  environment: string;
  ref: string;
  sha: string;
  description: string;
  creator: string;
  url: string;
  /** The Switchboard deployment id a deployment requested from chat carries in its payload. */
  switchboardId?: number;
}

export interface LinearIssueInfo {
  id: string;
  identifier: string;
  title: string;
  url: string;
  description: string;
  state: string;
  /** Linear state type: backlog | unstarted | started | completed | canceled | triage */
  stateType?: string;
  assignee?: string;
  /** The assignee's Linear user id and email, for mentioning their linked Discord member. */
  assigneeId?: string;
  assigneeEmail?: string;
  priority: number;
  /** No priority | Urgent | High | Medium | Low */
  priorityLabel: string;
  estimate?: number;
  labels: string[];
  teamKey: string;
}

export type LinearEvent = EventBase & { source: "linear" } & (
    | {
        kind: "linear.issue";
        action: "create" | "update" | "remove";
        issue: LinearIssueInfo;
        /** For updates: what changed, from `updatedFrom`. Empty when nothing we report changed. */
        changes: FieldChange[];
      }
    | {
        kind: "linear.comment";
        action: "create";
        comment: { id: string; body: string; url: string };
        issue: { id: string; identifier: string; title: string; url: string };
      }
    | {
        kind: "linear.project";
        action: "create" | "update";
        /** Not `project`: that is EventBase's string facet; an object there would become `string & {...}`. */
        projectInfo: { id: string; name: string; url: string; state: string };
        changes: FieldChange[];
      }
    | {
        kind: "linear.project_update";
        action: "create";
        projectUpdate: { id: string; body: string; url: string; health?: string };
        projectInfo: { name: string; url?: string };
      }
    | {
        kind: "linear.cycle";
        action: "create" | "update";
        cycle: {
          id: string;
          number: number;
          name?: string;
          startsAt: string;
          endsAt: string;
          url?: string;
          /** Set once the cycle has been completed (Linear closes cycles automatically at `endsAt`). */
          completedAt?: string;
        };
      }
  );

export type DomainEvent = GitHubEvent | LinearEvent;

/** What a normalizer says about a delivery. `ignored` deliveries are recorded, never posted. */
export type NormalizeResult =
  { outcome: "event"; event: DomainEvent } | { outcome: "ignored"; reason: string };
