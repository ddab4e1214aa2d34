/**
 * The planner's decisions on small in-memory histories (the whole flow against the fake GitHub server is in
 * tests/integration/release-flow.test.ts): which range it reads, what it refuses, what Confirm re-checks.
 */
import { describe, expect, it } from "vitest";
import { parseConfigFile } from "../../../src/config/config-file.js";
import { checkReleaseConfirmable, planRelease } from "../../../src/deploy/release-planner.js";
import type { GitHubApi, GitHubCommit, GitHubTag } from "../../../src/sources/github/github-api.js";

const unused = () => Promise.reject(new Error("not used by the planner"));

/** A linear history on `main`, oldest first; tags point into it; `touching` lists commits per path. */
function history(options: {
  messages: string[];
  tags?: Record<string, number>;
  touching?: Record<string, number[]>;
}): { github: GitHubApi; shas: string[]; move(message: string): void } {
  const commits: GitHubCommit[] = [];
  const add = (message: string) => {
    const sha = String(commits.length + 1).padStart(40, "0");
    commits.push({
      sha,
      message,
      authorName: "A",
      author: "a",
      url: `https://github.com/acme/api/commit/${sha}`,
      parents: 1,
    });
  };
  options.messages.forEach(add);
  const tags = (): GitHubTag[] =>
    Object.entries(options.tags ?? {}).map(([name, index]) => ({ name, sha: commits[index]!.sha }));
  const indexOf = (sha: string) => commits.findIndex((commit) => commit.sha === sha);
  const github: GitHubApi = {
    getRepository: async (name) =>
      name === "acme/api"
        ? { fullName: name, defaultBranch: "main", private: false, url: "https://github.com/acme/api" }
        : undefined,
    getUser: async () => undefined,
    getPullRequest: async () => undefined,
    listOpenPullRequests: async () => ({ items: [], total: 0 }),
    listPullRequests: async () => [],
    resolveRef: async (_repo, ref) => (ref === "main" ? commits.at(-1)?.sha : undefined),
    listTags: async () => tags(),
    listCommits: async (_repo, { sha, path }) => {
      const upTo = commits.slice(0, indexOf(sha) + 1);
      const only = path ? new Set(options.touching?.[path] ?? []) : undefined;
      return upTo.filter((_, index) => !only || only.has(index)).reverse();
    },
    compareCommits: async (_repo, base, head) => {
      const range = commits.slice(indexOf(base) + 1, indexOf(head) + 1);
      return {
        status: range.length ? "ahead" : "identical",
        aheadBy: range.length,
        behindBy: 0,
        commits: range,
      };
    },
    getReleaseByTag: async () => undefined,
    createRelease: unused,
    createDeployment: unused,
    dispatchWorkflow: unused,
    listHookDeliveries: unused,
    redeliverHookDelivery: unused,
    listWorkflowRuns: unused,
  };
  return { github, shas: commits.map((commit) => commit.sha), move: add };
}

function release(yaml = "") {
  return parseConfigFile(`releases:\n  - repo: acme/api\n${yaml}`, "test.yaml").releases[0]!;
}

describe("planRelease", () => {
  it("reads the range since the latest tag by precedence and pins the head", async () => {
    const { github, shas } = history({
      messages: ["feat: a", "fix: b", "feat: c", "fix: d"],
      tags: { "v1.10.0": 1, "v1.9.0": 0 },
    });
    const plan = await planRelease(github, release(), { bump: "auto" });
    expect(plan).toMatchObject({ baseTag: "v1.10.0", version: "1.11.0", tag: "v1.11.0", targetSha: shas[3] });
    expect(plan.commits.map((commit) => commit.subject)).toEqual(["c", "d"]);
  });

  it("names the Linear issues in pull request branches of the workspace's teams", async () => {
    const { github } = history({
      messages: ["feat: a", "fix: b (#5)", "fix: c (#6)"],
      tags: { "v1.0.0": 0 },
    });
    const pull = (number: number, headBranch: string) => ({
      repo: "acme/api",
      number,
      title: "fix",
      url: `https://github.com/acme/api/pull/${number}`,
      author: "ada",
      authorType: "User" as const,
      state: "merged" as const,
      draft: false,
      labels: [],
      requestedReviewers: [],
      headBranch,
      body: "",
      createdAt: "2026-01-01T00:00:00Z",
      updatedAt: "2026-01-01T00:00:00Z",
    });
    const withPulls: GitHubApi = {
      ...github,
      // Most recently updated first, as GitHub lists them; #99 is not in the release.
      listPullRequests: async () => [
        pull(99, "bob/web-1-x"),
        pull(6, "ada/web-7-y"),
        pull(5, "ada/step-2-z"),
      ],
    };
    const plan = await planRelease(withPulls, release(), { bump: "auto" }, { linearTeams: ["WEB", "ENG"] });
    expect(plan.linearKeys).toEqual(["WEB-7"]);
    expect(plan.notes).toContain("### Linear issues\n\nWEB-7");
    expect(plan.notes).toContain("by @ada");
  });

  it("refuses when every change was reverted in the range", async () => {
    const { github, shas } = history({ messages: ["feat: a", "feat: b"], tags: { "v1.0.0": 0 } });
    const { github: withRevert } = history({
      messages: ["feat: a", "feat: b", `Revert "feat: b"\n\nThis reverts commit ${shas[1]}.`],
      tags: { "v1.0.0": 0 },
    });
    await expect(planRelease(github, release(), { bump: "auto" })).resolves.toMatchObject({
      version: "1.1.0",
    });
    await expect(planRelease(withRevert, release(), { bump: "auto" })).rejects.toThrow(
      "Nothing to release in acme/api: no commits on `main` since v1.0.0 (what is there is merges and reverted changes).",
    );
  });

  it("keeps only commits touching a monorepo package's path", async () => {
    const { github } = history({
      messages: ["feat: root", "feat(web): x", "fix(sdk): y", "feat(web): z"],
      tags: { "sdk-v1.0.0": 0, "v5.0.0": 0 },
      touching: { "packages/sdk": [0, 2] },
    });
    const plan = await planRelease(
      github,
      release("    name: sdk\n    tag_prefix: sdk-v\n    path: packages/sdk\n"),
      {
        bump: "auto",
      },
    );
    expect(plan).toMatchObject({ tag: "sdk-v1.0.1", baseTag: "sdk-v1.0.0" });
    expect(plan.commits.map((commit) => commit.subject)).toEqual(["y"]);
  });

  it("says which repository or branch is missing", async () => {
    const { github } = history({ messages: ["feat: a"] });
    const other = parseConfigFile("releases:\n  - repo: acme/gone\n", "t.yaml").releases[0]!;
    await expect(planRelease(github, other, { bump: "auto" })).rejects.toThrow(/Repository acme\/gone/);
    await expect(planRelease(github, release("    branch: release\n"), { bump: "auto" })).rejects.toThrow(
      "Branch `release` does not exist in acme/api",
    );
  });

  it("uses the first version and the whole history when there is no tag", async () => {
    const { github } = history({ messages: ["feat: a", "feat!: b"] });
    const plan = await planRelease(github, release("    first_version: 1.0.0\n"), { bump: "auto" });
    expect(plan.version).toBe("1.0.0");
    expect(plan.baseTag).toBeUndefined();
    expect(plan.notes).toContain("https://github.com/acme/api/commits/v1.0.0");
  });
});

describe("checkReleaseConfirmable", () => {
  it("accepts an untouched preview, and refuses once the branch moves", async () => {
    const { github, shas, move } = history({ messages: ["feat: a", "feat: b"], tags: { "v1.0.0": 0 } });
    const pinned = {
      repo: "acme/api",
      branch: "main",
      version: "1.1.0",
      tag: "v1.1.0",
      targetSha: shas[1]!,
      baseTag: "v1.0.0",
    };
    expect(await checkReleaseConfirmable(github, pinned)).toEqual({ confirmable: true });
    move("fix: c");
    expect(await checkReleaseConfirmable(github, pinned)).toMatchObject({
      confirmable: false,
      branchMoved: true,
    });
  });

  it("refuses an invalid version and an empty range", async () => {
    const { github, shas } = history({ messages: ["feat: a"], tags: { "v1.0.0": 0 } });
    const base = { repo: "acme/api", branch: "main", targetSha: shas[0]!, baseTag: "v1.0.0" };
    expect(await checkReleaseConfirmable(github, { ...base, version: "1.1", tag: "v1.1" })).toMatchObject({
      confirmable: false,
      branchMoved: false,
      reason: expect.stringContaining("not a valid SemVer version"),
    });
    expect(await checkReleaseConfirmable(github, { ...base, version: "1.1.0", tag: "v1.1.0" })).toMatchObject(
      {
        confirmable: false,
        reason: expect.stringContaining("Nothing to release"),
      },
    );
  });
});
