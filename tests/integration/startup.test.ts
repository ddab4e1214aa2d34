/**
 * The README quick start, as an operator runs it: `node dist/cli.js start` in an empty directory with no
 * credentials. Each test spawns its own child process and stops it by its pid.
 */
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import { freePort } from "../support/child-switchboard.js";

const REPO_ROOT = resolve(import.meta.dirname, "../..");
const CLI = join(REPO_ROOT, "dist", "cli.js");
const SECRET = "startup-test-webhook-secret";
/** pino's numeric level for warn. */
const WARN = 40;

interface RunningCli {
  child: ChildProcess;
  port: number;
  directory: string;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  /** Resolve once some stdout line satisfies `predicate`, or fail after `timeoutMs`. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
}

const running: RunningCli[] = [];
const directories: string[] = [];

beforeAll(() => {
  // `npm test` builds first; a bare `npx vitest run` on a fresh checkout needs it done here.
  if (!existsSync(CLI))
    execFileSync("npm", ["run", "build", "--silent"], { cwd: REPO_ROOT, stdio: "inherit" });
}, 120_000);

afterEach(async () => {
  for (const cli of running.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill("SIGKILL");
      await cli.exited;
    }
  }
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function emptyDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), "switchboard-start-"));
  directories.push(directory);
  return directory;
}

/** Start the CLI in `directory` with nothing in its environment but PATH, HOME, PORT and `env`. */
async function startCli(directory: string, env: Record<string, string> = {}): Promise<RunningCli> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, "start"], {
    cwd: directory,
    env: { PATH: process.env.PATH ?? "", HOME: directory, PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<() => void>();
  const collect = (into: string[]) => {
    let partial = "";
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      into.push(...lines.filter(Boolean));
      for (const listener of listeners) listener();
    };
  };
  child.stdout!.on("data", collect(stdout));
  child.stderr!.on("data", collect(stderr));
  const exited = new Promise<number | null>((done) => child.once("close", (code) => done(code)));
  const cli: RunningCli = {
    child,
    port,
    directory,
    stdout,
    stderr,
    exited,
    waitForLine(predicate, timeoutMs = 8_000) {
      return new Promise((resolveLine, reject) => {
        const check = () => {
          const line = stdout.find(predicate);
          if (line === undefined) return;
          cleanup();
          resolveLine(line);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `No matching line within ${timeoutMs} ms.\nstdout:\n${stdout.join("\n")}\nstderr:\n${stderr.join("\n")}`,
            ),
          );
        }, timeoutMs);
        const gone = () => {
          cleanup();
          reject(
            new Error(
              `The process exited first.\nstdout:\n${stdout.join("\n")}\nstderr:\n${stderr.join("\n")}`,
            ),
          );
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off("exit", gone);
        };
        listeners.add(check);
        child.once("exit", gone);
        check();
      });
    },
  };
  running.push(cli);
  return cli;
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isStartedLine = (line: string) => parseJson(line)?.msg === "Switchboard started";

describe("switchboard start (quick start)", () => {
  it("runs with no credentials: creates ./data/switchboard.db, listens on 127.0.0.1, warns once, exits 0 on SIGTERM", async () => {
    const directory = emptyDirectory();
    const cli = await startCli(directory);
    const started = parseJson(await cli.waitForLine(isStartedLine))!;
    expect(started.url).toBe(`http://127.0.0.1:${cli.port}`);
    expect(started.sink).toBe("console");

    expect(existsSync(join(directory, "data", "switchboard.db"))).toBe(true);
    const health = await fetch(`http://127.0.0.1:${cli.port}/healthz`);
    expect(health.status).toBe(200);

    const warnings = cli.stdout.map(parseJson).filter((entry) => entry?.level === WARN);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.msg)).toContain("DISCORD_TOKEN");
    expect(String(warnings[0]!.msg)).toContain("DISCORD_WEBHOOK_URL");
    expect(cli.stdout.map(parseJson).filter((entry) => Number(entry?.level) > WARN)).toEqual([]);

    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect(cli.stdout.map(parseJson).some((entry) => entry?.msg === "Switchboard stopped")).toBe(true);
  });

  it("prints a readable one-line summary of a delivery to stdout when no Discord credentials are set", async () => {
    const cli = await startCli(emptyDirectory(), { GITHUB_WEBHOOK_SECRET: SECRET });
    await cli.waitForLine(isStartedLine);

    const { event, payload } = loadGitHubFixture("pull_request.opened");
    const delivery = await signGitHubDelivery({ secret: SECRET, event, payload });
    const response = await fetch(`http://127.0.0.1:${cli.port}${delivery.path}`, {
      method: "POST",
      headers: delivery.headers,
      body: delivery.body,
    });
    expect(response.status).toBe(202);

    const title = "Update the README with new information.";
    const summary = await cli.waitForLine((line) => parseJson(line) === undefined && line.includes(title));
    expect(summary).toContain("#2");
    expect(summary).not.toContain("\n");
    // The secret never reaches the output.
    expect(cli.stdout.join("\n")).not.toContain(SECRET);

    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  });

  it("stops with exit code 1 and names the file and the key when CONFIG_FILE is invalid", async () => {
    const directory = emptyDirectory();
    const configFile = join(directory, "switchboard.yaml");
    writeFileSync(
      configFile,
      [
        "routes:",
        "  - name: prs",
        "    source: github",
        '    channel: "123456789012345678"',
        "    style: loud",
        "",
      ].join("\n"),
    );
    const cli = await startCli(directory, { CONFIG_FILE: configFile });
    expect(await cli.exited).toBe(1);
    const errors = cli.stderr.join("\n");
    expect(errors).toContain(configFile);
    expect(errors).toContain("routes.0.style");
    // It stopped before opening anything.
    expect(existsSync(join(directory, "data"))).toBe(false);
  });

  it("stops with exit code 1 and names the variable when an environment value is invalid", async () => {
    const cli = await startCli(emptyDirectory(), { DISCORD_DEFAULT_CHANNEL_ID: "general" });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr.join("\n")).toContain("DISCORD_DEFAULT_CHANNEL_ID");
  });
});
