/**
 * What the HTTP server gives away and whom it believes: no framework banner, no stack traces, bounded
 * bodies, and X-Forwarded-For honoured only when TRUST_PROXY names the proxy in front.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { loadEnvironment } from "../../src/config/environment.js";
import { createHttpApp } from "../../src/http/app.js";
import type { HttpAppOptions } from "../../src/http/app.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function serve(overrides: Partial<HttpAppOptions> = {}) {
  const logger = createLogger({
    level: "silent",
    format: "json",
    secrets: [],
    destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
  });
  const app = createHttpApp({
    logger,
    metrics: createMetrics(),
    github: {
      receive: async () => {
        throw new Error("receiver exploded at /srv/secret/path.ts:12");
      },
    },
    bodyLimits: { github: 1024, linear: 1024 },
    readiness: [],
    onAccepted: () => {},
    ...overrides,
  });
  const server = createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("HTTP hardening", () => {
  it("sends no X-Powered-By header", async () => {
    const response = await fetch(`${await serve()}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-powered-by")).toBeNull();
  });

  it("answers an unexpected error with a 500 that carries no stack trace", async () => {
    const response = await fetch(`${await serve()}/webhooks/github`, { method: "POST", body: "{}" });
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(text).not.toMatch(/exploded|\.ts:|at /);
  });

  it("refuses a body over the limit with 413", async () => {
    const response = await fetch(`${await serve()}/webhooks/github`, {
      method: "POST",
      body: "x".repeat(4096),
    });
    expect(response.status).toBe(413);
  });

  it("believes X-Forwarded-For only from the proxies TRUST_PROXY names", () => {
    const base = {
      logger: createLogger({ level: "silent", format: "json", secrets: [] }),
      metrics: createMetrics(),
      bodyLimits: { github: 1024, linear: 1024 },
      readiness: [],
      onAccepted: () => {},
    };
    // Express asks this function whether the peer at hop `i` may speak for the client.
    const trusts = (app: ReturnType<typeof createHttpApp>) =>
      app.get("trust proxy fn") as (address: string, hop: number) => boolean;
    expect(trusts(createHttpApp(base))("127.0.0.1", 0)).toBe(false);
    const oneHop = trusts(
      createHttpApp({ ...base, trustProxy: loadEnvironment({ TRUST_PROXY: "1" }).TRUST_PROXY }),
    );
    expect(oneHop("127.0.0.1", 0)).toBe(true);
    expect(oneHop("203.0.113.7", 1)).toBe(false);
    const loopback = trusts(createHttpApp({ ...base, trustProxy: "loopback" }));
    expect(loopback("127.0.0.1", 0)).toBe(true);
    expect(loopback("203.0.113.7", 0)).toBe(false);
  });

  it("reads TRUST_PROXY as off, a hop count, or a list of addresses", () => {
    expect(loadEnvironment({}).TRUST_PROXY).toBe(false);
    expect(loadEnvironment({ TRUST_PROXY: "false" }).TRUST_PROXY).toBe(false);
    expect(loadEnvironment({ TRUST_PROXY: "2" }).TRUST_PROXY).toBe(2);
    expect(loadEnvironment({ TRUST_PROXY: "loopback, 10.0.0.0/8" }).TRUST_PROXY).toBe("loopback, 10.0.0.0/8");
  });
});
