import { describe, expect, it } from "vitest";
import { collectLinearKeys, fitNotesForDiscord, renderReleaseNotes } from "../../../src/deploy/changelog.js";
import { DEFAULT_CHANGELOG_SECTIONS } from "../../../src/config/config-file.js";
import { cancelReverts, parseCommit } from "../../../src/deploy/conventional-commits.js";
import type { GitHubCommit } from "../../../src/sources/github/github-api.js";

const REPO_URL = "https://github.com/acme/api";
let counter = 0;
function commit(message: string, extra: Partial<GitHubCommit> = {}) {
  counter += 1;
  const sha = counter.toString(16).padStart(40, "c");
  return parseCommit({
    sha,
    message,
    author: "octocat",
    authorName: "Mona",
    url: `${REPO_URL}/commit/${sha}`,
    parents: 1,
    ...extra,
  });
}

describe("renderReleaseNotes", () => {
  it("groups by section, breaking changes first with their notes, then Linear keys and the compare link", () => {
    const commits = [
      commit("fix(db): close the pool (#3)\n\nFixes ENG-2"),
      commit("feat(api): webhooks (#4)\n\nBREAKING CHANGE: the /hooks route moved to /webhooks.\n\nENG-1"),
      commit("chore: bump deps", { author: undefined, authorName: "Renovate Bot" }),
      commit("Merge branch 'main' into x", { parents: 2 }),
    ];
    const notes = renderReleaseNotes({
      repoUrl: REPO_URL,
      commits,
      sections: DEFAULT_CHANGELOG_SECTIONS,
      previousTag: "v1.2.3",
      tag: "v2.0.0",
      linearKeys: collectLinearKeys(commits),
    });
    const short = commits[2]!.sha.slice(0, 7);
    expect(notes).toBe(
      [
        "### Breaking changes",
        "",
        `- **api:** the /hooks route moved to /webhooks. ([#4](${REPO_URL}/pull/4)) by @octocat`,
        "",
        "### Features",
        "",
        `- **api:** webhooks ([#4](${REPO_URL}/pull/4)) by @octocat`,
        "",
        "### Bug fixes",
        "",
        `- **db:** close the pool ([#3](${REPO_URL}/pull/3)) by @octocat`,
        "",
        "### Other changes",
        "",
        `- bump deps ([${short}](${commits[2]!.url})) by Renovate Bot`,
        "",
        "### Linear issues",
        "",
        "ENG-2, ENG-1",
        "",
        `**Full changelog:** ${REPO_URL}/compare/v1.2.3...v2.0.0`,
        "",
      ].join("\n"),
    );
  });

  it("leaves out types no section takes when there is no catch-all", () => {
    const notes = renderReleaseNotes({
      repoUrl: REPO_URL,
      commits: [commit("chore: x"), commit("docs: y")],
      sections: [{ title: "Features", types: ["feat"] }],
      tag: "v0.1.0",
      linearKeys: [],
    });
    expect(notes).toBe(`No notable changes.\n\n**Full changelog:** ${REPO_URL}/commits/v0.1.0\n`);
  });

  it("lists nothing for a change reverted in the same release", () => {
    const feature = commit("feat: x");
    const revert = commit(`Revert "feat: x"\n\nThis reverts commit ${feature.sha}.`);
    const fix = commit("fix: y");
    const notes = renderReleaseNotes({
      repoUrl: REPO_URL,
      commits: cancelReverts([feature, revert, fix]),
      sections: DEFAULT_CHANGELOG_SECTIONS,
      tag: "v1.0.1",
      previousTag: "v1.0.0",
      linearKeys: [],
    });
    expect(notes).not.toContain("Features");
    expect(notes).not.toContain("Reverts");
    expect(notes).toContain("### Bug fixes");
  });

  it("lists a revert of an earlier release under Reverts", () => {
    const revert = commit(`Revert "feat: old" (#9)\n\nThis reverts commit ${"d".repeat(40)}.`);
    const notes = renderReleaseNotes({
      repoUrl: REPO_URL,
      commits: [revert],
      sections: DEFAULT_CHANGELOG_SECTIONS,
      tag: "v1.0.1",
      linearKeys: [],
    });
    expect(notes).toContain(`### Reverts\n\n- Revert "feat: old" ([#9](${REPO_URL}/pull/9)) by @octocat`);
  });
});

describe("release notes in Discord (fitNotesForDiscord on the stored notes)", () => {
  it("fits the limit, says how many lines were left out and keeps the compare link", () => {
    const commits = Array.from({ length: 300 }, (_, i) =>
      commit(`fix: repair thing number ${i} (#${i + 1})`),
    );
    const text = fitNotesForDiscord(
      renderReleaseNotes({
        repoUrl: REPO_URL,
        commits,
        sections: DEFAULT_CHANGELOG_SECTIONS,
        previousTag: "v1.0.0",
        tag: "v1.0.1",
        linearKeys: [],
      }),
      4096,
    );
    expect(text.length).toBeLessThanOrEqual(4096);
    const shown = text.split("\n").filter((line) => line.startsWith("- ")).length;
    expect(text).toContain(`…and ${300 - shown} more`);
    expect(text.startsWith("**Bug fixes**\n- repair thing number 0")).toBe(true);
    expect(text.endsWith(`**Full changelog:** ${REPO_URL}/compare/v1.0.0...v1.0.1`)).toBe(true);
  });

  it("shortens very long subjects in Discord, keeping the pull request link and the author", () => {
    const notes = renderReleaseNotes({
      repoUrl: REPO_URL,
      commits: [commit(`feat: ${"x".repeat(500)} (#7)`)],
      sections: DEFAULT_CHANGELOG_SECTIONS,
      tag: "v1.0.0",
      linearKeys: [],
    });
    // GitHub gets the subject whole; Discord a shortened one.
    expect(notes).toContain(`- ${"x".repeat(500)} ([#7](${REPO_URL}/pull/7)) by @octocat`);
    const text = fitNotesForDiscord(notes, 4096);
    expect(text).toContain(`**Features**\n- ${"x".repeat(119)}… ([#7](${REPO_URL}/pull/7)) by @octocat\n`);
    expect(text.length).toBeLessThan(400);
  });
});
