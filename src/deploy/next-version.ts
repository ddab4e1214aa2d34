/**
 * Which version a release gets. Pure: no I/O.
 *
 * `bump: auto` reads the commits (Conventional Commits, reverts cancelled):
 * - from 1.0.0 on: a breaking change -> major, a `feat` -> minor, anything else -> patch;
 * - before 1.0.0 (0.x, where SemVer says anything may change): a breaking change -> minor, anything else ->
 *   patch. Leaving 0.x is a decision, never a side effect: 1.0.0 comes only from an explicit `bump: major`
 *   or `version: 1.0.0`.
 * `bump: major|minor|patch` applies as asked, on 0.x too (`major` on 0.4.2 gives 1.0.0).
 * `version` gives the version outright; it must be strict SemVer and greater than the latest tag.
 * `prerelease: rc` makes a prerelease of the version that would come next: `1.3.0-rc.1`, then `1.3.0-rc.2`
 * while the latest is already an `rc` of 1.3.0. A stable release after prereleases is their core version
 * (1.3.0 after 1.3.0-rc.2), unless the commits ask for more.
 * With no tag at all, the first version is the configured `first_version` (default 0.1.0), whatever the bump.
 */
import { UserError } from "../errors.js";
import type { ParsedCommit } from "./conventional-commits.js";
import type { SemVer } from "./semver.js";
import { compareSemVer, coreVersion, formatSemVer, isPrerelease, parseSemVer } from "./semver.js";

export const BUMPS = ["auto", "major", "minor", "patch"] as const;
export type Bump = (typeof BUMPS)[number];
export type BumpLevel = "major" | "minor" | "patch";

export interface NextVersionInput {
  /**
   * The version the commits were read since: for a stable release the latest stable tag (or the latest
   * prerelease when there is no stable one), for a prerelease the latest tag of any kind. Undefined: no tag.
   */
  base?: SemVer;
  /** The highest version among all tags, prereleases included: the new version must exceed it. */
  latest?: SemVer;
  /** The commits since `base`, reverts already cancelled (see cancelReverts), merges included or not. */
  commits: readonly ParsedCommit[];
  bump: Bump;
  /** An explicit version, as the user typed it (without the tag prefix). */
  version?: string;
  /** A prerelease identifier such as `rc` or `beta`. */
  prerelease?: string;
  /** The configured first version, used when there is no tag. */
  firstVersion: string;
}

export interface NextVersion {
  version: SemVer;
  /** How it was chosen, for the preview: `minor (auto: a feature)`, `explicit`, `first release`. */
  reason: string;
}

// A prerelease identifier users may pass: one alphanumeric identifier (`rc`, `beta`, `alpha`, `next`).
const PRERELEASE_ID = /^[0-9A-Za-z-]*[A-Za-z-][0-9A-Za-z-]*$/;

export function nextVersion(input: NextVersionInput): NextVersion {
  const prerelease = input.prerelease?.trim() || undefined;
  if (prerelease !== undefined && !PRERELEASE_ID.test(prerelease)) {
    throw new UserError(
      `\`${prerelease}\` is not a prerelease identifier: use letters, digits and hyphens with at least one letter, e.g. rc or beta.`,
    );
  }
  if (input.version !== undefined) return explicitVersion(input.version, prerelease, input.latest);

  if (!input.base) {
    const first = parseSemVer(input.firstVersion);
    if (!first) throw new UserError(`first_version ${input.firstVersion} in the config file is not SemVer.`);
    const version = prerelease ? withPrerelease(first, prerelease, input.latest) : first;
    return checkGreater({ version, reason: "first release (no version tag yet)" }, input.latest);
  }

  const { level, why } =
    input.bump === "auto"
      ? autoLevel(input.commits, input.base)
      : { level: input.bump, why: `${input.bump} (asked)` };
  let core = bumpCore(input.base, level);
  // A stable release after prereleases of a higher version (2.0.0-rc.1 cut with bump: major) is that version.
  if (!prerelease && input.latest && isPrerelease(input.latest)) {
    const latestCore = coreVersion(input.latest);
    if (compareSemVer(latestCore, core) > 0) core = latestCore;
  }
  const version = prerelease ? withPrerelease(core, prerelease, input.latest) : core;
  return checkGreater({ version, reason: why }, input.latest);
}

/** The bump level the commits call for; on 0.x, one step lower and never past 0.x (see the file comment). */
export function autoLevel(commits: readonly ParsedCommit[], base: SemVer): { level: BumpLevel; why: string } {
  const breaking = commits.some((commit) => commit.breaking);
  const feature = commits.some((commit) => commit.type === "feat");
  if (base.major === 0) {
    if (breaking) return { level: "minor", why: "minor (auto, 0.x: a breaking change)" };
    return { level: "patch", why: `patch (auto, 0.x: ${feature ? "features and fixes" : "fixes"})` };
  }
  if (breaking) return { level: "major", why: "major (auto: a breaking change)" };
  if (feature) return { level: "minor", why: "minor (auto: a feature)" };
  return { level: "patch", why: "patch (auto: no feature or breaking change)" };
}

/**
 * The next core version at `level`. From a prerelease, the step that its core version already makes
 * counts (as npm's `semver.inc` does): 1.3.0-rc.2 + minor is 1.3.0, + patch is 1.3.0, + major is 2.0.0.
 */
export function bumpCore(from: SemVer, level: BumpLevel): SemVer {
  const { major, minor, patch } = from;
  const make = (a: number, b: number, c: number): SemVer => ({
    major: a,
    minor: b,
    patch: c,
    prerelease: [],
    build: [],
  });
  if (isPrerelease(from)) {
    if (level === "major" && minor === 0 && patch === 0) return make(major, 0, 0);
    if (level === "minor" && patch === 0) return make(major, minor, 0);
    if (level === "patch") return make(major, minor, patch);
  }
  if (level === "major") return make(major + 1, 0, 0);
  if (level === "minor") return make(major, minor + 1, 0);
  return make(major, minor, patch + 1);
}

/**
 * `core-<id>.N`: N is one more than the latest's when the latest is already `core-<id>.M`, else 1.
 */
function withPrerelease(core: SemVer, id: string, latest: SemVer | undefined): SemVer {
  let counter = 1;
  if (latest && compareSemVer(coreVersion(latest), core) === 0 && latest.prerelease[0] === id) {
    const previous = latest.prerelease[1];
    counter = previous !== undefined && /^\d+$/.test(previous) ? Number(previous) + 1 : 1;
    if (latest.prerelease.length === 1) counter = 1; // `1.3.0-rc` then `1.3.0-rc.1`: rc.1 sorts higher
  }
  return { ...coreVersion(core), prerelease: [id, String(counter)] };
}

function explicitVersion(
  text: string,
  prerelease: string | undefined,
  latest: SemVer | undefined,
): NextVersion {
  const parsed = parseSemVer(text.trim());
  if (!parsed) {
    throw new UserError(
      `\`${text.trim()}\` is not a valid SemVer version: give MAJOR.MINOR.PATCH such as 1.4.0 or 2.0.0-rc.1 (no leading zeros, no prefix).`,
    );
  }
  const version = prerelease && !isPrerelease(parsed) ? withPrerelease(parsed, prerelease, latest) : parsed;
  return checkGreater({ version, reason: "explicit" }, latest);
}

function checkGreater(next: NextVersion, latest: SemVer | undefined): NextVersion {
  if (latest && compareSemVer(next.version, latest) <= 0) {
    throw new UserError(
      `Version ${formatSemVer(next.version)} is not greater than the latest release ${formatSemVer(latest)}: choose a higher version.`,
    );
  }
  return next;
}
