/**
 * Commit messages read as Conventional Commits 1.0.0 (https://www.conventionalcommits.org/en/v1.0.0/),
 * plus the shapes GitHub itself writes (squash merges ending in `(#123)`, merge commits, reverts), and the
 * Linear issue keys they name. Pure: no I/O.
 */
import type { GitHubCommit } from "../sources/github/github-api.js";

/** What a commit means for a release. */
export interface ParsedCommit {
  sha: string;
  url: string;
  /** GitHub login of the author, when GitHub matched the commit to an account. */
  author?: string;
  authorName: string;
  /**
   * The Conventional Commit type, lower-cased (`feat`, `fix`, `chore`...); `revert` for reverts; `merge` for
   * merges of one branch into another (never in a changelog); `other` for messages that follow no convention.
   */
  type: string;
  scope?: string;
  /** The header without type, scope and PR suffix; the whole header for `other`. */
  subject: string;
  /** The header as written, without the PR suffix (the PR title for merge commits of pull requests). */
  header: string;
  breaking: boolean;
  /** The `BREAKING CHANGE:` footer's text, or the subject when only `!` marks the break. */
  breakingNote?: string;
  /** The pull request that brought the commit: `(#123)` of a squash merge, or the merge commit's number. */
  pr?: number;
  /** For reverts: the commit reverted (`This reverts commit <sha>.`), as written (full or short). */
  revertsSha?: string;
  /** For reverts: the reverted commit's header (`feat: x`), from `Revert "feat: x"`. */
  revertsHeader?: string;
  /** Linear keys the message names. */
  linearKeys: string[];
}

// type(scope)!: subject. Types are words (`feat`, `build`, `ci`); a space after the colon is required.
const HEADER = /^([A-Za-z][\w-]*)(?:\(([^()\r\n]*)\))?(!)?: +(\S.*)$/;
// GitHub's squash-merge title suffix.
const PR_SUFFIX = /\s*\(#(\d+)\)$/;
const MERGE_PULL_REQUEST = /^Merge pull request #(\d+) from (\S+)/;
// `Merge branch 'main' into x`, `Merge remote-tracking branch 'origin/main'`, `Merge tag 'v1'`, `Merge commit 'abc'`.
const MERGE_BRANCH = /^Merge (?:(?:remote-tracking )?branch(?:es)?|tag|commit) /;
const REVERT_HEADER = /^Revert "(.+)"$/;
const REVERTS_COMMIT = /This reverts commit ([0-9a-f]{7,40})/i;
// A footer token at the start of a line (`Refs: x`, `Reviewed-by: x`, `Fixes #12`, `BREAKING CHANGE: x`).
const FOOTER_START = /^(?:BREAKING[ -]CHANGE|[\w-]+)(?:: | #)/;
const BREAKING_FOOTER = /^BREAKING[ -]CHANGE: ?(.*)$/;

/** Reads one commit's message. */
export function parseCommit(commit: GitHubCommit): ParsedCommit {
  const lines = commit.message.replace(/\r\n/g, "\n").split("\n");
  let header = (lines[0] ?? "").trim();
  let body = lines.slice(1);
  const base = {
    sha: commit.sha,
    url: commit.url,
    ...(commit.author ? { author: commit.author } : {}),
    authorName: commit.authorName,
    linearKeys: extractLinearKeys(commit.message),
  };

  let pr: number | undefined;
  const mergedPullRequest = MERGE_PULL_REQUEST.exec(header);
  if (mergedPullRequest) {
    // GitHub's merge commit: `Merge pull request #12 from owner/branch`, blank line, the PR title.
    pr = Number(mergedPullRequest[1]);
    const titleIndex = body.findIndex((line) => line.trim() !== "");
    if (titleIndex < 0) {
      const branch = mergedPullRequest[2] ?? header;
      return { ...base, type: "other", subject: branch, header: branch, breaking: false, pr };
    }
    header = (body[titleIndex] ?? "").trim();
    body = body.slice(titleIndex + 1);
  } else if (MERGE_BRANCH.test(header)) {
    return { ...base, type: "merge", subject: header, header, breaking: false };
  }

  const suffix = PR_SUFFIX.exec(header);
  if (suffix) {
    pr ??= Number(suffix[1]);
    header = header.slice(0, suffix.index);
  }
  const prField = pr !== undefined ? { pr } : {};
  const bodyText = body.join("\n");
  const footerNote = breakingFooter(body);

  const revert = REVERT_HEADER.exec(header);
  if (revert) {
    const revertsSha = REVERTS_COMMIT.exec(bodyText)?.[1];
    return {
      ...base,
      type: "revert",
      subject: header,
      header,
      breaking: footerNote !== undefined,
      ...(footerNote !== undefined ? { breakingNote: footerNote } : {}),
      ...prField,
      ...(revertsSha ? { revertsSha } : {}),
      revertsHeader: (revert[1] ?? "").replace(PR_SUFFIX, ""),
    };
  }

  const conventional = HEADER.exec(header);
  if (!conventional) {
    if (commit.parents > 1 && !mergedPullRequest) {
      return { ...base, type: "merge", subject: header, header, breaking: false };
    }
    return {
      ...base,
      type: "other",
      subject: header,
      header,
      breaking: footerNote !== undefined,
      ...(footerNote !== undefined ? { breakingNote: footerNote } : {}),
      ...prField,
    };
  }
  const [, type = "", scope, bang, subject = ""] = conventional;
  const breaking = bang === "!" || footerNote !== undefined;
  const revertsSha = type.toLowerCase() === "revert" ? REVERTS_COMMIT.exec(bodyText)?.[1] : undefined;
  return {
    ...base,
    type: type.toLowerCase(),
    ...(scope?.trim() ? { scope: scope.trim() } : {}),
    subject: subject.trim(),
    header,
    breaking,
    ...(breaking ? { breakingNote: footerNote || subject.trim() } : {}),
    ...prField,
    ...(revertsSha ? { revertsSha } : {}),
    ...(type.toLowerCase() === "revert" ? { revertsHeader: subject.trim().replace(PR_SUFFIX, "") } : {}),
  };
}

/**
 * The `BREAKING CHANGE:` (or `BREAKING-CHANGE:`) footer's text: from the token to the next footer token,
 * blank line or the end, lines joined with spaces (a blank line ends it, so trailing prose is not swallowed).
 * Undefined without one. The token must start a line of the body; the header never counts.
 */
function breakingFooter(body: string[]): string | undefined {
  const start = body.findIndex((line) => BREAKING_FOOTER.test(line.trim()));
  if (start < 0) return undefined;
  const note = [BREAKING_FOOTER.exec((body[start] ?? "").trim())?.[1] ?? ""];
  for (const line of body.slice(start + 1)) {
    if (line.trim() === "" || FOOTER_START.test(line.trim())) break;
    note.push(line.trim());
  }
  return note.join(" ").replace(/\s+/g, " ").trim();
}

/**
 * The commits that still count once reverts are taken into account: a commit and its revert in the same
 * range cancel out and both disappear; a revert of something released earlier stays (it is a change).
 * A revert names its commit by sha (`This reverts commit <sha>.`, full or abbreviated); without one, by the
 * reverted header. `commits` oldest first, as compare lists them.
 */
export function cancelReverts(commits: readonly ParsedCommit[]): ParsedCommit[] {
  const cancelled = new Set<ParsedCommit>();
  commits.forEach((revert, index) => {
    if (revert.type !== "revert" || cancelled.has(revert)) return;
    const earlier = commits.slice(0, index).filter((commit) => !cancelled.has(commit));
    const original = revert.revertsSha
      ? earlier.find((commit) => sameSha(commit.sha, revert.revertsSha ?? ""))
      : earlier.reverse().find((commit) => commit.header === revert.revertsHeader);
    if (!original) return;
    cancelled.add(original);
    cancelled.add(revert);
  });
  return commits.filter((commit) => !cancelled.has(commit));
}

function sameSha(full: string, given: string): boolean {
  return given.length >= 7 && full.toLowerCase().startsWith(given.toLowerCase());
}

/**
 * Linear issue keys (`ENG-123`) named anywhere in `text`, upper-cased as written, first occurrence first,
 * without repeats.
 *
 * A key is a team key of 2-7 characters, upper-case letters and digits starting with a letter (Linear's
 * own limits: team keys are at most 7 characters), a hyphen and an issue number without a leading zero.
 * Only upper case counts: lower-case `eng-123` in branch names is too easily a word (`utf-8`, `step-2`).
 * Tokens that look like keys but name standards (`UTF-8`, `SHA-256`, `ISO-8601`, `RFC-3339`, `CVE-2024`)
 * are left out by name; pass `teams` (the workspace's team keys) to accept only those.
 */
export function extractLinearKeys(text: string, options: { teams?: readonly string[] } = {}): string[] {
  const teams = options.teams ? new Set(options.teams.map((team) => team.toUpperCase())) : undefined;
  const keys: string[] = [];
  for (const match of text.matchAll(LINEAR_KEY)) {
    const team = match[1] ?? "";
    const key = `${team}-${match[2] ?? ""}`;
    if (teams ? !teams.has(team) : NOT_ISSUE_KEYS.has(team)) continue;
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

/**
 * The Linear keys a pull request names: in its title and description as written, and in its branch, where
 * Linear's own branch names spell them in lower case (`alice/eng-123-fix-login`). Upper-cased, a branch is
 * full of words that look like keys (`release-2`, `step-3`), so there only the given `teams` count.
 */
export function pullRequestLinearKeys(
  pull: { title: string; body: string; headBranch: string },
  teams: readonly string[],
): string[] {
  const written = extractLinearKeys(`${pull.title}\n${pull.body}`);
  const branch = extractLinearKeys(pull.headBranch.toUpperCase().replace(/_/g, "-"), { teams });
  return [...new Set([...written, ...branch])];
}

// Not preceded by a word character or hyphen (so `XENG-1` inside `A-XENG-1` and `foo_ENG-1` do not count),
// not followed by a word character (so `ENG-12abc` does not count); `ENG-12-fix` and `ENG-12.` do.
const LINEAR_KEY = /(?<![\w-])([A-Z][A-Z0-9]{1,6})-([1-9]\d{0,8})(?!\w)/g;

/** Standards and identifiers written like issue keys; none is a plausible Linear team key. */
const NOT_ISSUE_KEYS = new Set([
  "UTF",
  "SHA",
  "MD",
  "ISO",
  "RFC",
  "CVE",
  "CWE",
  "GHSA",
  "AES",
  "RSA",
  "HMAC",
  "TLS",
  "SSL",
  "HTTP",
  "IPV",
  "X",
  "UCS",
  "LATIN",
  "WINDOWS",
  "CP",
  "ECMA",
  "ES",
  "PEP",
  "JSR",
  "GPL",
  "LGPL",
  "AGPL",
  "BSD",
  "CC",
  "COVID",
]);
