/**
 * The Octokit client's release, deployment and scheduled-job methods against the fake GitHub REST API over
 * HTTP: what each answers, what GitHub ends up holding, and how GitHub's refusals reach the caller.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthError, NotFoundError, RateLimitedError, UserError } from "../../src/errors.js";
import type { GitHubApi } from "../../src/sources/github/github-api.js";
import { createGitHubClient } from "../../src/sources/github/github-client.js";
import { startFakeGitHub } from "../fakes/github-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";

const REPO = "acme/api";

let fake: FakeGitHub;
let github: Required<GitHubApi>;

beforeEach(async () => {
  fake = await startFakeGitHub();
  github = createGitHubClient({ token: fake.token, baseUrl: fake.url }) as Required<GitHubApi>;
});

afterEach(() => fake.close());

/** main: init <- feat <- fix, tagged v0.1.0 at init. */
function seedHistory() {
  const [init, feat, fix] = fake.addCommits(REPO, "main", [
    { message: "chore: initial commit", author: "grace", files: ["README.md"] },
    { message: "feat(api): login (#12)\n\nCloses ENG-7", author: "grace", files: ["packages/api/login.ts"] },
    { message: "fix: typo", authorName: "Someone Unmatched", files: ["packages/web/index.ts"] },
  ]) as [string, string, string];
  fake.tag(REPO, "v0.1.0", init);
  return { init, feat, fix };
}

describe("refs, tags and commits", () => {
  it("resolves branches, tags and short shas to the full sha, and unknown refs to undefined", async () => {
    const { init, fix } = seedHistory();
    expect(await github.resolveRef(REPO, "main")).toBe(fix);
    expect(await github.resolveRef(REPO, "v0.1.0")).toBe(init);
    expect(await github.resolveRef(REPO, fix.slice(0, 7))).toBe(fix);
    expect(await github.resolveRef(REPO, "v9.9.9")).toBeUndefined();
    expect(await github.resolveRef("acme/empty", "main")).toBeUndefined();
  });

  it("lists tags newest first, at most the limit", async () => {
    const { init, feat, fix } = seedHistory();
    fake.tag(REPO, "v0.2.0", feat);
    fake.tag(REPO, "v0.2.1", fix);
    expect(await github.listTags(REPO)).toEqual([
      { name: "v0.2.1", sha: fix },
      { name: "v0.2.0", sha: feat },
      { name: "v0.1.0", sha: init },
    ]);
    expect(await github.listTags(REPO, 2)).toHaveLength(2);
  });

  it("lists commits newest first with their authors, filtered by path, and none for an empty repository", async () => {
    const { init, feat, fix } = seedHistory();
    const commits = await github.listCommits(REPO, { sha: "main" });
    expect(commits.map((commit) => commit.sha)).toEqual([fix, feat, init]);
    expect(commits[1]).toMatchObject({
      message: "feat(api): login (#12)\n\nCloses ENG-7",
      author: "grace",
      authorName: "grace",
      parents: 1,
    });
    expect(commits[0]!.author).toBeUndefined();
    expect(commits[0]!.authorName).toBe("Someone Unmatched");
    expect(commits[2]!.parents).toBe(0);

    const api = await github.listCommits(REPO, { sha: "main", path: "packages/api" });
    expect(api.map((commit) => commit.sha)).toEqual([feat]);
    expect(await github.listCommits(REPO, { sha: "main", limit: 2 })).toHaveLength(2);

    fake.addRepo("acme/empty");
    expect(await github.listCommits("acme/empty", { sha: "main" })).toEqual([]);
  });

  it("pages through long histories up to the limit", async () => {
    fake.addCommits(
      REPO,
      "main",
      Array.from({ length: 130 }, (_, index) => ({ message: `chore: step ${index}` })),
    );
    const commits = await github.listCommits(REPO, { sha: "main", limit: 120 });
    expect(commits).toHaveLength(120);
    expect(commits[0]!.message).toBe("chore: step 129");
    expect(fake.requests.filter((request) => request.url.startsWith(`/repos/${REPO}/commits?`))).toHaveLength(
      2,
    );
  });

  it("compares two refs: the commits in head and not in base, oldest first", async () => {
    const { feat, fix } = seedHistory();
    const ahead = await github.compareCommits(REPO, "v0.1.0", "main");
    expect(ahead).toMatchObject({ status: "ahead", aheadBy: 2, behindBy: 0 });
    expect(ahead.commits.map((commit) => commit.sha)).toEqual([feat, fix]);

    expect(await github.compareCommits(REPO, "main", "v0.1.0")).toMatchObject({
      status: "behind",
      aheadBy: 0,
      behindBy: 2,
      commits: [],
    });
    expect((await github.compareCommits(REPO, fix, "main")).status).toBe("identical");

    const [hotfix] = fake.addCommits(REPO, "hotfix", [{ message: "fix: urgent", parents: [feat] }]);
    const merge = fake.addCommits(REPO, "main", [
      { message: "Merge branch 'hotfix'", parents: [fix, hotfix!] },
    ]);
    const diverged = await github.compareCommits(REPO, "hotfix", fix);
    expect(diverged).toMatchObject({ status: "diverged", aheadBy: 1, behindBy: 1 });
    const merged = await github.compareCommits(REPO, "v0.1.0", "main");
    expect(merged.commits.map((commit) => commit.sha)).toEqual([feat, fix, hotfix, ...merge]);
    expect(merged.commits.at(-1)!.parents).toBe(2);
  });

  it("says NotFoundError when a compared ref does not exist", async () => {
    seedHistory();
    await expect(github.compareCommits(REPO, "v0.0.1", "main")).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("releases", () => {
  it("creates the release with its tag at the pinned commit, even after the branch moved", async () => {
    const { feat } = seedHistory();
    const release = await github.createRelease(REPO, {
      tag: "v0.2.0",
      targetSha: feat,
      name: "v0.2.0",
      body: "## Features\n- login",
      prerelease: true,
    });
    expect(release).toMatchObject({ tag: "v0.2.0", name: "v0.2.0", prerelease: true, draft: false });
    expect(release.url).toContain("/releases/tag/v0.2.0");
    expect(fake.releases(REPO)).toEqual([
      expect.objectContaining({ tag: "v0.2.0", body: "## Features\n- login", targetCommitish: feat }),
    ]);
    expect(await github.resolveRef(REPO, "v0.2.0")).toBe(feat);
    expect(await github.getReleaseByTag(REPO, "v0.2.0")).toEqual(release);
    expect(await github.getReleaseByTag(REPO, "v0.3.0")).toBeUndefined();
  });

  it("refuses a tag that already exists, with or without a release, and creates nothing", async () => {
    const { feat } = seedHistory();
    const attempt = (tag: string) =>
      github.createRelease(REPO, { tag, targetSha: feat, name: tag, body: "", prerelease: false });

    await expect(attempt("v0.1.0")).rejects.toThrow(
      new UserError(`Tag v0.1.0 already exists in ${REPO}: choose another version.`),
    );
    expect(fake.releases(REPO)).toEqual([]);

    fake.addRelease(REPO, { tag: "v0.2.0", sha: feat });
    await expect(attempt("v0.2.0")).rejects.toBeInstanceOf(UserError);
    expect(fake.releases(REPO)).toHaveLength(1);
  });

  it("turns GitHub's 422 already_exists (a release created in between) into the same UserError", async () => {
    const { feat } = seedHistory();
    fake.route("POST", "/repos/:owner/:repo/releases", () => ({
      status: 422,
      body: {
        message: "Validation Failed",
        errors: [{ resource: "Release", code: "already_exists", field: "tag_name" }],
      },
    }));
    await expect(
      github.createRelease(REPO, {
        tag: "v0.2.0",
        targetSha: feat,
        name: "v0.2.0",
        body: "",
        prerelease: false,
      }),
    ).rejects.toThrow(/Tag v0\.2\.0 already exists/);
  });
});

describe("deployments", () => {
  const deployment = {
    ref: "v0.1.0",
    environment: "production",
    description: "Deploy v0.1.0 to production",
    payload: { requester: "grace", approver: "linus" },
    productionEnvironment: true,
  };

  it("creates a deployment of the commit the ref names, never auto-merging", async () => {
    const { init } = seedHistory();
    const created = await github.createDeployment(REPO, deployment);
    expect(created.sha).toBe(init);
    expect(created.url).toBe(`${fake.url}/repos/${REPO}/deployments/${created.id}`);
    expect(fake.deployments(REPO)).toEqual([
      expect.objectContaining({
        id: created.id,
        ref: "v0.1.0",
        environment: "production",
        payload: { requester: "grace", approver: "linus" },
        productionEnvironment: true,
        transientEnvironment: false,
        request: expect.objectContaining({ auto_merge: false, task: "deploy" }),
      }),
    ]);
  });

  it("refuses with GitHub's reason when the commit's checks fail (409), and deploys nothing", async () => {
    const { init } = seedHistory();
    fake.addStatus(REPO, init, { context: "ci/build", state: "failure" });
    const error = await github.createDeployment(REPO, deployment).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      "GitHub refused to deploy v0.1.0 to production: Conflict: Commit status checks failed for v0.1.0 (checks not passing: ci/build: failure). Fix that, or deploy another version.",
    );
    expect(fake.deployments(REPO)).toEqual([]);
  });

  it("refuses an unknown ref (422) with GitHub's reason", async () => {
    seedHistory();
    await expect(github.createDeployment(REPO, { ...deployment, ref: "v9.9.9" })).rejects.toThrow(
      new UserError(
        "GitHub refused to deploy v9.9.9 to production: No ref found for: v9.9.9. Fix that, or deploy another version.",
      ),
    );
  });

  it("treats an answer without a deployment id (202 Auto-merged) as a refusal", async () => {
    seedHistory();
    fake.route("POST", "/repos/:owner/:repo/deployments", () => ({
      status: 202,
      body: { message: "Auto-merged main into topic on deployment." },
    }));
    await expect(github.createDeployment(REPO, deployment)).rejects.toThrow(
      /GitHub refused to deploy v0\.1\.0 to production: Auto-merged main into topic on deployment/,
    );
  });

  it("tells the operator which permission a 403 lacks", async () => {
    seedHistory();
    fake.fail({ kind: "error", status: 403, message: "Resource not accessible by personal access token" });
    await expect(github.createDeployment(REPO, deployment)).rejects.toThrow(
      expect.objectContaining({
        name: "AuthError",
        message: expect.stringContaining("write access to deployments"),
      }),
    );
  });
});

describe("workflow dispatch", () => {
  it("runs a declared workflow on a tag with the inputs", async () => {
    seedHistory();
    fake.addWorkflow(REPO, "deploy.yml", { inputs: ["environment", "version"] });
    await github.dispatchWorkflow(REPO, "deploy.yml", "v0.1.0", { environment: "staging", version: "0.1.0" });
    expect(fake.dispatches(REPO)).toEqual([
      expect.objectContaining({
        workflow: "deploy.yml",
        ref: "v0.1.0",
        inputs: { environment: "staging", version: "0.1.0" },
      }),
    ]);
  });

  it("says which workflow is missing, and refuses a sha (GitHub dispatches branches and tags only)", async () => {
    const { init } = seedHistory();
    fake.addWorkflow(REPO, "deploy.yml");
    await expect(github.dispatchWorkflow(REPO, "release.yml", "main", {})).rejects.toThrow(
      new NotFoundError(
        `GitHub has no workflow release.yml in ${REPO}: check the environment's workflow file name.`,
      ),
    );
    await expect(github.dispatchWorkflow(REPO, "deploy.yml", init, {})).rejects.toThrow(
      new UserError(`GitHub refused to run deploy.yml on ${init} in ${REPO}: No ref found for: ${init}.`),
    );
    expect(fake.dispatches()).toEqual([]);
  });
});

describe("hook deliveries", () => {
  const hook = { repo: REPO, hookId: 7 };

  it("lists deliveries newest first across cursor pages, back to `since` or up to the limit", async () => {
    for (let index = 0; index < 150; index++) {
      fake.addHookDelivery(hook, {
        event: "pull_request",
        action: "opened",
        deliveredAt: new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString(),
        ...(index % 50 === 0 ? { statusCode: 503 } : {}),
      });
    }
    const latest = await github.listHookDeliveries(hook, { limit: 120 });
    expect(latest).toHaveLength(120);
    expect(latest[0]).toMatchObject({
      deliveredAt: "2026-01-01T02:29:00.000Z",
      event: "pull_request",
      action: "opened",
      status: "OK",
      statusCode: 200,
      redelivery: false,
    });
    expect(fake.requests.filter((request) => request.url.includes("/hooks/7/deliveries"))).toHaveLength(2);

    const recent = await github.listHookDeliveries(hook, { since: "2026-01-01T01:30:00Z" });
    expect(recent).toHaveLength(60);
    expect(recent.at(-1)!.deliveredAt).toBe("2026-01-01T01:30:00.000Z");
    expect(recent.filter((delivery) => delivery.statusCode === 503)).toEqual([
      expect.objectContaining({
        status: "Invalid HTTP Response: 503",
        deliveredAt: "2026-01-01T01:40:00.000Z",
      }),
    ]);
  });

  it("redelivers a delivery of a repository or organization hook", async () => {
    const orgHook = { org: "acme", hookId: 9 };
    const failed = fake.addHookDelivery(orgHook, { event: "push", statusCode: 500 });
    await github.redeliverHookDelivery(orgHook, failed.id);
    expect(fake.redeliveries()).toEqual([expect.objectContaining({ hook: orgHook, deliveryId: failed.id })]);
    const [again] = await github.listHookDeliveries(orgHook, {});
    expect(again).toMatchObject({ guid: failed.guid, redelivery: true, statusCode: 200 });

    fake.addHookDelivery(hook, { event: "push" });
    await expect(github.redeliverHookDelivery(hook, 424242)).rejects.toBeInstanceOf(NotFoundError);
    await expect(github.listHookDeliveries({ repo: REPO, hookId: 8 }, {})).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe("workflow runs", () => {
  it("lists completed runs on a branch since a time, newest first, filtered by conclusion", async () => {
    seedHistory();
    const at = (minute: number) => new Date(Date.UTC(2026, 1, 1, 12, minute)).toISOString();
    fake.addWorkflowRun(REPO, { name: "CI", conclusion: "failure", createdAt: at(0) });
    fake.addWorkflowRun(REPO, { name: "CI", conclusion: "failure", createdAt: at(30) });
    fake.addWorkflowRun(REPO, { name: "CI", conclusion: "success", createdAt: at(40) });
    fake.addWorkflowRun(REPO, { name: "CI", status: "in_progress", createdAt: at(50) });
    fake.addWorkflowRun(REPO, { name: "CI", headBranch: "topic", conclusion: "failure", createdAt: at(45) });

    const failures = await github.listWorkflowRuns(REPO, {
      branch: "main",
      status: "failure",
      since: at(10),
    });
    expect(failures).toEqual([
      expect.objectContaining({
        name: "CI",
        repo: REPO,
        headBranch: "main",
        conclusion: "failure",
        createdAt: at(30),
      }),
    ]);
    expect(failures[0]!.headSha).toBe(fake.head(REPO));
    const completed = await github.listWorkflowRuns(REPO, { branch: "main" });
    expect(completed.map((run) => run.createdAt)).toEqual([at(40), at(30), at(0)]);
  });
});

describe("credentials and limits", () => {
  it("says AuthError for a refused token and RateLimitedError when the limit is used up, on every method", async () => {
    const { feat } = seedHistory();
    const calls: (() => Promise<unknown>)[] = [
      () => github.resolveRef(REPO, "main"),
      () => github.listTags(REPO),
      () => github.listCommits(REPO, { sha: "main" }),
      () => github.compareCommits(REPO, "v0.1.0", "main"),
      () => github.getReleaseByTag(REPO, "v0.1.0"),
      () =>
        github.createRelease(REPO, { tag: "v1.0.0", targetSha: feat, name: "", body: "", prerelease: false }),
      () =>
        github.createDeployment(REPO, {
          ref: "main",
          environment: "staging",
          description: "",
          payload: {},
          productionEnvironment: false,
        }),
      () => github.dispatchWorkflow(REPO, "deploy.yml", "main", {}),
      () => github.listHookDeliveries({ repo: REPO, hookId: 1 }, {}),
      () => github.redeliverHookDelivery({ org: "acme", hookId: 1 }, 1),
      () => github.listWorkflowRuns(REPO, {}),
    ];
    fake.fail({ kind: "unauthorized" });
    for (const call of calls) await expect(call()).rejects.toBeInstanceOf(AuthError);
    fake.fail({ kind: "rate-limit", resetInSeconds: 120 });
    for (const call of calls) await expect(call()).rejects.toBeInstanceOf(RateLimitedError);
  });
});

describe("the fake's deployment statuses", () => {
  it("records statuses posted over HTTP, lists them newest first, and marks older deployments inactive", async () => {
    seedHistory();
    const staging = {
      ...{ ref: "main", description: "", payload: {} },
      environment: "staging",
      productionEnvironment: false,
    };
    const first = await github.createDeployment(REPO, staging);
    fake.addDeploymentStatus(first.id, { state: "success" });
    const second = await github.createDeployment(REPO, staging);
    const post = (state: string) =>
      fetch(`${fake.url}/repos/${REPO}/deployments/${second.id}/statuses`, {
        method: "POST",
        headers: { authorization: `token ${fake.token}`, "content-type": "application/json" },
        body: JSON.stringify({ state, log_url: "https://ci.example/run/1" }),
      });
    expect((await post("in_progress")).status).toBe(201);
    expect((await post("success")).status).toBe(201);
    expect((await post("exploded")).status).toBe(422);

    const listed = (await (
      await fetch(`${fake.url}/repos/${REPO}/deployments/${second.id}/statuses`, {
        headers: { authorization: `token ${fake.token}` },
      })
    ).json()) as { state: string; log_url: string }[];
    expect(listed.map((status) => status.state)).toEqual(["success", "in_progress"]);
    expect(listed[0]!.log_url).toBe("https://ci.example/run/1");
    expect(fake.deployments(REPO)[0]!.statuses.map((status) => status.state)).toEqual([
      "success",
      "inactive",
    ]);
  });
});
