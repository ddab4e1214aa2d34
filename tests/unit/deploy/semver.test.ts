import { describe, expect, it } from "vitest";
import {
  compareSemVer,
  formatSemVer,
  latestVersionTag,
  parseSemVer,
  parseVersionTag,
} from "../../../src/deploy/semver.js";

const v = (text: string) => {
  const parsed = parseSemVer(text);
  if (!parsed) throw new Error(`not semver: ${text}`);
  return parsed;
};

describe("parseSemVer", () => {
  it("reads core, prerelease and build parts", () => {
    expect(parseSemVer("1.2.3-rc.1+build.5")).toEqual({
      major: 1,
      minor: 2,
      patch: 3,
      prerelease: ["rc", "1"],
      build: ["build", "5"],
    });
  });

  it.each([
    "1.2",
    "1.2.3.4",
    "v1.2.3",
    "01.2.3",
    "1.02.3",
    "1.2.3-01",
    "1.2.3-",
    "1.2.3+",
    "1.2.3-rc..1",
    " 1.2.3",
    "",
    "1.2.3-rc_1",
  ])("refuses %j", (text) => expect(parseSemVer(text)).toBeUndefined());

  it("accepts a zero prerelease identifier and hyphens", () => {
    expect(parseSemVer("1.0.0-0.x-y.z")?.prerelease).toEqual(["0", "x-y", "z"]);
  });

  it("formats back what it parsed", () => {
    for (const text of ["0.0.0", "1.2.3-alpha.1", "10.20.30+meta", "1.0.0-rc.1+sha.abc"]) {
      expect(formatSemVer(v(text))).toBe(text);
    }
  });

  it("refuses numbers too large to compare exactly", () => {
    expect(parseSemVer("9007199254740993.0.0")).toBeUndefined();
  });
});

describe("compareSemVer", () => {
  it("orders the spec's example chain", () => {
    const chain = [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "1.0.1",
      "1.1.0",
      "2.0.0",
      "10.0.0",
    ];
    for (let i = 0; i + 1 < chain.length; i++) {
      expect(compareSemVer(v(chain[i]!), v(chain[i + 1]!))).toBeLessThan(0);
      expect(compareSemVer(v(chain[i + 1]!), v(chain[i]!))).toBeGreaterThan(0);
    }
  });

  it("ignores build metadata", () => {
    expect(compareSemVer(v("1.0.0+a"), v("1.0.0+b"))).toBe(0);
  });

  it("compares numeric identifiers as numbers, even very long ones", () => {
    expect(compareSemVer(v("1.0.0-rc.10"), v("1.0.0-rc.9"))).toBeGreaterThan(0);
    expect(compareSemVer(v("1.0.0-99999999999999999999"), v("1.0.0-99999999999999999998"))).toBeGreaterThan(
      0,
    );
  });
});

describe("parseVersionTag", () => {
  it("reads tags with their prefix", () => {
    expect(parseVersionTag("v1.2.3", "v")).toEqual(v("1.2.3"));
    expect(parseVersionTag("sdk-v1.2.3", "sdk-v")).toEqual(v("1.2.3"));
    expect(parseVersionTag("1.2.3", "")).toEqual(v("1.2.3"));
  });

  it("does not take another package's tags", () => {
    expect(parseVersionTag("sdk-v1.2.3", "v")).toBeUndefined();
    expect(parseVersionTag("v1.2.3", "sdk-v")).toBeUndefined();
    expect(parseVersionTag("sdk-v1.2.3", "")).toBeUndefined();
    expect(parseVersionTag("release-2024", "v")).toBeUndefined();
  });
});

describe("latestVersionTag", () => {
  const tags = ["v1.9.0", "v1.10.0", "v1.10.1-rc.1", "sdk-v9.0.0", "nightly", "v2.0"].map((name) => ({
    name,
    sha: `sha-${name}`,
  }));

  it("picks by precedence, not list order", () => {
    expect(latestVersionTag(tags, "v")?.tag.name).toBe("v1.10.1-rc.1");
  });

  it("can skip prereleases", () => {
    expect(latestVersionTag(tags, "v", { includePrereleases: false })?.tag.name).toBe("v1.10.0");
  });

  it("keeps packages of a monorepo apart", () => {
    expect(latestVersionTag(tags, "sdk-v")?.tag.name).toBe("sdk-v9.0.0");
    expect(latestVersionTag(tags, "api-v")).toBeUndefined();
  });

  it("answers undefined without tags", () => {
    expect(latestVersionTag([], "v")).toBeUndefined();
  });
});
