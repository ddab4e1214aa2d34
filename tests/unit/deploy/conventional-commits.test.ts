import { describe, expect, it } from "vitest";
import {
  cancelReverts,
  extractLinearKeys,
  parseCommit,
  pullRequestLinearKeys,
} from "../../../src/deploy/conventional-commits.js";
import type { GitHubCommit } from "../../../src/sources/github/github-api.js";

let counter = 0;
function commit(message: string, extra: Partial<GitHubCommit> = {}): GitHubCommit {
  counter += 1;
  const sha = counter.toString(16).padStart(40, "a");
  return {
    sha,
    message,
    author: "octocat",
    authorName: "Mona Octocat",
    url: `https://github.com/acme/api/commit/${sha}`,
    parents: 1,
    ...extra,
  };
}

describe("extractLinearKeys", () => {
  it("finds keys anywhere, in order, without repeats", () => {
    expect(
      extractLinearKeys("fix: ENG-12 and OPS2-7 (see ENG-12, https://linear.app/acme/issue/WEB-3/x)"),
    ).toEqual(["ENG-12", "OPS2-7", "WEB-3"]);
  });

  it("does not take standards and hashes for issues", () => {
    expect(extractLinearKeys("UTF-8, SHA-256, ISO-8601, RFC-3339, CVE-2024-1234, MD-5, X-1")).toEqual([]);
  });

  it("needs 2-7 upper-case characters starting with a letter, and no leading zero", () => {
    expect(extractLinearKeys("E-1 ABCDEFGH-1 2FA-3 eng-4 ENG-0 ENG-01 ABCDEFG-9")).toEqual(["ABCDEFG-9"]);
  });

  it("does not match inside longer words", () => {
    expect(extractLinearKeys("my_ENG-1 A-ENG-2 ENG-3x ENG-4-fix (ENG-5).")).toEqual(["ENG-4", "ENG-5"]);
  });

  it("can keep only the workspace's teams", () => {
    expect(extractLinearKeys("ENG-1 UTF-8 OPS-2", { teams: ["eng", "UTF"] })).toEqual(["ENG-1", "UTF-8"]);
  });
});

describe("pullRequestLinearKeys", () => {
  it("reads the title and description as written, and Linear's lower-case branch names for known teams", () => {
    const pull = {
      title: "fix: login (ENG-3)",
      body: "Also closes OPS-4.",
      headBranch: "alice/eng-12-fix_login",
    };
    expect(pullRequestLinearKeys(pull, ["ENG"])).toEqual(["ENG-3", "OPS-4", "ENG-12"]);
  });

  it("does not take branch words for keys of teams it does not know", () => {
    const pull = { title: "fix: retries", body: "", headBranch: "release-2-step-3" };
    expect(pullRequestLinearKeys(pull, ["ENG"])).toEqual([]);
    expect(pullRequestLinearKeys(pull, [])).toEqual([]);
  });
});

describe("parseCommit", () => {
  it("reads type, scope and subject, and the squash merge's PR number", () => {
    const parsed = parseCommit(commit("feat(api): add webhooks (#42)\n\nCloses ENG-9"));
    expect(parsed).toMatchObject({
      type: "feat",
      scope: "api",
      subject: "add webhooks",
      header: "feat(api): add webhooks",
      breaking: false,
      pr: 42,
      linearKeys: ["ENG-9"],
      author: "octocat",
    });
  });

  it("marks `!` as breaking with the subject as the note", () => {
    expect(parseCommit(commit("refactor!: drop Node 18"))).toMatchObject({
      type: "refactor",
      breaking: true,
      breakingNote: "drop Node 18",
    });
  });

  it.each(["BREAKING CHANGE", "BREAKING-CHANGE"])("reads a %s footer, with its note", (token) => {
    const parsed = parseCommit(
      commit(
        `fix(auth): rotate tokens\n\nLonger body.\n\n${token}: tokens issued before\nv2 stop working.\nRefs: ENG-1`,
      ),
    );
    expect(parsed).toMatchObject({
      type: "fix",
      breaking: true,
      breakingNote: "tokens issued before v2 stop working.",
    });
  });

  it("does not take `BREAKING CHANGE` in the header's subject for a footer", () => {
    expect(parseCommit(commit("docs: explain BREAKING CHANGE: footers")).breaking).toBe(false);
  });

  it("uses a merged pull request's title as the header", () => {
    const parsed = parseCommit(
      commit("Merge pull request #12 from acme/feature-x\n\nfeat(ui): dark mode\n\nENG-4", { parents: 2 }),
    );
    expect(parsed).toMatchObject({
      type: "feat",
      scope: "ui",
      subject: "dark mode",
      pr: 12,
      linearKeys: ["ENG-4"],
    });
  });

  it("falls back to the branch when a merged pull request has no title", () => {
    expect(parseCommit(commit("Merge pull request #12 from acme/feature-x", { parents: 2 }))).toMatchObject({
      type: "other",
      subject: "acme/feature-x",
      pr: 12,
    });
  });

  it.each([
    "Merge branch 'main' into feature",
    "Merge remote-tracking branch 'origin/main'",
    "Merge tag 'v1.2.0'",
  ])("classes %j as a merge", (message) => {
    expect(parseCommit(commit(message, { parents: 2 })).type).toBe("merge");
  });

  it("classes any other commit with two parents and no convention as a merge", () => {
    expect(parseCommit(commit("Sync with upstream", { parents: 2 })).type).toBe("merge");
  });

  it("reads GitHub's revert commits", () => {
    const parsed = parseCommit(
      commit(
        'Revert "feat: add webhooks (#42)" (#43)\n\nThis reverts commit 1234567890abcdef1234567890abcdef12345678.',
      ),
    );
    expect(parsed).toMatchObject({
      type: "revert",
      pr: 43,
      revertsSha: "1234567890abcdef1234567890abcdef12345678",
      revertsHeader: "feat: add webhooks",
    });
  });

  it("reads conventional `revert:` commits", () => {
    expect(parseCommit(commit("revert: feat: add webhooks\n\nThis reverts commit abcdef1."))).toMatchObject({
      type: "revert",
      revertsSha: "abcdef1",
      revertsHeader: "feat: add webhooks",
    });
  });

  it("keeps non-conventional commits as `other` with the whole header", () => {
    expect(parseCommit(commit("Update README.md"))).toMatchObject({
      type: "other",
      subject: "Update README.md",
    });
    expect(parseCommit(commit("feat:no space")).type).toBe("other");
  });

  it("lower-cases the type and tolerates CRLF", () => {
    expect(parseCommit(commit("Fix(Api): x\r\n\r\nBREAKING CHANGE: y\r\n"))).toMatchObject({
      type: "fix",
      scope: "Api",
      breakingNote: "y",
    });
  });
});

describe("cancelReverts", () => {
  it("drops a commit and its revert in the same range", () => {
    const feature = parseCommit(commit("feat: add webhooks (#42)"));
    const fix = parseCommit(commit("fix: typo"));
    const revert = parseCommit(
      commit(`Revert "feat: add webhooks (#42)"\n\nThis reverts commit ${feature.sha.slice(0, 10)}.`),
    );
    expect(cancelReverts([feature, fix, revert])).toEqual([fix]);
  });

  it("matches by header when the revert names no commit", () => {
    const feature = parseCommit(commit("feat!: new API"));
    const revert = parseCommit(commit('Revert "feat!: new API"'));
    expect(cancelReverts([feature, revert])).toEqual([]);
  });

  it("keeps a revert of something released earlier", () => {
    const revert = parseCommit(commit(`Revert "feat: old"\n\nThis reverts commit ${"b".repeat(40)}.`));
    expect(cancelReverts([revert])).toEqual([revert]);
  });

  it("cancels a revert of a revert pairwise, leaving the reapplied change out only once", () => {
    const feature = parseCommit(commit("feat: x"));
    const revert = parseCommit(commit(`Revert "feat: x"\n\nThis reverts commit ${feature.sha}.`));
    const reapply = parseCommit(commit(`Revert "Revert "feat: x""\n\nThis reverts commit ${revert.sha}.`));
    // feature + revert cancel; the re-revert names a commit no longer counted and stays as a change.
    expect(cancelReverts([feature, revert, reapply])).toEqual([reapply]);
  });
});
