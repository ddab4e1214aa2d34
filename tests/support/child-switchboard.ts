/**
 * Runs the built CLI (`node dist/cli.js ...`) as a real child process, the way an operator or PM2 would: start
 * an instance with a given environment, wait until it answers /healthz, kill it (gracefully or not), and keep
 * everything it wrote to stdout and stderr. Used by the crash, benchmark and PM2 tests.
 *
 * Children get a clean environment (PATH plus what the test passes), never the test runner's own, so a
 * developer's shell variables cannot change what is being tested.
 */
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitUntil } from "./wait-until.js";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI_PATH = join(REPO_ROOT, "dist", "cli.js");

export type ChildEnv = Record<string, string | undefined>;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildSwitchboard {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  pid: number;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited, however that happened. */
  exited: Promise<ChildExit>;
  /** Send `signal` (SIGKILL by default) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<ChildExit>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<ChildExit>;
}

/** Children still running, killed by pid when the test process exits so a failed test leaves no orphan. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) if (child.pid !== undefined) child.kill("SIGKILL");
});

/**
 * `npm test` builds first. A test file run on its own may find dist/ missing, or older than src/ (and then the
 * child would run other code than the in-process harness, on the same database): build then. Test files run
 * in parallel, so one builds while the others wait for it.
 */
export async function ensureBuilt(): Promise<void> {
  if (!distIsStale()) return;
  const lock = join(
    tmpdir(),
    `switchboard-build-${createHash("sha1").update(REPO_ROOT).digest("hex").slice(0, 12)}.lock`,
  );
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Held by another test file; a holder that died leaves it behind, so an old one is broken.
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 120_000) {
        rmSync(lock, { recursive: true, force: true });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    if (distIsStale())
      execFileSync("npm", ["run", "build", "--silent"], { cwd: REPO_ROOT, stdio: "inherit" });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function distIsStale(): boolean {
  const built = statSync(CLI_PATH, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return true;
  const sources = readdirSync(join(REPO_ROOT, "src"), { recursive: true, withFileTypes: true });
  return sources.some(
    (entry) => entry.isFile() && statSync(join(entry.parentPath, entry.name)).mtimeMs > built,
  );
}

/** A loopback port that was free a moment ago (the OS picks it; the listener is closed again at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Where API calls go unless a test points them at a fake (here and in the in-process harness): a closed
 * loopback port, so a forgotten override fails fast on this machine instead of reaching the internet.
 */
export const UNREACHABLE_API_URL = "http://127.0.0.1:9";

/**
 * The environment a child sees: enough to run node, API URLs that cannot leave the machine, then the
 * test's variables (undefined ones dropped).
 */
function childEnvironment(env: ChildEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    DISCORD_API_URL: UNREACHABLE_API_URL,
    GITHUB_API_URL: UNREACHABLE_API_URL,
    LINEAR_API_URL: UNREACHABLE_API_URL,
  };
  if (process.env.HOME) base.HOME = process.env.HOME;
  for (const [name, value] of Object.entries(env)) if (value !== undefined) base[name] = value;
  return base;
}

/**
 * Start `node dist/cli.js start [args]` on a free port (unless `env.PORT` is given) and resolve once
 * /healthz answers 200. Rejects, with what the child printed, if it exits or is not healthy in time.
 */
export async function startChildSwitchboard(
  options: { env: ChildEnv; args?: string[]; readyTimeoutMs?: number } = { env: {} },
): Promise<ChildSwitchboard> {
  const port = options.env.PORT ? Number(options.env.PORT) : await freePort();
  const env = childEnvironment({ HOST: "127.0.0.1", ...options.env, PORT: String(port) });
  const child = spawn(process.execPath, [CLI_PATH, "start", ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<ChildExit>((resolve) => {
    child.once("close", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const url = `http://127.0.0.1:${port}`;
  let healthy = false;
  const healthyOrExited = async () => {
    if (hasExited) return true;
    healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })
      .then((response) => response.status === 200)
      .catch(() => false);
    return healthy;
  };
  try {
    await waitUntil(healthyOrExited, options.readyTimeoutMs ?? 15_000, 50);
  } catch {
    child.kill("SIGKILL");
    await exited;
    throw new Error(
      `switchboard start was not healthy within the timeout.\nstdout:\n${stdout}\nstderr:\n${stderr}`,
    );
  }
  if (!healthy) {
    const { code, signal } = await exited;
    throw new Error(
      `switchboard start exited (code ${code}, signal ${signal}) before /healthz answered.\n` +
        `stdout:\n${stdout}\nstderr:\n${stderr}`,
    );
  }

  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    if (!hasExited) child.kill(signal);
    return exited;
  };
  return {
    url,
    port,
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill,
    async stop(graceMs = 10_000) {
      if (hasExited) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Run a one-shot CLI command (`outbox retry`, `doctor`, `simulate ...`) to completion. */
export async function runCli(
  args: string[],
  env: ChildEnv,
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: REPO_ROOT,
    env: childEnvironment(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.once("exit", (exitCode) => {
      running.delete(child);
      resolve(exitCode);
    });
  });
  clearTimeout(timer);
  return { code, stdout, stderr };
}
