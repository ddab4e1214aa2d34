/**
 * One autocannon run against one server, summarised as what the benchmark reports: answered deliveries per
 * second and acknowledgement latency. Latencies are taken from autocannon's per-response timings (sub-ms)
 * rather than its histogram, which rounds to whole milliseconds.
 */
import autocannon from "autocannon";
import type { DeliveryStream } from "./signed-github-deliveries.js";
import { summarizeLatencies } from "./latency-stats.js";
import type { LatencySummary } from "./latency-stats.js";

export interface LoadOptions {
  url: string;
  stream: DeliveryStream;
  connections: number;
  /** Seconds; or give `amount`. */
  durationSeconds?: number;
  /** Total requests to send, instead of a duration. */
  amount?: number;
  /** Requests per second over all connections; unlimited when absent. */
  overallRate?: number;
}

export interface LoadResult {
  /** 2xx answers per second over the run. */
  requestsPerSecond: number;
  latency: LatencySummary;
  ok: number;
  /** Non-2xx answers, connection errors and timeouts. */
  failed: number;
  statusCounts: Record<string, number>;
  seconds: number;
  /** Every 2xx answer's latency in ms, so that runs can be combined (combineLoads). */
  latencies: number[];
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        timeout: 10,
        requests: [options.stream.request],
        ...(options.amount !== undefined
          ? { amount: options.amount }
          : { duration: options.durationSeconds ?? 10 }),
        ...(options.overallRate !== undefined ? { overallRate: options.overallRate } : {}),
      },
      (error: unknown, finished) => (error ? reject(error as Error) : resolve(finished)),
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
  const seconds = (performance.now() - started) / 1000;
  return {
    requestsPerSecond: latencies.length / seconds,
    latency: summarizeLatencies(latencies),
    ok: latencies.length,
    failed: result.non2xx + result.errors + result.timeouts,
    statusCounts,
    seconds,
    latencies,
  };
}

/** Several runs against one server as one: totals, and percentiles over every answer of every run. */
export function combineLoads(results: readonly LoadResult[]): LoadResult {
  const latencies = results.flatMap((result) => result.latencies);
  const seconds = results.reduce((sum, result) => sum + result.seconds, 0);
  const statusCounts: Record<string, number> = {};
  for (const result of results) {
    for (const [status, count] of Object.entries(result.statusCounts)) {
      statusCounts[status] = (statusCounts[status] ?? 0) + count;
    }
  }
  return {
    requestsPerSecond: latencies.length / seconds,
    latency: summarizeLatencies(latencies),
    ok: latencies.length,
    failed: results.reduce((sum, result) => sum + result.failed, 0),
    statusCounts,
    seconds,
    latencies,
  };
}
