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
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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

/** `npm test` builds first; running one test file directly may not have, so build once when dist is absent. */
export function buildIfMissing(): void {
  if (existsSync(CLI_PATH)) return;
  execFileSync("npm", ["run", "build", "--silent"], { cwd: REPO_ROOT, stdio: "inherit" });
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

/** The environment a child sees: enough to run node, then the test's variables (undefined ones dropped). */
function childEnvironment(env: ChildEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
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
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (hasExited) {
      const { code, signal } = await exited;
      throw new Error(
        `switchboard start exited (code ${code}, signal ${signal}) before /healthz answered.\n` +
          `stdout:\n${stdout}\nstderr:\n${stderr}`,
      );
    }
    const healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })
      .then((response) => response.status === 200)
      .catch(() => false);
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`switchboard start was not healthy within the timeout.\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
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
