/**
 * Runs a server under test as its own Node process, so that its CPU time and memory are its own and not the
 * benchmark driver's. The child says it is listening with an IPC "ready" message (what `switchboard start`
 * sends for PM2's wait_ready); its memory is read from /proc, where the kernel keeps the peak (VmHWM).
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

export interface ChildServer {
  name: string;
  pid: number;
  url: string;
  /** Current (VmRSS) and peak (VmHWM) resident set size in MiB. */
  memory(): { rssMb: number; peakRssMb: number };
  /** CPU time (user + system) the child has used so far, in seconds: steadier than wall time on a busy host. */
  cpuSeconds(): number;
  /** False once the process has exited, for whatever reason. */
  alive(): boolean;
  /** The child's stderr so far (start-up errors, crashes). */
  stderr(): string;
  /**
   * SIGSTOP: the process does nothing, in the foreground or background, until `resume` (SIGCONT), so that
   * another server can be measured on a machine it does not share.
   */
  pause(): void;
  resume(): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
}

export interface ChildServerOptions {
  name: string;
  /** Arguments after the node executable, e.g. `["dist/cli.js", "start"]`. */
  args: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  cwd?: string;
  startTimeoutMs?: number;
}

export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-20_000);
  });
  // Drained and dropped: only warnings reach stdout at LOG_LEVEL=warn, and a full pipe would stall the child.
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  await waitForReady(child, options, () => stderr);
  const pid = child.pid!;
  return {
    name: options.name,
    pid,
    url: `http://127.0.0.1:${options.port}`,
    memory: () => readMemory(pid),
    cpuSeconds: () => readCpuSeconds(pid),
    alive: () => child.exitCode === null && child.signalCode === null,
    stderr: () => stderr,
    pause: () => void child.kill("SIGSTOP"),
    resume: () => void child.kill("SIGCONT"),
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function waitForReady(child: ChildProcess, options: ChildServerOptions, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${options.name} did not start: ${reason}\n${stderr()}`));
    };
    const timer = setTimeout(
      () => fail(`no "ready" within ${options.startTimeoutMs ?? 20_000} ms`),
      options.startTimeoutMs ?? 20_000,
    );
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`exited early (code ${code}, signal ${signal})`);
    const onError = (error: Error) => fail(error.message);
    const onMessage = (message: unknown) => {
      if (message !== "ready") return;
      clearTimeout(timer);
      child.off("exit", onExit).off("error", onError).off("message", onMessage);
      resolve();
    };
    child.once("exit", onExit).once("error", onError).on("message", onMessage);
  });
}

/** VmRSS and VmHWM from /proc/<pid>/status (kB there), in MiB. */
function readMemory(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(match[1]) / 1024;
  };
  return { rssMb: field("VmRSS"), peakRssMb: field("VmHWM") };
}

/** Linux reports utime and stime (fields 14 and 15 of /proc/<pid>/stat) in clock ticks of 1/100 s. */
const CLOCK_TICKS_PER_SECOND = 100;

function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}
