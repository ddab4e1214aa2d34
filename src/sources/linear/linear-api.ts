/**
 * What Switchboard asks of the Linear GraphQL API. Commands and jobs depend on this interface; the
 * implementation (linear-client.ts) talks to LINEAR_API_URL, and tests point it at a local fake.
 * Failures are typed: AuthError (credentials), RateLimitedError, NotFoundError (see src/errors.ts).
 */
export interface LinearTeam {
  id: string;
  key: string;
  name: string;
}

export interface LinearUser {
  id: string;
  /** Full name. */
  name: string;
  displayName: string;
  email: string;
}

/** Workflow state types, as Linear names them. */
export type LinearStateType =
  "triage" | "backlog" | "unstarted" | "started" | "completed" | "canceled" | (string & {});

export interface LinearIssue {
  /** UUID. */
  id: string;
  /** `ENG-123`. */
  identifier: string;
  title: string;
  url: string;
  /** Markdown; null when empty. */
  description: string | null;
  /** 0 = none, 1 = urgent, 2 = high, 3 = medium, 4 = low. */
  priority: number;
  /** `No priority`, `Urgent`, `High`, `Medium`, `Low`. */
  priorityLabel: string;
  state: { name: string; type: LinearStateType; color: string };
  team: { key: string; name: string };
  assignee: { name: string; displayName: string } | null;
  labels: string[];
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
}

export interface NewLinearIssue {
  teamId: string;
  title: string;
  /** Markdown. */
  description?: string;
  /** 0-4, as in LinearIssue.priority. */
  priority?: number;
  /**
   * A UUID v4 chosen by the caller. Linear refuses a second issue with the same id, so a caller that may
   * retry after an unanswered create (a timeout, a crash) passes a stable id and looks it up first.
   */
  id?: string;
}

export interface LinearComment {
  id: string;
  url: string;
  body: string;
}

/** An issue as reconciliation sees it: enough to rebuild a webhook-like event. */
export interface LinearIssueUpdate extends LinearIssue {
  /** ISO 8601; the cursor for the next reconcile. */
  updatedAt: string;
}

export interface LinearApi {
  /** undefined when no team has this key (compared without regard to case). */
  findTeam(key: string): Promise<LinearTeam | undefined>;
  listTeams(): Promise<LinearTeam[]>;
  createIssue(input: NewLinearIssue): Promise<LinearIssue>;
  /** By identifier (`ENG-123`) or UUID; undefined when there is no such issue. */
  getIssue(idOrIdentifier: string): Promise<LinearIssue | undefined>;
  /** Issues assigned to the user that are not completed or canceled, most recently updated first. */
  listOpenIssuesAssignedTo(userId: string, limit?: number): Promise<LinearIssue[]>;
  /** `issueId` may be a UUID or an identifier (`ENG-123`). */
  createComment(issueId: string, body: string): Promise<LinearComment>;
  /** undefined when no active user has this email (compared without regard to case). */
  findUserByEmail(email: string): Promise<LinearUser | undefined>;
  /** The user the API key belongs to: a cheap call that proves the key works (`switchboard doctor`). */
  getViewer(): Promise<LinearUser>;
  // --- deploy follow-ups and scheduled jobs ---
  /**
   * Moves the issue to the team's workflow state with this name (compared without regard to case). false
   * when the team has no such state; true when moved or already there.
   */
  moveIssueToState(issueId: string, stateName: string): Promise<boolean>;
  /** URLs attached to the issue (GitHub PR links among them). */
  listAttachmentUrls(issueId: string): Promise<string[]>;
  /** Attaches a URL (a pull request) to the issue; Linear ignores a URL already attached. */
  attachUrl(issueId: string, url: string, title: string): Promise<void>;
  /** Issues updated after `since` (ISO 8601), oldest first, at most `limit` (default 50). */
  listIssuesUpdatedSince(since: string, limit?: number): Promise<LinearIssueUpdate[]>;
  /**
   * Issues completed after `since` (ISO 8601) and still completed, most recently updated first, at most
   * `limit` (default 50). By `completedAt`, not `updatedAt`: a comment on old finished work is not news.
   */
  listIssuesCompletedSince(since: string, limit?: number): Promise<LinearIssue[]>;
  /** Issues whose workflow state has one of these types (`started`...), most recently updated first. */
  listIssuesInStateTypes(types: LinearStateType[], limit?: number): Promise<LinearIssue[]>;
}
