import { describe, expect, it } from "vitest";
import type { GitHubEvent, NormalizeResult } from "../../src/events/domain-event.js";
import { normalizeGitHub } from "../../src/sources/github/normalize.js";
import type {
  GitHubDeploymentPayload,
  GitHubIssueCommentPayload,
  GitHubPullRequestPayload,
  GitHubPullRequestReviewPayload,
  GitHubPushPayload,
  GitHubRefPayload,
  GitHubWorkflowRunPayload,
} from "../../src/sources/github/payloads.js";
import { githubFixtureNames, loadGitHubFixture } from "../fixtures/github/index.js";

const RECEIVED_AT = new Date("2024-05-01T12:00:00.000Z");
const REPO = "Codertocat/Hello-World";
const PR_KEY = `github:pr:${REPO}#2`;
const ISSUE_KEY = `github:issue:${REPO}#1`;
const PR_TITLE = "Update the README with new information.";
const ISSUE_TITLE = "Spelling error in the README file";

function normalize(event: string, payload: unknown): NormalizeResult {
  return normalizeGitHub({ event, deliveryId: "delivery-1", payload, receivedAt: RECEIVED_AT });
}

function normalizeFixture(name: string): NormalizeResult {
  const fixture = loadGitHubFixture(name);
  return normalize(fixture.event, fixture.payload);
}

function eventOf(result: NormalizeResult): GitHubEvent {
  if (result.outcome !== "event") throw new Error(`expected an event, got ignored: ${result.reason}`);
  if (result.event.source !== "github") throw new Error("expected a GitHub event");
  return result.event;
}

/** A fixture's payload typed as its schema's output, so a test can change one field with a spread. */
function payloadOf<T>(name: string): T {
  return loadGitHubFixture(name).payload as T;
}

const pullRequestItem = (status: string, labels: string[] = ["bug"]) => ({
  key: PR_KEY,
  kind: "pull_request",
  reference: "#2",
  title: PR_TITLE,
  url: `https://github.com/${REPO}/pull/2`,
  author: "Codertocat",
  status,
  labels,
  container: REPO,
});

const issueItem = (status: string) => ({
  key: ISSUE_KEY,
  kind: "issue",
  reference: "#1",
  title: ISSUE_TITLE,
  url: `https://github.com/${REPO}/issues/1`,
  author: "Codertocat",
  status,
  assignee: "Codertocat",
  labels: ["bug"],
  container: REPO,
});

/** What each fixture must normalize to. Every fixture needs an entry, so a new one cannot go unchecked. */
const EXPECTED: Record<string, { ignored: string } | Record<string, unknown>> = {
  ping: { ignored: "ping is answered, never posted" },
  "pull_request.synchronize": { ignored: "pull_request.synchronize is not reported" },
  "pull_request_review.dismissed": { ignored: "pull_request_review.dismissed is not reported" },
  "workflow_run.requested": { ignored: "workflow_run.requested is not reported" },
  "star.created": { ignored: "star.created is not reported" },

  "push.branch": {
    kind: "github.push",
    name: "push",
    refType: "branch",
    ref: "master",
    branch: "master",
    created: true,
    forced: false,
    deleted: false,
    totalCommits: 1,
    commits: [
      {
        sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        title: "Initial commit",
        url: `https://github.com/${REPO}/commit/6113728f27ae82c7b1a177c8d03f9e96e0adf246`,
        author: "Codertocat",
      },
    ],
    compareUrl: `https://github.com/${REPO}/commit/6113728f27ae82c7b1a177c8d03f9e96e0adf246`,
    occurredAt: "2019-05-15T15:19:25.000Z",
    labels: [],
  },
  "push.forced": { kind: "github.push", name: "push", forced: true, created: false, branch: "master" },
  "push.tag": {
    kind: "github.push",
    name: "push",
    refType: "tag",
    ref: "simple-tag",
    created: true,
    commits: [],
  },
  "push.tag.deleted": {
    kind: "github.push",
    refType: "tag",
    ref: "simple-tag",
    deleted: true,
    totalCommits: 0,
    // A deleting push has no head commit, so nothing in the payload says when it happened.
    occurredAt: RECEIVED_AT.toISOString(),
  },
  "create.branch": {
    kind: "github.ref",
    name: "create",
    action: "created",
    refType: "branch",
    ref: "changes",
  },
  "create.tag": { kind: "github.ref", name: "create", action: "created", refType: "tag", ref: "simple-tag" },
  "delete.branch": {
    kind: "github.ref",
    name: "delete",
    action: "deleted",
    refType: "branch",
    ref: "changes",
  },
  "delete.tag": { kind: "github.ref", name: "delete", action: "deleted", refType: "tag", ref: "simple-tag" },

  "pull_request.opened": {
    kind: "github.pull_request",
    name: "pull_request.opened",
    action: "opened",
    branch: "master",
    labels: [],
    draft: false,
    occurredAt: "2019-05-15T15:20:33.000Z",
    pullRequest: {
      number: 2,
      title: PR_TITLE,
      body: "This is a pretty simple change that we need to pull into master.",
      author: "Codertocat",
      state: "open",
      draft: false,
      merged: false,
      headBranch: "changes",
      baseBranch: "master",
      additions: 1,
      deletions: 1,
      changedFiles: 1,
    },
    item: pullRequestItem("open", []),
  },
  "pull_request.reopened": { name: "pull_request.reopened", item: pullRequestItem("open") },
  "pull_request.closed.merged": {
    name: "pull_request.closed",
    action: "closed",
    pullRequest: { state: "closed", merged: true },
    item: pullRequestItem("merged"),
  },
  "pull_request.closed.unmerged": {
    name: "pull_request.closed",
    action: "closed",
    pullRequest: { state: "closed", merged: false },
    item: pullRequestItem("closed"),
  },
  "pull_request.ready_for_review": {
    name: "pull_request.ready_for_review",
    draft: false,
    item: pullRequestItem("open"),
  },
  "pull_request.converted_to_draft": {
    name: "pull_request.converted_to_draft",
    draft: true,
    item: pullRequestItem("draft"),
  },
  "pull_request.review_requested": {
    name: "pull_request.review_requested",
    requestedReviewer: "octocat",
    item: pullRequestItem("open"),
  },
  "pull_request.labeled": {
    name: "pull_request.labeled",
    label: "bug",
    labels: ["bug"],
    item: pullRequestItem("open"),
  },
  "pull_request.unlabeled": {
    name: "pull_request.unlabeled",
    label: "bug",
    labels: [],
    item: pullRequestItem("open", []),
  },

  "pull_request_review.submitted.commented": {
    kind: "github.pull_request_review",
    name: "pull_request_review.submitted",
    review: {
      state: "commented",
      body: "",
      url: `https://github.com/${REPO}/pull/2#pullrequestreview-237895671`,
    },
    branch: "master",
    occurredAt: "2019-05-15T15:20:38.000Z",
    item: pullRequestItem("open", []),
  },
  "pull_request_review.submitted.approved": {
    review: { state: "approved" },
    item: pullRequestItem("approved", []),
  },
  "pull_request_review.submitted.changes_requested": {
    review: {
      state: "changes_requested",
      body: "Please fix the spelling of 'commit' in the README before merging.",
    },
    item: pullRequestItem("changes_requested", []),
  },

  "issues.opened": {
    kind: "github.issue",
    name: "issues.opened",
    action: "opened",
    labels: ["bug"],
    issue: { number: 1, title: ISSUE_TITLE, state: "open", isPullRequest: false, author: "Codertocat" },
    item: issueItem("open"),
  },
  "issues.closed": {
    name: "issues.closed",
    issue: { state: "closed", stateReason: "completed" },
    item: issueItem("closed"),
  },
  "issues.reopened": { name: "issues.reopened", item: issueItem("open") },
  "issues.labeled": { name: "issues.labeled", label: "bug", labels: ["bug"], item: issueItem("open") },
  "issue_comment.created": {
    kind: "github.issue_comment",
    name: "issue_comment.created",
    issue: { number: 1, isPullRequest: false },
    comment: {
      body: "You are totally right! I'll get this fixed right away.",
      url: `https://github.com/${REPO}/issues/1#issuecomment-492700400`,
    },
    occurredAt: "2019-05-15T15:20:21.000Z",
    item: issueItem("open"),
  },
  "issue_comment.created.pull_request": {
    name: "issue_comment.created",
    issue: { number: 1, isPullRequest: true },
    draft: false,
    item: {
      key: `github:pr:${REPO}#1`,
      kind: "pull_request",
      reference: "#1",
      url: `https://github.com/${REPO}/pull/1`,
      status: "open",
    },
  },

  "release.published": {
    kind: "github.release",
    name: "release.published",
    release: {
      tag: "0.0.1",
      name: "",
      body: "",
      prerelease: false,
      url: `https://github.com/${REPO}/releases/tag/0.0.1`,
    },
    occurredAt: "2019-05-15T15:20:53.000Z",
  },
  "release.prereleased": { name: "release.prereleased", release: { tag: "0.0.1", prerelease: true } },
  "workflow_run.completed.success": {
    kind: "github.workflow_run",
    name: "workflow_run.completed",
    repo: "octo-org/octo-repo",
    branch: "master",
    run: {
      id: 289782451,
      // The run's own name is empty in this delivery; the workflow's name stands in.
      name: "test",
      conclusion: "success",
      url: "https://github.com/octo-org/octo-repo/actions/runs/289782451",
      headBranch: "master",
      headSha: "3484a3fb816e0859fd6e1cea078d76385ff50625",
      runNumber: 163,
      trigger: "repository_dispatch",
    },
  },
  "workflow_run.completed.failure": { run: { conclusion: "failure" } },
  "deployment.created": {
    kind: "github.deployment",
    name: "deployment.created",
    branch: "master",
    deployment: {
      id: 145988746,
      environment: "production",
      ref: "master",
      sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
      description: "",
      creator: "Codertocat",
      url: `https://github.com/${REPO}/deployments`,
    },
  },
  "deployment_status.created.success": {
    kind: "github.deployment_status",
    name: "deployment_status.created",
    branch: "master",
    status: { state: "success", description: "" },
  },
  "deployment_status.created.in_progress": {
    deployment: { environment: "github-pages" },
    status: {
      state: "in_progress",
      targetUrl: `https://github.com/${REPO}/runs/145988746?check_suite_focus=true`,
      logUrl: "https://github.com/CorsixTH/CorsixTH/runs/4687056418?check_suite_focus=true",
    },
  },
  "deployment_status.created.failure": {
    status: { state: "failure", description: "Health check failed after the deploy" },
  },
};

describe("normalizeGitHub", () => {
  it("has an expectation for every GitHub fixture", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(githubFixtureNames());
  });

  describe.each(githubFixtureNames())("the %s fixture", (name) => {
    const expected = EXPECTED[name]!;

    if ("ignored" in expected) {
      it("is ignored with a reason", () => {
        expect(normalizeFixture(name)).toEqual({ outcome: "ignored", reason: expected.ignored });
      });
      return;
    }

    it("normalizes to the expected event, facets and item", () => {
      expect(eventOf(normalizeFixture(name))).toMatchObject(expected);
    });

    it("carries the repo, the sender, the delivery id and a UTC timestamp", () => {
      const event = eventOf(normalizeFixture(name));
      expect(event.source).toBe("github");
      expect(event.deliveryId).toBe("delivery-1");
      expect(event.repo).toMatch(/^[\w.-]+\/[\w.-]+$/);
      expect(event.actor).toMatchObject({ name: "Codertocat", isBot: false });
      expect(event.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Array.isArray(event.labels)).toBe(true);
    });
  });

  it("gives tags no branch facet, and events about no PR or issue no item", () => {
    for (const name of ["push.tag", "create.tag", "delete.tag"]) {
      expect(eventOf(normalizeFixture(name)).branch, name).toBeUndefined();
    }
    for (const name of [
      "push.branch",
      "release.published",
      "workflow_run.completed.success",
      "deployment.created",
    ]) {
      expect(eventOf(normalizeFixture(name)).item, name).toBeUndefined();
    }
  });

  it("recognises a bot sender by its type or by a [bot] login", () => {
    const payload = payloadOf<GitHubPullRequestPayload>("pull_request.opened");
    const byType = normalize("pull_request", { ...payload, sender: { ...payload.sender, type: "Bot" } });
    const byLogin = normalize("pull_request", {
      ...payload,
      sender: { ...payload.sender, login: "dependabot[bot]", type: "User" },
    });
    expect(eventOf(byType).actor.isBot).toBe(true);
    expect(eventOf(byLogin).actor).toMatchObject({ name: "dependabot[bot]", isBot: true });
  });

  it("names the team when a review is requested from a team", () => {
    const { requested_reviewer: _reviewer, ...payload } = payloadOf<GitHubPullRequestPayload>(
      "pull_request.review_requested",
    );
    const event = eventOf(normalize("pull_request", { ...payload, requested_team: { slug: "platform" } }));
    expect(event).toMatchObject({ kind: "github.pull_request", requestedReviewer: "platform" });
  });

  it("accepts review states in any case", () => {
    const payload = payloadOf<GitHubPullRequestReviewPayload>("pull_request_review.submitted.approved");
    const event = eventOf(
      normalize("pull_request_review", { ...payload, review: { ...payload.review, state: "APPROVED" } }),
    );
    expect(event).toMatchObject({ review: { state: "approved" }, item: { status: "approved" } });
  });

  it("ignores a submitted review whose state it does not know", () => {
    const payload = payloadOf<GitHubPullRequestReviewPayload>("pull_request_review.submitted.commented");
    const result = normalize("pull_request_review", {
      ...payload,
      review: { ...payload.review, state: "pending" },
    });
    expect(result).toEqual({
      outcome: "ignored",
      reason: "pull_request_review.submitted with state pending is not reported",
    });
  });

  it("keeps only the first line of each commit message as the commit title", () => {
    const payload = payloadOf<GitHubPushPayload>("push.branch");
    const [commit] = payload.commits;
    const message = "Fix the flux capacitor\r\n\r\nIt overheated at 88 mph.";
    const event = eventOf(normalize("push", { ...payload, commits: [{ ...commit, message }] }));
    expect(event).toMatchObject({ commits: [{ title: "Fix the flux capacitor" }] });
  });

  it("ignores pushes to refs that are neither branches nor tags", () => {
    const payload = payloadOf<GitHubPushPayload>("push.branch");
    expect(normalize("push", { ...payload, ref: "refs/notes/commits" })).toEqual({
      outcome: "ignored",
      reason: "push to refs/notes/commits (neither a branch nor a tag) is not reported",
    });
  });

  it("ignores create events for anything but a branch or a tag", () => {
    const payload = payloadOf<GitHubRefPayload>("create.tag");
    expect(normalize("create", { ...payload, ref_type: "repository" })).toEqual({
      outcome: "ignored",
      reason: "create of a repository is not reported",
    });
  });

  it("ignores a completed workflow run that has no conclusion", () => {
    const payload = payloadOf<GitHubWorkflowRunPayload>("workflow_run.completed.success");
    const result = normalize("workflow_run", {
      ...payload,
      workflow_run: { ...payload.workflow_run, conclusion: null },
    });
    expect(result).toEqual({
      outcome: "ignored",
      reason: "workflow_run.completed without a conclusion is not reported",
    });
  });

  it("gives a deployment of a bare commit no branch facet", () => {
    const payload = payloadOf<GitHubDeploymentPayload>("deployment.created");
    const deployment = { ...payload.deployment, ref: payload.deployment.sha };
    expect(eventOf(normalize("deployment", { ...payload, deployment })).branch).toBeUndefined();
  });

  it("reports the status of a comment's pull request as merged once it is merged", () => {
    const payload = payloadOf<GitHubIssueCommentPayload>("issue_comment.created.pull_request");
    const issue = { ...payload.issue, state: "closed", pull_request: { merged_at: "2019-05-16T10:00:00Z" } };
    expect(eventOf(normalize("issue_comment", { ...payload, issue })).item?.status).toBe("merged");
  });

  it("ignores a malformed payload for a known event and says which field is wrong", () => {
    const payload = payloadOf<GitHubPullRequestPayload>("pull_request.opened");
    const broken = { ...payload, pull_request: { ...payload.pull_request, number: "2" } };
    expect(normalize("pull_request", broken)).toEqual({
      outcome: "ignored",
      reason: "pull_request payload did not match: pull_request.number: expected number, got string",
    });
  });

  it("reports an unhandled action as not reported even when the rest of the payload is odd", () => {
    expect(normalize("issues", { action: "pinned" })).toEqual({
      outcome: "ignored",
      reason: "issues.pinned is not reported",
    });
  });

  it("names events without an action in the reason when it does not handle them", () => {
    expect(normalize("fork", { forkee: {} })).toEqual({ outcome: "ignored", reason: "fork is not reported" });
  });

  it("never throws, whatever the payload", () => {
    const events = [
      "push",
      "pull_request",
      "pull_request_review",
      "issues",
      "issue_comment",
      "release",
      "workflow_run",
      "deployment",
      "deployment_status",
      "create",
      "delete",
      "ping",
      "unknown",
    ];
    const payloads: unknown[] = [null, undefined, [], "text", 42, {}, { action: 7 }, { action: "opened" }];
    for (const event of events) {
      for (const payload of payloads) {
        const result = normalize(event, payload);
        expect(result.outcome, `${event} ${JSON.stringify(payload)}`).toBe("ignored");
        if (result.outcome === "ignored") expect(result.reason).not.toBe("");
      }
    }
  });
});
