/**
 * Requests first. A sender waits for its answer (GitHub gives up after 10 seconds and never redelivers on its
 * own), while a stored delivery can wait its turn. So while requests keep arriving, the background workers
 * that share the process with the HTTP server take a bounded share of the event loop: after a batch that
 * took `busyMs`, a worker waits long enough that its share stays at the current `share`.
 *
 * The share follows how much of the event loop the requests themselves take: the loop's utilisation minus
 * what the workers reported spending. While requests leave the loop room, the workers' share grows, so a
 * steady stream is processed as it comes, even on a machine slowed by other work. When requests fill the
 * loop, the share shrinks towards MIN_SHARE: a burst is stored and answered first, then processed. It never
 * reaches zero, so under a flood processing slows down but never stops. Once requests stop for QUIET_MS,
 * workers run flat out and catch up.
 */
import { performance } from "node:perf_hooks";

export interface IngestionPriority {
  /** The HTTP server took a request. */
  noteRequest(): void;
  /** Whether requests are arriving now (one came within the last QUIET_MS). */
  receiving(): boolean;
  /** Resolves when a worker whose last batch took `busyMs` may run its next one. */
  turnAfter(busyMs: number): Promise<void>;
}

const QUIET_MS = 50;
const INITIAL_SHARE = 0.25;
/** The smallest share of the event loop that workers keep under a flood of requests. */
export const MIN_SHARE = 0.05;
export const MAX_SHARE = 0.5;
/** The share is reconsidered at most this often, from the loop's use since the last time. */
const ADJUST_EVERY_MS = 100;
/** Requests taking more of the loop than this: workers give way. Less than ROOMY: workers take more. */
const CROWDED = 0.6;
const ROOMY = 0.4;

export interface IngestionPriorityOptions {
  clock?: () => number;
  /** The event loop's utilisation (0 to 1) since the previous call. */
  loopUtilization?: () => number;
}

export function createIngestionPriority(options: IngestionPriorityOptions = {}): IngestionPriority {
  const clock = options.clock ?? (() => performance.now());
  const loopUtilization = options.loopUtilization ?? utilizationSinceLastCall();
  let lastRequest = Number.NEGATIVE_INFINITY;
  let share = INITIAL_SHARE;
  let windowStart = clock();
  let workerBusyMs = 0;

  const receiving = () => clock() - lastRequest <= QUIET_MS;

  function currentShare(): number {
    const now = clock();
    const windowMs = now - windowStart;
    if (windowMs < ADJUST_EVERY_MS) return share;
    const requestsUse = loopUtilization() - workerBusyMs / windowMs;
    if (requestsUse > CROWDED) share = Math.max(MIN_SHARE, share * 0.7);
    else if (requestsUse < ROOMY) share = Math.min(MAX_SHARE, share * 1.3);
    windowStart = now;
    workerBusyMs = 0;
    return share;
  }

  return {
    noteRequest() {
      lastRequest = clock();
    },
    receiving,
    turnAfter(busyMs) {
      workerBusyMs += busyMs;
      if (!receiving()) return Promise.resolve();
      const current = currentShare();
      return new Promise((resolve) => setTimeout(resolve, (busyMs * (1 - current)) / current));
    },
  };
}

function utilizationSinceLastCall(): () => number {
  let previous = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(now, previous).utilization;
    previous = now;
    return utilization;
  };
}

/**
 * For a worker in its own process (the PM2 layout): the web process writes each delivery to the same
 * database, and SQLite lets one writer in at a time. So after each batch the worker leaves the write lock
 * free for as long as it held it, and a delivery waits for at most one batch.
 */
export const SHARED_DATABASE_PRIORITY: IngestionPriority = {
  noteRequest: () => undefined,
  receiving: () => false,
  turnAfter: (busyMs) => new Promise((resolve) => setTimeout(resolve, busyMs)),
};
