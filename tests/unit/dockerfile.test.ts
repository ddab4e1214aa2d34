/**
 * The production image's promises, read from the Dockerfile itself: a pinned LTS base, a clean install and
 * build, no dev dependencies at runtime, an unprivileged user, a health check without curl, PM2 as the entry,
 * and a build context that never carries secrets, data or dependencies.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/child-switchboard.js";

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions in order, continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, " ");
  return joined
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(" ") };
    });
}

const instructions = parseDockerfile(readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8"));
const stages = instructions.reduce<Instruction[][]>((all, instruction) => {
  if (instruction.keyword === "FROM") all.push([]);
  all.at(-1)?.push(instruction);
  return all;
}, []);
const runtime = stages.at(-1)!;
const ignored = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8")
  .split(/\r?\n/)
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"));

describe("Dockerfile", () => {
  it("builds in several stages from an exact Node LTS slim tag", () => {
    const bases = instructions.filter((i) => i.keyword === "FROM").map((i) => i.args.split(/\s+/)[0]!);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const base of bases) {
      expect(base).toMatch(/^node:(\d+)\.\d+\.\d+-(bookworm|trixie)-slim$/);
      const major = Number(/^node:(\d+)/.exec(base)![1]);
      // LTS lines are the even majors.
      expect(major % 2).toBe(0);
      expect(major).toBeGreaterThanOrEqual(22);
    }
  });

  it("installs with npm ci, builds, and prunes dev dependencies before the runtime stage copies them", () => {
    const runs = stages[0]!.filter((i) => i.keyword === "RUN").map((i) => i.args);
    const ci = runs.findIndex((run) => /\bnpm ci\b/.test(run));
    const build = runs.findIndex((run) => /\bnpm run build\b/.test(run));
    const prune = runs.findIndex((run) => /\bnpm prune --omit=dev\b/.test(run));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(build).toBeGreaterThanOrEqual(ci);
    expect(prune).toBeGreaterThanOrEqual(build);
    const copies = runtime.filter((i) => i.keyword === "COPY").map((i) => i.args);
    expect(copies.some((copy) => /--from=build\b.*node_modules/.test(copy))).toBe(true);
    expect(runtime.some((i) => i.keyword === "RUN" && /npm (ci|install)/.test(i.args))).toBe(false);
  });

  it("runs as a non-root user", () => {
    const users = runtime.filter((i) => i.keyword === "USER").map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it("listens on every interface and checks /healthz with node, not curl", () => {
    expect(runtime.some((i) => i.keyword === "ENV" && /\bHOST=0\.0\.0\.0\b/.test(i.args))).toBe(true);
    const healthcheck = runtime.find((i) => i.keyword === "HEALTHCHECK")?.args ?? "";
    expect(healthcheck).toContain("/healthz");
    expect(healthcheck).toMatch(/CMD \["node", "-e"/);
    expect(healthcheck).not.toMatch(/curl|wget/);
  });

  it("starts under pm2-runtime with the project's ecosystem file", () => {
    const cmd = runtime.filter((i) => i.keyword === "CMD").at(-1)?.args;
    expect(cmd).toBe('["pm2-runtime", "ecosystem.config.js"]');
    expect(runtime.some((i) => i.keyword === "COPY" && i.args.includes("ecosystem.config.js"))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    // pm2-runtime must survive `npm prune --omit=dev`.
    expect(pkg.dependencies.pm2).toMatch(/^\^7\./);
  });

  it("keeps secrets, data, dependencies and history out of the build context", () => {
    for (const pattern of [".env", ".env.*", "data/", "node_modules/", ".git/"]) {
      expect(ignored, pattern).toContain(pattern);
    }
  });
});
