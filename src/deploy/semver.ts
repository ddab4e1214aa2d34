/**
 * Semantic Versioning 2.0.0 (https://semver.org/spec/v2.0.0.html), strict: `1.2.3`, `1.2.3-rc.1`,
 * `1.2.3+build.5`; no `v`, no leading zeros, no missing parts. Tags carry a prefix (`v1.2.3`, `sdk-v1.2.3`)
 * that belongs to the release configuration, not to the version. Pure: no I/O.
 */

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated identifiers after `-`: `["rc", "1"]`; empty for a stable version. */
  prerelease: string[];
  /** Identifiers after `+`; ignored by precedence. */
  build: string[];
}

// The regular expression semver.org suggests, anchored; numeric identifiers have no leading zeros.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** The version `text` spells, or undefined when it is not strict SemVer 2.0.0. */
export function parseSemVer(text: string): SemVer | undefined {
  const match = SEMVER.exec(text);
  if (!match) return undefined;
  const [major, minor, patch] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  // Larger numbers would lose precision and compare wrongly; no real project gets there.
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  return {
    major,
    minor,
    patch,
    prerelease: match[4] ? match[4].split(".") : [],
    build: match[5] ? match[5].split(".") : [],
  };
}

export function formatSemVer(version: SemVer): string {
  const core = `${version.major}.${version.minor}.${version.patch}`;
  const pre = version.prerelease.length > 0 ? `-${version.prerelease.join(".")}` : "";
  const build = version.build.length > 0 ? `+${version.build.join(".")}` : "";
  return core + pre + build;
}

export function isPrerelease(version: SemVer): boolean {
  return version.prerelease.length > 0;
}

/** The version without prerelease and build: `1.3.0-rc.2` -> `1.3.0`. */
export function coreVersion(version: SemVer): SemVer {
  return { major: version.major, minor: version.minor, patch: version.patch, prerelease: [], build: [] };
}

/**
 * SemVer precedence (spec item 11): negative when a < b, 0 when equal, positive when a > b. Build metadata
 * does not count; a prerelease is lower than its stable version; numeric identifiers compare as numbers and
 * rank below alphanumeric ones; a longer identifier list wins when all shared ones are equal.
 */
export function compareSemVer(a: SemVer, b: SemVer): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return Math.sign(core);
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    return b.prerelease.length - a.prerelease.length === 0 ? 0 : a.prerelease.length === 0 ? 1 : -1;
  }
  const shared = Math.min(a.prerelease.length, b.prerelease.length);
  for (let index = 0; index < shared; index += 1) {
    const order = compareIdentifiers(a.prerelease[index] ?? "", b.prerelease[index] ?? "");
    if (order !== 0) return order;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

const NUMERIC = /^\d+$/;

function compareIdentifiers(a: string, b: string): number {
  const aNumeric = NUMERIC.test(a);
  const bNumeric = NUMERIC.test(b);
  if (aNumeric && bNumeric) {
    // Compared as digit strings (no leading zeros, so longer is larger) to stay exact past 2^53.
    return Math.sign(a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0);
  }
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0; // ASCII order, as the spec says
}

/**
 * The version a tag names under `prefix` (`v1.2.3` with prefix `v`), or undefined when the tag does not
 * start with the prefix or the rest is not strict SemVer: with prefix `v`, `sdk-v1.2.3` is another
 * package's tag and does not match; with prefix `sdk-v`, `v1.2.3` does not either.
 */
export function parseVersionTag(tag: string, prefix: string): SemVer | undefined {
  if (!tag.startsWith(prefix)) return undefined;
  return parseSemVer(tag.slice(prefix.length));
}

export function formatVersionTag(version: SemVer, prefix: string): string {
  return prefix + formatSemVer(version);
}

export interface VersionTag<T> {
  tag: T;
  version: SemVer;
}

/**
 * The tag with the highest version under `prefix`, by SemVer precedence (not by list order: GitHub lists
 * tags by name, and `v1.10.0` sorts before `v1.9.0`). Tags of other packages and non-version tags are
 * ignored. `includePrereleases: false` skips `1.3.0-rc.1` and the like.
 */
export function latestVersionTag<T extends { name: string }>(
  tags: readonly T[],
  prefix: string,
  options: { includePrereleases?: boolean } = {},
): VersionTag<T> | undefined {
  const includePrereleases = options.includePrereleases ?? true;
  let latest: VersionTag<T> | undefined;
  for (const tag of tags) {
    const version = parseVersionTag(tag.name, prefix);
    if (!version || (!includePrereleases && isPrerelease(version))) continue;
    if (!latest || compareSemVer(version, latest.version) > 0) latest = { tag, version };
  }
  return latest;
}
