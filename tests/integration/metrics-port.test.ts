/**
 * METRICS_PORT: the worker and bot roles serve no HTTP of their own, so Prometheus reaches them (and each PM2
 * cluster instance of the web role) through a metrics-only listener.
 */
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../support/child-switchboard.js";
import { startTestSwitchboard } from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

let switchboard: TestSwitchboard | undefined;

afterEach(async () => {
  await switchboard?.close();
  switchboard = undefined;
});

describe("METRICS_PORT", () => {
  it("lets Prometheus scrape a worker process, which serves nothing else", async () => {
    const port = await freePort();
    switchboard = await startTestSwitchboard({ role: "worker", env: { METRICS_PORT: String(port) } });
    expect(switchboard.url).toBeUndefined();
    expect(switchboard.metricsUrl).toBe(`http://127.0.0.1:${port}`);

    const metrics = await fetch(`${switchboard.metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    expect(text).toContain("switchboard_outbox_messages");
    expect(text).toMatch(/^switchboard_process_resident_memory_bytes \d+/m);

    expect((await fetch(`${switchboard.metricsUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${switchboard.metricsUrl}/webhooks/github`, { method: "POST" })).status).toBe(405);
    const other = await fetch(`${switchboard.metricsUrl}/readyz`);
    expect(other.status).toBe(404);
    expect(await other.text()).toContain("Only /metrics and /healthz");
  });

  it("gives each PM2 cluster instance its own port: METRICS_PORT plus NODE_APP_INSTANCE", async () => {
    const port = await freePort();
    switchboard = await startTestSwitchboard({
      role: "web",
      env: { METRICS_PORT: String(port - 1), NODE_APP_INSTANCE: "1" },
    });
    expect(switchboard.metricsUrl).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${switchboard.metricsUrl}/metrics`)).status).toBe(200);
  });
});
