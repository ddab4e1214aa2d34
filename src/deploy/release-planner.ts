/**
 * What `/release preview` proposes and what Confirm re-checks, read through the GitHubApi passed in.
 *
 * A plan pins the branch's head commit: Confirm tags exactly that commit with exactly the notes shown, or
 * refuses when the world changed since the preview (the branch moved, the tag appeared).
 *
 * Which commits: those since the base tag. For a stable release the base is the latest stable tag, so the
 * notes of 1.3.0 cover everything since 1.2.x, prereleases included; for a prerelease it is the latest tag of
 * any kind, so 1.3.0-rc.2 lists what changed since rc.1. With no tag, the branch's history (at most
 * HISTORY_LIMIT commits). Monorepo packages (`path`) keep only the commits touching their path.
 */
import type { ReleaseConfig } from "../config/config-file.js";
import { UserError } from "../errors.js";
import type {
  GitHubApi,
  GitHubCommit,
  GitHubPullRequestSummary,
  GitHubTag,
} from "../sources/github/github-api.js";
import { collectLinearKeys, renderReleaseNotes, type ReleaseNotesInput } from "./changelog.js";
import {
  cancelReverts,
  parseCommit,
  pullRequestLinearKeys,
  type ParsedCommit,
} from "./conventional-commits.js";
import { nextVersion, type Bump } from "./next-version.js";
import {
  compareSemVer,
  formatSemVer,
  formatVersionTag,
  isPrerelease,
  latestVersionTag,
  parseSemVer,
} from "./semver.js";

/**
 * Tags read to find the latest version. GitHub lists tags by name, not by date or version (`v9.0.0` comes
 * before `v10.0.0`), so the latest can be anywhere in the list: read up to ten pages, not just the first.
 */
const TAG_LIMIT = 1000;
/** Commits read for a first release or a monorepo path (compare itself stops at 250). */
const HISTORY_LIMIT = 250;
/**
 * Closed pull requests read (most recently updated first) to find those the release's commits came from:
 * one request, enough for the pull requests merged since a release of an active repository.
 */
const PULL_REQUEST_LIMIT = 100;

export interface ReleaseRequest {
  bump: Bump;
  /** An explicit version; the tag prefix may be included (`v1.4.0`). */
  version?: string;
  /** A prerelease identifier: `rc`, `beta`. */
  prerelease?: string;
}

export interface PlanOptions {
  /**
   * The Linear workspace's team keys, when Linear is configured: keys in pull request branches count only
   * for these. Without them, only the teams the commits and pull request texts name count.
   */
  linearTeams?: readonly string[];
}

export interface ReleasePlan {
  releaseName: string;
  repo: string;
  /** The repository's web URL, for links. */
  repoUrl: string;
  branch: string;
  /** The branch head when planned: the commit the tag will point at. */
  targetSha: string;
  /** The tag the commits were read since; undefined for a first release. */
  baseTag?: string;
  /** The highest version tag overall (prereleases included), which the new version exceeds. */
  latestTag?: string;
  version: string;
  tag: string;
  prerelease: boolean;
  /** How the version was chosen: `minor (auto: a feature)`. */
  reason: string;
  /** The commits released, oldest first, reverts cancelled, merges of branches left out. */
  commits: ParsedCommit[];
  /** Markdown for the GitHub release. */
  notes: string;
  linearKeys: string[];
  /** True when GitHub listed fewer commits than the range holds (compare stops at 250). */
  truncated: boolean;
}

export async function planRelease(
  github: GitHubApi,
  release: ReleaseConfig,
  request: ReleaseRequest,
  options: PlanOptions = {},
): Promise<ReleasePlan> {
  const repository = await github.getRepository(release.repo);
  if (!repository) {
    throw new UserError(
      `Repository ${release.repo} (release "${release.name}") was not found, or the configured GitHub token cannot see it: check \`releases\` in the config file and the token's access.`,
    );
  }
  const branch = release.branch ?? repository.defaultBranch;
  const targetSha = await github.resolveRef(release.repo, branch);
  if (!targetSha) {
    throw new UserError(
      `Branch \`${branch}\` does not exist in ${release.repo}: fix \`branch\` of release "${release.name}" in the config file.`,
    );
  }

  const version =
    request.version !== undefined ? stripTagPrefix(request.version, release.tag_prefix) : undefined;
  // A prerelease counts on from the latest tag of any kind; a stable release covers all since the last stable.
  const wantsPrerelease =
    Boolean(request.prerelease?.trim()) || (parseSemVer(version ?? "")?.prerelease.length ?? 0) > 0;
  const tags = await github.listTags(release.repo, TAG_LIMIT);
  const latest = latestVersionTag(tags, release.tag_prefix);
  const latestStable = latestVersionTag(tags, release.tag_prefix, { includePrereleases: false });
  const base = wantsPrerelease ? latest : (latestStable ?? latest);

  const range = await commitsSince(github, release, base?.tag, targetSha);
  const inRange = cancelReverts(range.commits.map(parseCommit)).filter((commit) => commit.type !== "merge");
  if (inRange.length === 0) {
    const where = release.path ? ` touching \`${release.path}\`` : "";
    const since = base ? `since ${base.tag.name}` : "yet";
    throw new UserError(
      `Nothing to release in ${release.name}: no commits${where} on \`${branch}\` ${since}${range.commits.length > 0 ? " (what is there is merges and reverted changes)" : ""}.`,
    );
  }

  const next = nextVersion({
    ...(base ? { base: base.version } : {}),
    ...(latest ? { latest: latest.version } : {}),
    commits: inRange,
    bump: request.bump,
    ...(version !== undefined ? { version } : {}),
    ...(request.prerelease?.trim() ? { prerelease: request.prerelease.trim() } : {}),
    firstVersion: release.first_version,
  });
  const versionText = formatSemVer(next.version);
  const tag = formatVersionTag(next.version, release.tag_prefix);
  if (tags.some((existing) => existing.name === tag)) throw new UserError(tagExists(tag));

  const pulls = await pullRequestsOf(github, release.repo, inRange);
  const commits = inRange.map((commit) => creditPullRequestAuthor(commit, pulls));
  const linearKeys = linearKeysNamed(commits, pulls, options.linearTeams);
  const notesInput: ReleaseNotesInput = {
    repoUrl: repository.url,
    commits,
    sections: release.sections,
    ...(base ? { previousTag: base.tag.name } : {}),
    tag,
    linearKeys,
  };
  return {
    releaseName: release.name,
    repo: release.repo,
    repoUrl: repository.url,
    branch,
    targetSha,
    ...(base ? { baseTag: base.tag.name } : {}),
    ...(latest ? { latestTag: latest.tag.name } : {}),
    version: versionText,
    tag,
    prerelease: isPrerelease(next.version),
    reason: next.reason,
    commits,
    notes: renderReleaseNotes(notesInput),
    linearKeys,
    truncated: range.truncated,
  };
}

/** `v1.4.0` typed where the prefix is `v` means `1.4.0`; anything else is left for validation. */
function stripTagPrefix(version: string, prefix: string): string {
  const text = version.trim();
  if (prefix && text.startsWith(prefix) && parseSemVer(text.slice(prefix.length))) {
    return text.slice(prefix.length);
  }
  return text;
}

async function commitsSince(
  github: GitHubApi,
  release: ReleaseConfig,
  base: GitHubTag | undefined,
  head: string,
): Promise<{ commits: GitHubCommit[]; truncated: boolean }> {
  const touching = release.path
    ? await github.listCommits(release.repo, { sha: head, path: release.path, limit: HISTORY_LIMIT })
    : undefined;
  if (!base) {
    const history = touching ?? (await github.listCommits(release.repo, { sha: head, limit: HISTORY_LIMIT }));
    return { commits: [...history].reverse(), truncated: history.length >= HISTORY_LIMIT };
  }
  const comparison = await github.compareCommits(release.repo, base.sha, head);
  const inRange = comparison.commits;
  const truncated = comparison.aheadBy > inRange.length;
  if (!touching) return { commits: inRange, truncated };
  const shas = new Set(touching.map((commit) => commit.sha));
  return { commits: inRange.filter((commit) => shas.has(commit.sha)), truncated };
}

/**
 * The Linear keys a range of commits names, with those of the pull requests the commits came from: what a
 * deployment of the range ships (ship-notices.ts), as a release preview lists them.
 */
export async function linearKeysOfCommits(
  github: Pick<GitHubApi, "listPullRequests">,
  repo: string,
  commits: readonly GitHubCommit[],
): Promise<string[]> {
  const parsed = commits.map(parseCommit);
  return linearKeysNamed(parsed, await pullRequestsOf(github, repo, parsed), undefined);
}

/** The merged pull requests the commits came from, in the order the commits name them. */
async function pullRequestsOf(
  github: Pick<GitHubApi, "listPullRequests">,
  repo: string,
  commits: readonly ParsedCommit[],
): Promise<GitHubPullRequestSummary[]> {
  const numbers = new Set(commits.flatMap((commit) => (commit.pr !== undefined ? [commit.pr] : [])));
  if (numbers.size === 0) return [];
  const closed = await github.listPullRequests(repo, { state: "closed", limit: PULL_REQUEST_LIMIT });
  return [...numbers].flatMap((number) => closed.filter((pull) => pull.number === number));
}

/**
 * A change is credited to whoever opened its pull request, as GitHub's own release notes do: a merge
 * commit's author is whoever pressed Merge.
 */
function creditPullRequestAuthor(
  commit: ParsedCommit,
  pulls: readonly GitHubPullRequestSummary[],
): ParsedCommit {
  const pull = pulls.find((candidate) => candidate.number === commit.pr);
  return pull ? { ...commit, author: pull.author } : commit;
}

/**
 * The Linear keys the commits name, then those their pull requests name (title, description, branch), first
 * mention first. Squash merges carry the PR title but not its description or branch, where keys often are.
 */
function linearKeysNamed(
  commits: readonly ParsedCommit[],
  pulls: readonly GitHubPullRequestSummary[],
  linearTeams: readonly string[] | undefined,
): string[] {
  const commitKeys = collectLinearKeys(commits);
  // Without the workspace's teams, the teams keys are written out for (in commits, PR titles and descriptions).
  const teams =
    linearTeams ??
    teamsOf([
      ...commitKeys,
      ...pulls.flatMap((pull) => pullRequestLinearKeys({ ...pull, headBranch: "" }, [])),
    ]);
  const pullKeys = pulls.flatMap((pull) => pullRequestLinearKeys(pull, teams));
  return [...new Set([...commitKeys, ...pullKeys])];
}

/** `ENG-12` -> `ENG`. */
function teamsOf(keys: readonly string[]): string[] {
  return keys.map((key) => key.slice(0, key.lastIndexOf("-")));
}

function tagExists(tag: string): string {
  return `Tag ${tag} already exists: choose another version (run /release preview again, or give \`version\`).`;
}

/** What Confirm needs from the preview it confirms. */
export interface PinnedRelease {
  repo: string;
  branch: string;
  version: string;
  tag: string;
  targetSha: string;
  /** The tag the preview compared against; null or undefined for a first release. */
  baseTag?: string | null;
}

export type ConfirmCheck =
  | { confirmable: true }
  | {
      confirmable: false;
      reason: string;
      /** The branch moved: a fresh preview fixes it. */
      branchMoved: boolean;
    };

/**
 * Re-checks a preview against GitHub right before publishing it. Refuses, with the reason, when the version
 * is not valid SemVer, the tag exists, the version is no longer greater than the latest tag, there is nothing
 * to release, or the branch moved since the preview.
 */
export async function checkReleaseConfirmable(
  github: GitHubApi,
  pinned: PinnedRelease,
): Promise<ConfirmCheck> {
  const refuse = (reason: string, branchMoved = false): ConfirmCheck => ({
    confirmable: false,
    reason,
    branchMoved,
  });
  const version = parseSemVer(pinned.version);
  if (!version || !pinned.tag.endsWith(pinned.version)) {
    return refuse(`${pinned.version} is not a valid SemVer version: run /release preview again.`);
  }
  const prefix = pinned.tag.slice(0, pinned.tag.length - pinned.version.length);

  const tags = await github.listTags(pinned.repo, TAG_LIMIT);
  if (
    tags.some((tag) => tag.name === pinned.tag) ||
    (await github.getReleaseByTag(pinned.repo, pinned.tag))
  ) {
    return refuse(tagExists(pinned.tag));
  }
  const latest = latestVersionTag(tags, prefix);
  if (latest && compareSemVer(version, latest.version) <= 0) {
    return refuse(
      `Version ${pinned.version} is not greater than the latest release ${latest.tag.name} (tagged since the preview): run /release preview again.`,
    );
  }
  const base = pinned.baseTag ? tags.find((tag) => tag.name === pinned.baseTag) : undefined;
  if (base) {
    const comparison = await github.compareCommits(pinned.repo, base.sha, pinned.targetSha);
    if (comparison.aheadBy === 0) {
      return refuse(`Nothing to release: ${pinned.targetSha.slice(0, 7)} adds nothing to ${base.name}.`);
    }
  }
  const head = await github.resolveRef(pinned.repo, pinned.branch);
  if (head !== pinned.targetSha) {
    const now = head ? `is now at \`${head.slice(0, 7)}\`` : "no longer exists";
    return refuse(
      `\`${pinned.branch}\` moved since the preview (it pinned \`${pinned.targetSha.slice(0, 7)}\` and ${now}): the notes may miss changes. Ask for a new preview.`,
      true,
    );
  }
  return { confirmable: true };
}
