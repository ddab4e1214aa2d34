#!/usr/bin/env node
/* global process, console, setTimeout, fetch */
/**
 * `npm run docker:smoke`: the Dockerfile's steps, reproduced on this host (no Docker engine needed). In a
 * temporary directory it copies what the image copies, runs `npm ci`, builds, prunes dev dependencies,
 * starts the project's own `pm2-runtime ecosystem.config.js` with the image's environment (private
 * PM2_HOME), runs the image's HEALTHCHECK command until it passes, and stops it again.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const work = mkdtempSync(join(tmpdir(), "switchboard-docker-smoke-"));
const started = Date.now();
const step = (message) =>
  console.log(`[docker:smoke ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
let runtime;

function cleanUp() {
  if (runtime && runtime.exitCode === null) runtime.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}
process.once("exit", cleanUp);

/** The HEALTHCHECK command of the Dockerfile, so the probe here is the image's probe. */
function healthcheckCommand() {
  const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8").replace(/\\\r?\n/g, " ");
  const line = dockerfile.split(/\r?\n/).find((l) => l.trim().startsWith("HEALTHCHECK"));
  const json = /CMD (\[.*\])\s*$/.exec(line ?? "")?.[1];
  if (!json) throw new Error("The Dockerfile has no exec-form HEALTHCHECK CMD.");
  return JSON.parse(json);
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function run(command, args, env = process.env) {
  execFileSync(command, args, { cwd: work, stdio: ["ignore", "inherit", "inherit"], env });
}

try {
  // What the Dockerfile COPYs; .dockerignore keeps the rest (secrets, data, node_modules, .git) out.
  for (const entry of [
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "tsconfig.build.json",
    "src",
    "ecosystem.config.js",
  ]) {
    cpSync(join(root, entry), join(work, entry), { recursive: true });
  }
  step(`copied the build context to ${work}`);
  run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
  step("npm ci done");
  run("npm", ["run", "build", "--silent"]);
  step("build done");
  run("npm", ["prune", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"]);
  if (existsSync(join(work, "node_modules", "typescript")))
    throw new Error("npm prune left dev dependencies behind.");
  if (!existsSync(join(work, "node_modules", ".bin", "pm2-runtime")))
    throw new Error("pm2-runtime is missing after prune.");
  step("dev dependencies pruned; pm2-runtime present");

  const port = await freePort();
  const env = {
    PATH: `${join(work, "node_modules", ".bin")}:${process.env.PATH}`,
    HOME: work,
    NODE_ENV: "production",
    // The image listens on 0.0.0.0; on a shared host the smoke test stays on loopback.
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: `sqlite:${join(work, "data", "switchboard.db")}`,
    PM2_HOME: join(work, ".pm2"),
    SWITCHBOARD_PM2_MODE: "single",
    LOG_LEVEL: "warn",
  };
  runtime = spawn(join(work, "node_modules", ".bin", "pm2-runtime"), ["ecosystem.config.js"], {
    cwd: work,
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  step(`pm2-runtime started (pid ${runtime.pid}) on port ${port}`);

  const [probe, ...probeArgs] = healthcheckCommand();
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      execFileSync(probe, probeArgs, { env, stdio: "ignore", timeout: 5000 });
      break;
    } catch {
      if (runtime.exitCode !== null) throw new Error(`pm2-runtime exited with ${runtime.exitCode}.`);
      if (Date.now() > deadline) throw new Error("The HEALTHCHECK did not pass within 60 s.");
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  step("HEALTHCHECK passed: /healthz answers 200");

  // The pruned image still serves everything a user reaches over HTTP: readiness, metrics, the status page.
  for (const path of ["/readyz", "/metrics", "/status", "/api/deployments"]) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}, not 200.`);
  }
  step("/readyz, /metrics, /status and /api/deployments answer 200");

  const exited = new Promise((resolve) => runtime.once("exit", (code, signal) => resolve({ code, signal })));
  runtime.kill("SIGINT");
  const exit = await Promise.race([
    exited,
    new Promise((resolve) => setTimeout(() => resolve("timeout"), 30_000)),
  ]);
  if (exit === "timeout") throw new Error("pm2-runtime did not stop within 30 s of SIGINT.");
  step(`stopped (${JSON.stringify(exit)}); docker:smoke passed`);
} catch (error) {
  console.error(`docker:smoke failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
