import { describe, expect, it } from "vitest";
import {
  MAX_SHARE,
  MIN_SHARE,
  SHARED_DATABASE_PRIORITY,
  createIngestionPriority,
} from "../../src/pipeline/ingestion-priority.js";
import type { IngestionPriority } from "../../src/pipeline/ingestion-priority.js";
import { createWorkerLoop } from "../../src/pipeline/worker-loop.js";

/** A priority on a fake clock, whose event loop reports the given utilisations in turn. */
function prioritized(utilization: number[] = []) {
  let now = 0;
  const samples = [...utilization];
  const priority = createIngestionPriority({
    clock: () => now,
    loopUtilization: () => samples.shift() ?? 0.5,
  });
  return {
    priority,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** How long `turnAfter` keeps a worker waiting, on the real timer it uses. */
async function waitOf(priority: IngestionPriority, busyMs: number): Promise<number> {
  const started = performance.now();
  await priority.turnAfter(busyMs);
  return performance.now() - started;
}

/** The wait after `busyMs` of work when workers hold `share` of the loop. */
const waitFor = (busyMs: number, share: number) => (busyMs * (1 - share)) / share;

/**
 * How much earlier than asked a timer may seem to fire: libuv counts from the time it cached at the start of
 * the loop's turn, which on a busy machine is a few milliseconds before the call that set the timer.
 */
const TIMER_EARLY_MS = 5;

describe("ingestion priority", () => {
  it("lets workers run flat out when no request arrived lately", async () => {
    const { priority, advance } = prioritized();
    expect(priority.receiving()).toBe(false);
    expect(await waitOf(priority, 10)).toBeLessThan(5);
    priority.noteRequest();
    advance(51);
    expect(priority.receiving()).toBe(false);
    expect(await waitOf(priority, 10)).toBeLessThan(5);
  });

  it("keeps workers to a quarter of the event loop when requests start arriving", async () => {
    const { priority } = prioritized();
    priority.noteRequest();
    expect(priority.receiving()).toBe(true);
    // 5 ms of work, then 15 ms for the requests.
    expect(await waitOf(priority, 5)).toBeGreaterThanOrEqual(waitFor(5, 0.25) - TIMER_EARLY_MS);
  });

  it("gives way while requests fill the loop, down to a floor, so processing slows but never stops", async () => {
    const { priority, advance } = prioritized(Array.from({ length: 10 }, () => 1));
    const waits: number[] = [];
    for (let step = 0; step < 10; step++) {
      advance(100);
      priority.noteRequest();
      waits.push(await waitOf(priority, 5));
    }
    expect(waits[1]!).toBeGreaterThan(waits[0]!);
    // 95 ms at the floor; the step before it, at a share of 0.06, waits 78 ms.
    expect(waits[9]!).toBeGreaterThanOrEqual(waitFor(5, MIN_SHARE) - TIMER_EARLY_MS);
    expect(waits[9]!).toBeLessThan(waitFor(5, MIN_SHARE) + 15);
  });

  it("does not count the workers' own batches as pressure: a busy machine still processes a steady stream", async () => {
    // The loop is 90% busy, but the workers report 80 of every 100 ms: requests take only 10%.
    const { priority, advance } = prioritized(Array.from({ length: 6 }, () => 0.9));
    const waits: number[] = [];
    for (let step = 0; step < 6; step++) {
      advance(100);
      priority.noteRequest();
      waits.push(await waitOf(priority, 80));
    }
    // The share grows to MAX_SHARE: one unit of waiting per unit of work, never more.
    expect(waits[5]!).toBeLessThan(waitFor(80, MAX_SHARE) + 15);
    expect(waits[5]!).toBeLessThan(waits[0]!);
  });
});

describe("a worker in its own process", () => {
  it("leaves the database's write lock free after each batch for as long as it held it", async () => {
    expect(SHARED_DATABASE_PRIORITY.receiving()).toBe(false);
    expect(await waitOf(SHARED_DATABASE_PRIORITY, 20)).toBeGreaterThanOrEqual(19);
  });
});

describe("worker loop with an ingestion priority", () => {
  it("waits for its turn after a batch, even when woken meanwhile", async () => {
    const batches: number[] = [];
    const slow: IngestionPriority = {
      noteRequest: () => undefined,
      receiving: () => true,
      turnAfter: () => new Promise((resolve) => setTimeout(resolve, 80)),
    };
    const loop = createWorkerLoop({
      runBatch: async () => {
        batches.push(performance.now());
        return batches.length < 2 ? 0 : 60_000;
      },
      onError: (error) => {
        throw error;
      },
      priority: slow,
    });
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 10));
    loop.wake();
    await new Promise((resolve) => setTimeout(resolve, 150));
    await loop.stop();
    expect(batches).toHaveLength(2);
    expect(batches[1]! - batches[0]!).toBeGreaterThanOrEqual(75);
  });

  it("runs the next batch at once without a priority", async () => {
    const batches: number[] = [];
    const loop = createWorkerLoop({
      runBatch: async () => {
        batches.push(performance.now());
        return batches.length < 3 ? 0 : 60_000;
      },
      onError: (error) => {
        throw error;
      },
    });
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await loop.stop();
    expect(batches).toHaveLength(3);
    expect(batches[2]! - batches[0]!).toBeLessThan(40);
  });
});
