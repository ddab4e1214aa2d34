/**
 * A polling loop that can be woken early: the inbox and outbox workers run their batch when told there is
 * new work, and otherwise on a timer, so rows left by a crash or another process are picked up too. With an
 * IngestionPriority, each batch is followed by the wait it asks for, which a wake does not cut short.
 */
import type { IngestionPriority } from "./ingestion-priority.js";

export interface WorkerLoop {
  start(): void;
  /** Run a batch soon, without waiting for the timer. */
  wake(): void;
  /** Stop after the batch in flight finishes. */
  stop(): Promise<void>;
}

export function createWorkerLoop(options: {
  /** Does one batch; returns the delay until the next (0 to go on at once). */
  runBatch: () => Promise<number>;
  onError: (error: unknown) => void;
  /** Yields to the webhook receivers of the same process; never pauses when absent. */
  priority?: IngestionPriority;
}): WorkerLoop {
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let wakeRequested = false;

  const schedule = (delayMs: number) => {
    if (!running) return;
    clearTimeout(timer);
    timer = setTimeout(tick, Math.max(0, delayMs));
  };

  async function runOnce(): Promise<number> {
    const started = performance.now();
    const delay = await options.runBatch().catch((error: unknown) => {
      options.onError(error);
      return 1000;
    });
    // Still "in flight" while it yields, so that a wake cannot start the next batch early.
    await options.priority?.turnAfter(performance.now() - started);
    return delay;
  }

  function tick() {
    if (!running || inFlight) return;
    wakeRequested = false;
    inFlight = runOnce().then((delay) => {
      inFlight = undefined;
      schedule(wakeRequested ? 0 : delay);
    });
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    wake() {
      if (!running) return;
      if (inFlight) wakeRequested = true;
      else schedule(0);
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await inFlight;
    },
  };
}

/**
 * The wait before retry `attempt` (1-based) of work that failed: exponential backoff with "equal jitter",
 * half fixed and half random, capped at `maxMs`, so many failures do not retry in lockstep. In whole
 * milliseconds: the time of the retry is stored, and Postgres refuses a fraction in a bigint column.
 */
export function backoffMs(
  attempt: number,
  policy: { baseMs: number; maxMs: number; random: () => number },
): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + policy.random() * (exponential / 2));
}
