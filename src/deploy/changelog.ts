/**
 * Release notes from parsed commits: grouped by the configured sections, breaking changes first with their
 * notes, each line linking its pull request (or commit) and naming its author, then the compare link and
 * the Linear issues. One Markdown version for the GitHub release, one sized for a Discord embed. Pure.
 */
import type { ChangelogSection } from "../config/config-file.js";
import { truncate } from "../events/text.js";
import type { ParsedCommit } from "./conventional-commits.js";

export interface ReleaseNotesInput {
  /** The repository's web URL (`https://github.com/acme/api`): pull, commit and compare links hang off it. */
  repoUrl: string;
  /** The commits released, oldest first, reverts already cancelled (cancelReverts). Merges are skipped here. */
  commits: readonly ParsedCommit[];
  sections: readonly ChangelogSection[];
  /** The tag compared against; undefined for a first release. */
  previousTag?: string;
  tag: string;
  /** Linear keys named by the commits (collectLinearKeys). */
  linearKeys: readonly string[];
}

export const BREAKING_SECTION_TITLE = "Breaking changes";

interface NotesSection {
  title: string;
  lines: string[];
}

/** The notes published on the GitHub release (Markdown, `###` section headings). */
export function renderReleaseNotes(input: ReleaseNotesInput): string {
  const sections = groupSections(input);
  const blocks = sections.map((section) => `### ${section.title}\n\n${section.lines.join("\n")}`);
  if (blocks.length === 0) blocks.push("No notable changes.");
  if (input.linearKeys.length > 0) blocks.push(`### Linear issues\n\n${input.linearKeys.join(", ")}`);
  blocks.push(compareLine(input));
  return blocks.join("\n\n") + "\n";
}

/** Subjects longer than this are cut in Discord, so one long commit cannot crowd out the rest. */
const DISCORD_SUBJECT_LENGTH = 120;

/**
 * Release notes (as renderReleaseNotes writes them) for a Discord embed description of at most `limit`
 * characters (4096 for a description): `### Title` becomes a bold line, long subjects are shortened (their
 * link and author kept), and lines that do not fit are dropped from the end and counted (`…and 12 more`).
 * The last line (the compare link) always stays. Works on the stored Markdown, so a preview and the
 * announcement of the release show the same notes.
 */
export function fitNotesForDiscord(markdown: string, limit: number): string {
  const source = markdown.trimEnd().split("\n");
  const tail = source.pop() ?? "";
  const lines: Array<{ text: string; entry: boolean }> = [];
  for (let index = 0; index < source.length; index++) {
    const text = source[index] ?? "";
    const heading = /^#{1,6} (.*)$/.exec(text);
    if (heading) {
      lines.push({ text: `**${heading[1] ?? ""}**`, entry: false });
      if (source[index + 1] === "") index++; // the blank line under a heading
    } else {
      lines.push({ text: shortenEntry(text), entry: text.trim() !== "" });
    }
  }
  while (lines.length > 0 && lines[lines.length - 1]?.text === "") lines.pop();

  const render = (shown: typeof lines, more: number) => {
    const body = shown.map((line) => line.text);
    while (body.length > 0 && body[body.length - 1] === "") body.pop();
    if (more > 0) body.push(`…and ${more} more`);
    return body.length > 0 ? `${body.join("\n")}\n\n${tail}` : tail;
  };
  let shown = lines;
  let more = 0;
  while (shown.length > 0 && render(shown, more).length > limit) {
    const dropped = shown[shown.length - 1];
    shown = shown.slice(0, -1);
    if (dropped?.entry) more += 1;
    // Do not leave a section title with nothing under it.
    while (shown.length > 0 && !shown[shown.length - 1]?.entry) shown = shown.slice(0, -1);
  }
  return truncate(render(shown, more), limit);
}

// An entry line as entryLine writes it: `- <subject> (<link>) by <author>`; greedy, so the last link counts.
const ENTRY = /^(- .*)( \(\[[^\]]+\]\([^)\s]+\)\) by .*)$/;

/** `- <subject cut to DISCORD_SUBJECT_LENGTH> (<link>) by <author>`; other lines as they are. */
function shortenEntry(line: string): string {
  const entry = ENTRY.exec(line);
  const start = entry?.[1] ?? "";
  const length = "- ".length + DISCORD_SUBJECT_LENGTH;
  return entry && start.length > length ? truncate(start, length) + (entry[2] ?? "") : line;
}

/** The Linear keys the commits name, first mention first, without repeats. */
export function collectLinearKeys(commits: readonly ParsedCommit[]): string[] {
  return [...new Set(commits.flatMap((commit) => commit.linearKeys))];
}

/**
 * Sections in the configured order, empty ones left out. Each commit goes to the first section listing its
 * type, else to the first `*` section, else nowhere; breaking changes are also listed, with their notes,
 * in a section of their own that always comes first.
 */
function groupSections(input: ReleaseNotesInput): NotesSection[] {
  const commits = input.commits.filter((commit) => commit.type !== "merge");
  const breaking: NotesSection = {
    title: BREAKING_SECTION_TITLE,
    lines: commits
      .filter((commit) => commit.breaking)
      .map((commit) => entryLine(commit, commit.breakingNote || commit.subject, input.repoUrl)),
  };
  const sections: NotesSection[] = input.sections.map((section) => ({ title: section.title, lines: [] }));
  for (const commit of commits) {
    let index = input.sections.findIndex((section) => section.types.includes(commit.type));
    if (index < 0) index = input.sections.findIndex((section) => section.types.includes("*"));
    sections[index]?.lines.push(entryLine(commit, commit.subject, input.repoUrl));
  }
  return [breaking, ...sections].filter((section) => section.lines.length > 0);
}

/** `- **scope:** subject ([#12](…/pull/12)) by @login`; the commit is linked when no PR is known. */
function entryLine(commit: ParsedCommit, text: string, repoUrl: string): string {
  const scope = commit.scope ? `**${commit.scope}:** ` : "";
  const link =
    commit.pr !== undefined
      ? `[#${commit.pr}](${repoUrl}/pull/${commit.pr})`
      : `[${commit.sha.slice(0, 7)}](${commit.url})`;
  const by = commit.author ? `@${commit.author}` : commit.authorName;
  return `- ${scope}${text} (${link}) by ${by}`;
}

function compareLine(input: ReleaseNotesInput): string {
  if (!input.previousTag) return `**Full changelog:** ${input.repoUrl}/commits/${input.tag}`;
  return `**Full changelog:** ${input.repoUrl}/compare/${input.previousTag}...${input.tag}`;
}
