/**
 * The linear-github-sync job against the fake GitHub and the fake Linear: pull requests naming an issue in
 * their title, description or branch get attached to it, and a merged one moves its issue to Done, once.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pullRequestLinearKeys } from "../../src/deploy/conventional-commits.js";
import type { GitHubPullRequestSummary } from "../../src/sources/github/github-api.js";
import { startFakeGitHub } from "../fakes/github-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";
import { startFakeLinear } from "../fakes/linear-server.js";
import type { FakeIssue, FakeLinear } from "../fakes/linear-server.js";
import { startTestSwitchboard } from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

let github: FakeGitHub;
let linear: FakeLinear;
let switchboard: TestSwitchboard;
let named: FakeIssue;
let merged: FakeIssue;
let finished: FakeIssue;

describe("linear-github-sync", () => {
  beforeEach(async () => {
    github = await startFakeGitHub();
    linear = await startFakeLinear();
    named = linear.addIssue({ teamKey: "ENG", title: "Login fails" }); // ENG-1
    merged = linear.addIssue({ teamKey: "ENG", title: "Slow search", stateType: "started" }); // ENG-2
    finished = linear.addIssue({ teamKey: "ENG", title: "Old bug", stateType: "canceled" }); // ENG-3
    const recent = new Date().toISOString();
    github.addPullRequest("acme/api", { number: 1, title: "ENG-1: fix login", updatedAt: recent });
    github.addPullRequest("acme/api", {
      number: 2,
      title: "Speed up search",
      head: { ref: "ada/eng-2-speed-up-search", sha: "a".repeat(40) },
      state: "closed",
      merged: true,
      updatedAt: recent,
    });
    github.addPullRequest("acme/api", {
      number: 3,
      title: "Cleanup",
      body: "Also closes ENG-3 and mentions ENG-99.",
      state: "closed",
      merged: true,
      updatedAt: recent,
    });
    switchboard = await startTestSwitchboard({
      env: {
        GITHUB_TOKEN: github.token,
        GITHUB_API_URL: github.url,
        LINEAR_API_KEY: linear.apiKey,
        LINEAR_API_URL: linear.url,
      },
      config: `jobs:\n  - name: linear-github-sync\n    options:\n      repos: ["acme/api"]\n`,
    });
  });

  afterEach(async () => {
    await switchboard.close();
    await linear.close();
    await github.close();
  });

  it("reports in a dry run what it would attach and move, and changes nothing in Linear", async () => {
    const report = await switchboard.scheduler!.run("linear-github-sync", { dryRun: true });

    expect(report.outcome).toBe("ok");
    expect(report.items).toBe(4);
    expect(report.summary).toBe(
      "Would attach 3 pull request links, would move 1 issue: acme/api#1 → ENG-1; acme/api#3 → ENG-3; " +
        "acme/api#2 → ENG-2; ENG-2 In Progress → Done; 1 key(s) name no issue: ENG-99.",
    );
    expect([named, merged, finished].map((issue) => issue.attachments)).toEqual([[], [], []]);
    expect(merged.state.name).toBe("In Progress");
    expect(
      linear.requests.filter(
        (request) => !["ListTeams", "GetIssue", "IssueAttachments"].includes(request.operation),
      ),
    ).toEqual([]);
  });

  it("attaches each pull request to the issues it names and moves merged work to Done, once", async () => {
    const report = await switchboard.scheduler!.run("linear-github-sync");
    expect(report).toMatchObject({ outcome: "ok", items: 4 });

    expect(named.attachments).toEqual([
      { url: "https://github.com/acme/api/pull/1", title: "acme/api#1 ENG-1: fix login" },
    ]);
    expect(merged.attachments.map((attachment) => attachment.url)).toEqual([
      "https://github.com/acme/api/pull/2",
    ]);
    expect(merged.state.name).toBe("Done");
    expect(named.state.name).toBe("Todo");
    // A canceled issue is linked but never moved back into Done.
    expect(finished.attachments).toHaveLength(1);
    expect(finished.state.name).toBe("Canceled");

    const again = await switchboard.scheduler!.run("linear-github-sync");
    expect(again).toMatchObject({ outcome: "ok", items: 0 });
    expect(again.summary).toContain("Nothing to sync in 1 pull request");
    expect(named.attachments).toHaveLength(1);
  });
});

describe("Linear keys of a pull request", () => {
  const pull = (fields: Partial<GitHubPullRequestSummary>): GitHubPullRequestSummary => ({
    repo: "acme/api",
    number: 1,
    title: "",
    url: "https://github.com/acme/api/pull/1",
    author: "ada",
    authorType: "User",
    state: "open",
    draft: false,
    labels: [],
    requestedReviewers: [],
    headBranch: "main",
    body: "",
    createdAt: "2025-01-01T00:00:00Z",
    updatedAt: "2025-01-01T00:00:00Z",
    ...fields,
  });

  it("reads keys from the title and body as written, and from the branch only for known teams", () => {
    expect(pullRequestLinearKeys(pull({ title: "ENG-12 fix", body: "See DES-4" }), ["ENG", "DES"])).toEqual([
      "ENG-12",
      "DES-4",
    ]);
    expect(pullRequestLinearKeys(pull({ headBranch: "ada/eng-7-utf-8-names" }), ["ENG"])).toEqual(["ENG-7"]);
    expect(pullRequestLinearKeys(pull({ headBranch: "fix/step-2" }), ["ENG"])).toEqual([]);
    expect(pullRequestLinearKeys(pull({ title: "eng-5 lower case" }), ["ENG"])).toEqual([]);
  });
});
