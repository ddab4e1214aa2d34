/**
 * The ship-notice worker against a real SQLite store, the fake GitHub (compare) and the fake Linear through
 * the real API clients: retries after Linear fails, and a retry that carries on where the last attempt
 * stopped instead of commenting twice.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createShipNoticeWorker } from "../../src/deploy/ship-notices.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import type { Metrics } from "../../src/observability/metrics.js";
import { createGitHubApi } from "../../src/sources/github/github-client.js";
import { createLinearApi } from "../../src/sources/linear/linear-client.js";
import { openStore } from "../../src/store/database.js";
import type { Store } from "../../src/store/database.js";
import { insertDeployment } from "../../src/store/deployment-repository.js";
import { insertRelease } from "../../src/store/release-repository.js";
import {
  findShipNotice,
  insertShipNotice,
  recordShipNoticeKeys,
} from "../../src/store/ship-notice-repository.js";
import { FAKE_GITHUB_TOKEN, startFakeGitHub } from "../fakes/github-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";
import { FAKE_LINEAR_API_KEY, startFakeLinear } from "../fakes/linear-server.js";
import type { FakeIssue, FakeLinear } from "../fakes/linear-server.js";
import { newDeployment } from "../support/deployment-rows.js";

const REPO = "acme/api";
let directory: string;
let store: Store;
let github: FakeGitHub;
let linear: FakeLinear;
let now: number;
let metrics: Metrics;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "switchboard-ship-notices-"));
  store = await openStore(`sqlite:${join(directory, "switchboard.db")}`);
  github = await startFakeGitHub();
  linear = await startFakeLinear();
  now = Date.parse("2026-03-02T10:00:00Z");
  metrics = createMetrics();
});

afterEach(async () => {
  await store.close();
  await github.close();
  await linear.close();
  rmSync(directory, { recursive: true, force: true });
});

function worker(linearState = "Done") {
  return createShipNoticeWorker({
    db: store.db,
    github: createGitHubApi({ GITHUB_TOKEN: FAKE_GITHUB_TOKEN, GITHUB_API_URL: github.url })!,
    linear: createLinearApi({ LINEAR_API_KEY: FAKE_LINEAR_API_KEY, LINEAR_API_URL: linear.url })!,
    environments: [
      {
        name: "production",
        repo: REPO,
        method: "github-deployment",
        inputs: {},
        production: true,
        approvals: 1,
        linear_state: linearState,
      },
    ],
    logger: createLogger({ level: "silent", format: "json", secrets: [] }),
    metrics,
    retryBaseMs: 1000,
    retryMaxMs: 1000,
    random: () => 1,
    clock: () => now,
  });
}

/** A successful deployment of `sha` after `previous`, and its pending notice. */
async function shipped(sha: string, previous: string | null, ref = "v1.2.3"): Promise<number> {
  const deployment = await insertDeployment(
    store.db,
    newDeployment({
      repo: REPO,
      ref,
      sha,
      version: ref.replace(/^v/, ""),
      github_deployment_id: "1",
      announced_state: "success",
      requested_by_name: "ada",
      previous_sha: previous,
      created_at: now,
      updated_at: now,
      started_at: now,
      finished_at: now,
    }),
  );
  await insertShipNotice(store.db, deployment.id, now);
  return deployment.id;
}

function twoIssuesShipped(): { issues: FakeIssue[]; base: string; head: string } {
  const issues = [
    linear.addIssue({ teamKey: "ENG", title: "One", stateType: "started" }),
    linear.addIssue({ teamKey: "ENG", title: "Two", stateType: "started" }),
  ];
  const [base] = github.addCommits(REPO, "main", [{ message: "chore: start" }]);
  const [, head] = github.addCommits(REPO, "main", [
    { message: `feat: one (${issues[0]!.identifier})` },
    { message: `fix: two\n\nCloses ${issues[1]!.identifier}` },
  ]);
  return { issues, base: base!, head: head! };
}

const commentsOn = (issue: FakeIssue) => linear.comments.filter((comment) => comment.issueId === issue.id);

describe("ship notices", () => {
  it("retries after Linear fails, then comments on each issue once and moves it", async () => {
    const { issues, base, head } = twoIssuesShipped();
    const deploymentId = await shipped(head, base);
    linear.failWith(
      { kind: "answer", status: 500, text: "upstream broke" },
      { times: 1, operations: ["CreateComment"] },
    );
    const notices = worker();

    expect(await notices.processDue()).toBe(1);
    let notice = await findShipNotice(store.db, deploymentId);
    expect(notice).toMatchObject({ status: "pending", attempts: 1, next_attempt_at: now + 1000 });
    expect(notice!.last_error).toContain("500");
    // Not due yet: nothing happens.
    expect(await notices.processDue()).toBe(0);

    now += 1000;
    expect(await notices.processDue()).toBe(1);
    notice = await findShipNotice(store.db, deploymentId);
    expect(notice).toMatchObject({ status: "done" });
    expect(JSON.parse(notice!.done_keys)).toEqual(issues.map((issue) => issue.identifier));
    for (const issue of issues) {
      expect(commentsOn(issue)).toHaveLength(1);
      expect(commentsOn(issue)[0]!.body).toBe("Shipped to **production** in v1.2.3");
      expect(issue.state.name).toBe("Done");
    }
    // What an operator's dashboard shows: one failed attempt, then each issue told.
    const counted = await metrics.shipNotices.get();
    const count = (outcome: string) => counted.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    expect(count("error")).toBe(1);
    expect(count("ok")).toBe(issues.length);
  });

  it("also tells the issues that only the shipped pull requests name, in their description", async () => {
    const issue = linear.addIssue({ teamKey: "ENG", title: "Named in the PR only", stateType: "started" });
    const [base] = github.addCommits(REPO, "main", [{ message: "chore: start" }]);
    github.addPullRequest(REPO, {
      number: 42,
      title: "Faster search",
      body: `Closes ${issue.identifier}`,
      state: "closed",
      merged: true,
    });
    const [head] = github.addCommits(REPO, "main", [{ message: "feat: faster search (#42)" }]);
    await shipped(head!, base!);

    expect(await worker().processDue()).toBe(1);
    expect(commentsOn(issue)).toHaveLength(1);
    expect(issue.state.name).toBe("Done");
  });

  it("carries on after the issues already told, without commenting on them again", async () => {
    const { issues, base, head } = twoIssuesShipped();
    const deploymentId = await shipped(head, base);
    const notice = await findShipNotice(store.db, deploymentId);
    await recordShipNoticeKeys(store.db, notice!.id, [issues[0]!.identifier]);

    await worker().processDue();
    expect(commentsOn(issues[0]!)).toHaveLength(0);
    expect(commentsOn(issues[1]!)).toHaveLength(1);
  });

  it("tells nothing for a rollback, whose range ships no new commits", async () => {
    const { issues, base, head } = twoIssuesShipped();
    const deploymentId = await shipped(base, head, "v1.2.2");
    await worker().processDue();
    expect(await findShipNotice(store.db, deploymentId)).toMatchObject({ status: "done" });
    for (const issue of issues) expect(commentsOn(issue)).toHaveLength(0);
  });

  it("uses the release's issues and links the release for a first deployment", async () => {
    const issue = linear.addIssue({ teamKey: "ENG", title: "First", stateType: "started" });
    await insertRelease(store.db, {
      release_name: REPO,
      repo: REPO,
      version: "0.1.0",
      tag: "v0.1.0",
      target_sha: "c".repeat(40),
      prerelease: 0,
      notes: "",
      url: "https://github.com/acme/api/releases/tag/v0.1.0",
      linear_keys: JSON.stringify([issue.identifier]),
      created_by: null,
      created_by_name: null,
      created_at: now,
    });
    await shipped("c".repeat(40), null, "v0.1.0");
    await worker("Released").processDue();
    expect(commentsOn(issue)).toHaveLength(1);
    expect(commentsOn(issue)[0]!.body).toBe(
      "Shipped to **production** in v0.1.0 (https://github.com/acme/api/releases/tag/v0.1.0)",
    );
    // The team has no "Released" state: commented, left where it was.
    expect(issue.state.name).toBe("In Progress");
  });
});
