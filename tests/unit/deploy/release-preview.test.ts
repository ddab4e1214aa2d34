import { describe, expect, it } from "vitest";
import { fitNotesForDiscord } from "../../../src/deploy/changelog.js";
import { embedLength, LIMITS } from "../../../src/discord/render/message.js";
import {
  renderReleaseAnnouncement,
  renderReleasePreview,
} from "../../../src/discord/render/release-preview.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const NOTES = [
  "### Breaking changes",
  "",
  "- **api:** tokens expire ([#4](https://github.com/acme/api/pull/4)) by @grace",
  "",
  "### Features",
  "",
  "- **api:** webhooks ([#4](https://github.com/acme/api/pull/4)) by @grace",
  "",
  "### Linear issues",
  "",
  "ENG-1",
  "",
  "**Full changelog:** https://github.com/acme/api/compare/v1.2.0...v2.0.0",
  "",
].join("\n");

describe("fitNotesForDiscord", () => {
  it("turns headings into bold lines and keeps everything that fits", () => {
    expect(fitNotesForDiscord(NOTES, 4096)).toBe(
      [
        "**Breaking changes**",
        "- **api:** tokens expire ([#4](https://github.com/acme/api/pull/4)) by @grace",
        "",
        "**Features**",
        "- **api:** webhooks ([#4](https://github.com/acme/api/pull/4)) by @grace",
        "",
        "**Linear issues**",
        "ENG-1",
        "",
        "**Full changelog:** https://github.com/acme/api/compare/v1.2.0...v2.0.0",
      ].join("\n"),
    );
  });

  it("drops whole lines from the end, counts them, and never leaves a title alone", () => {
    const fitted = fitNotesForDiscord(NOTES, 260);
    expect(fitted.length).toBeLessThanOrEqual(260);
    expect(fitted).toContain("…and 2 more");
    expect(fitted).not.toContain("**Features**");
    expect(fitted.endsWith("compare/v1.2.0...v2.0.0")).toBe(true);
  });
});

describe("renderReleasePreview", () => {
  const view = {
    id: "abc",
    releaseName: "acme/api",
    repo: "acme/api",
    repoUrl: "https://github.com/acme/api",
    branch: "main",
    version: "2.0.0",
    tag: "v2.0.0",
    targetSha: SHA,
    baseTag: "v1.2.0",
    prerelease: false,
    dryRun: false,
    reason: "major (auto: a breaking change)",
    commitCount: 2,
    truncated: false,
    notes: NOTES,
    linearKeys: Array.from({ length: 400 }, (_, i) => `ENG-${i + 1}`),
    expiresAt: Date.parse("2026-01-01T00:30:00Z"),
  };

  it("has Confirm and Cancel buttons carrying the preview id, and mentions nobody", () => {
    const message = renderReleasePreview(view);
    const ids = message.components.flatMap((row) =>
      row.components.map((button) => ("custom_id" in button ? button.custom_id : "")),
    );
    expect(ids).toEqual(["release:confirm:abc", "release:cancel:abc"]);
    expect(message.allowed_mentions).toEqual({ parse: [] });
    expect(message.embeds![0]!.fields!.find((field) => field.name === "Pinned commit")!.value).toContain(
      "`0123456`",
    );
  });

  it("stays within Discord's limits with very long notes and many Linear issues", () => {
    const long = `### Bug fixes\n\n${Array.from({ length: 500 }, (_, i) => `- fix number ${i} ([#${i}](https://github.com/acme/api/pull/${i})) by @grace`).join("\n")}\n\n**Full changelog:** x\n`;
    const message = renderReleasePreview({ ...view, notes: long });
    const embed = message.embeds![0]!;
    expect(embed.description!.length).toBeLessThanOrEqual(LIMITS.embedDescription);
    expect(embed.description).toMatch(/…and \d+ more\n\n\*\*Full changelog:\*\* x$/);
    expect(embedLength(embed)).toBeLessThanOrEqual(LIMITS.embedsTotal);
    expect(embed.fields!.every((field) => field.value.length <= LIMITS.fieldValue)).toBe(true);
  });

  it("keeps button labels within Discord's 80 characters, dry run or not", () => {
    const tag = `v1.0.0-${"a".repeat(70)}`;
    for (const dryRun of [false, true]) {
      const labels = renderReleasePreview({ ...view, tag, dryRun }).components.flatMap((row) =>
        row.components.map((button) => ("label" in button ? (button.label ?? "") : "")),
      );
      expect(labels.every((label) => label.length > 0 && label.length <= 80)).toBe(true);
    }
  });

  it("never pings, whatever commit subjects say, in the preview or the announcement", () => {
    const notes =
      "### Bug fixes\n\n- hey @everyone and <@200000000000000002> and <@&400000000000000001> (x) by @a\n\nx\n";
    const preview = renderReleasePreview({ ...view, notes });
    const announcement = renderReleaseAnnouncement({
      releaseName: "acme/api",
      repo: "acme/api",
      tag: "v2.0.0",
      prerelease: false,
      url: "https://github.com/acme/api/releases/tag/v2.0.0",
      targetSha: SHA,
      notes,
      releasedBy: "200000000000000001",
      at: 0,
    });
    for (const message of [preview, announcement]) {
      expect(message.allowed_mentions).toEqual({ parse: [] });
      // Mentions in an embed never ping; the content, which could, carries none of the notes.
      expect(message.embeds![0]!.description).toContain("@everyone");
      expect(message.content ?? "").not.toMatch(/@everyone|<@/);
    }
  });

  it("announces a prerelease as such, linking the release", () => {
    const message = renderReleaseAnnouncement({
      releaseName: "sdk",
      repo: "acme/mono",
      tag: "sdk-v1.0.0-rc.1",
      prerelease: true,
      url: "https://github.com/acme/mono/releases/tag/sdk-v1.0.0-rc.1",
      targetSha: SHA,
      notes: NOTES,
      releasedBy: "200000000000000001",
      at: 0,
    });
    expect(message.embeds![0]).toMatchObject({
      title: "🚀 Prerelease sdk-v1.0.0-rc.1 of sdk",
      url: "https://github.com/acme/mono/releases/tag/sdk-v1.0.0-rc.1",
    });
    expect(message.allowed_mentions).toEqual({ parse: [] });
  });
});
