import { describe, expect, it } from "vitest";
import { cancelReverts, parseCommit } from "../../../src/deploy/conventional-commits.js";
import { nextVersion, type NextVersionInput } from "../../../src/deploy/next-version.js";
import { formatSemVer, parseSemVer } from "../../../src/deploy/semver.js";
import { UserError } from "../../../src/errors.js";

let counter = 0;
const commits = (...messages: string[]) =>
  cancelReverts(
    messages.map((message) => {
      counter += 1;
      const sha = counter.toString(16).padStart(40, "0");
      return parseCommit({ sha, message, authorName: "A", url: `u/${sha}`, parents: 1 });
    }),
  );
const v = (text: string) => parseSemVer(text)!;

function next(
  input: Omit<Partial<NextVersionInput>, "base" | "latest"> & { from?: string; latest?: string },
): string {
  const { from, latest, ...rest } = input;
  const base = from !== undefined ? v(from) : undefined;
  const latestVersion = latest !== undefined ? v(latest) : base;
  return formatSemVer(
    nextVersion({
      commits: [],
      bump: "auto",
      firstVersion: "0.1.0",
      ...(base ? { base } : {}),
      ...(latestVersion ? { latest: latestVersion } : {}),
      ...rest,
    }).version,
  );
}

describe("nextVersion, auto from 1.x", () => {
  it("bumps major for a breaking change, in the header or a footer", () => {
    expect(next({ from: "1.2.3", commits: commits("feat!: x") })).toBe("2.0.0");
    expect(next({ from: "1.2.3", commits: commits("fix: y\n\nBREAKING CHANGE: gone") })).toBe("2.0.0");
  });

  it("bumps minor for a feature and patch otherwise", () => {
    expect(next({ from: "1.2.3", commits: commits("fix: a", "feat(ui): b") })).toBe("1.3.0");
    expect(next({ from: "1.2.3", commits: commits("fix: a", "chore: b", "Update README") })).toBe("1.2.4");
  });

  it("lets a feature and its revert cancel out", () => {
    const feature = commits("feat: x")[0]!;
    const revert = commits(`Revert "feat: x"\n\nThis reverts commit ${feature.sha}.`)[0]!;
    const fix = commits("fix: y")[0]!;
    expect(next({ from: "1.2.3", commits: cancelReverts([feature, fix, revert]) })).toBe("1.2.4");
  });
});

describe("nextVersion on 0.x", () => {
  it("takes breaking changes to minor and everything else to patch", () => {
    expect(next({ from: "0.4.2", commits: commits("feat!: x") })).toBe("0.5.0");
    expect(next({ from: "0.4.2", commits: commits("feat: x") })).toBe("0.4.3");
    expect(next({ from: "0.4.2", commits: commits("fix: x") })).toBe("0.4.3");
  });

  it("reaches 1.0.0 only when asked", () => {
    expect(next({ from: "0.4.2", bump: "major" })).toBe("1.0.0");
    expect(next({ from: "0.4.2", version: "1.0.0" })).toBe("1.0.0");
  });

  it("applies an explicit bump as asked", () => {
    expect(next({ from: "0.4.2", bump: "minor", commits: commits("fix: x") })).toBe("0.5.0");
    expect(next({ from: "1.4.2", bump: "patch", commits: commits("feat!: x") })).toBe("1.4.3");
  });
});

describe("nextVersion without a tag", () => {
  it("proposes the configured first version, whatever the commits", () => {
    expect(next({ commits: commits("feat!: x") })).toBe("0.1.0");
    expect(next({ firstVersion: "1.0.0", bump: "minor" })).toBe("1.0.0");
  });

  it("makes the first version a prerelease when asked", () => {
    expect(next({ prerelease: "beta" })).toBe("0.1.0-beta.1");
  });

  it("takes an explicit version", () => {
    expect(next({ version: "3.0.0" })).toBe("3.0.0");
  });
});

describe("nextVersion with prereleases", () => {
  it("starts a prerelease of the next version", () => {
    expect(next({ from: "1.2.3", prerelease: "rc", commits: commits("feat: x") })).toBe("1.3.0-rc.1");
  });

  it("counts up while the latest is a prerelease of the same version", () => {
    expect(next({ from: "1.3.0-rc.1", prerelease: "rc", commits: commits("fix: x") })).toBe("1.3.0-rc.2");
    expect(next({ from: "1.3.0-rc.9", prerelease: "rc", commits: commits("feat: x") })).toBe("1.3.0-rc.10");
  });

  it("moves to a new prerelease line when the commits need a bigger version", () => {
    expect(next({ from: "1.3.0-rc.2", prerelease: "rc", commits: commits("feat!: x") })).toBe("2.0.0-rc.1");
    expect(next({ from: "1.2.4-rc.1", prerelease: "rc", commits: commits("feat: x") })).toBe("1.3.0-rc.1");
  });

  it("switches identifiers when the new one sorts higher", () => {
    expect(next({ from: "1.3.0-beta.3", prerelease: "rc", commits: commits("fix: x") })).toBe("1.3.0-rc.1");
  });

  it("refuses an identifier that would sort below the latest prerelease", () => {
    expect(() => next({ from: "1.3.0-rc.1", prerelease: "beta", commits: commits("fix: x") })).toThrow(
      /not greater than the latest release 1.3.0-rc.1/,
    );
  });

  it("releases the core version after prereleases", () => {
    // Stable releases read commits since the latest stable tag; the latest tag overall is the prerelease.
    expect(next({ from: "1.2.3", latest: "1.3.0-rc.2", commits: commits("feat: x") })).toBe("1.3.0");
    expect(next({ from: "1.2.3", latest: "2.0.0-rc.1", commits: commits("fix: x") })).toBe("2.0.0");
    expect(next({ from: "1.3.0-rc.2", commits: commits("fix: x") })).toBe("1.3.0");
  });

  it("refuses an identifier that is not one", () => {
    expect(() => next({ from: "1.2.3", prerelease: "rc.1" })).toThrow(UserError);
    expect(() => next({ from: "1.2.3", prerelease: "01" })).toThrow(/not a prerelease identifier/);
  });

  it("adds the identifier to an explicit stable version", () => {
    expect(next({ from: "1.2.3", version: "2.0.0", prerelease: "rc" })).toBe("2.0.0-rc.1");
  });
});

describe("nextVersion with an explicit version", () => {
  it("refuses what is not SemVer", () => {
    for (const version of ["1.2", "v1.3.0", "1.3.0.0", "01.3.0", "latest"]) {
      expect(() => next({ from: "1.2.3", version })).toThrow(/is not a valid SemVer version/);
    }
  });

  it("refuses a version not greater than the latest", () => {
    expect(() => next({ from: "1.2.3", version: "1.2.3" })).toThrow(
      /not greater than the latest release 1.2.3/,
    );
    expect(() => next({ from: "1.2.3", version: "1.2.3-rc.1" })).toThrow(UserError);
    expect(() => next({ from: "1.2.3", latest: "1.3.0-rc.1", version: "1.3.0-beta.1" })).toThrow(UserError);
  });

  it("accepts prerelease and build parts", () => {
    expect(next({ from: "1.2.3", version: "1.3.0-rc.1+exp.sha.5114f85" })).toBe("1.3.0-rc.1+exp.sha.5114f85");
  });
});
