/**
 * What the HTTP server gives away and whom it believes: no framework banner, no stack traces, bounded
 * bodies, and X-Forwarded-For honoured only when TRUST_PROXY names the proxy in front.
 */
import { createServer, request } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { loadEnvironment } from "../../src/config/environment.js";
import { createExpressApp, createHttpApp } from "../../src/http/app.js";
import type { HttpAppOptions } from "../../src/http/app.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import type { Metrics } from "../../src/observability/metrics.js";
import type { WebhookRequest } from "../../src/sources/webhook-receiver.js";
import { waitUntil } from "../support/wait-until.js";

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function serve(overrides: Partial<HttpAppOptions> = {}, prepare?: (server: Server) => void) {
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
  prepare?.(server);
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
    const trusts = (app: ReturnType<typeof createExpressApp>) =>
      app.get("trust proxy fn") as (address: string, hop: number) => boolean;
    expect(trusts(createExpressApp(base))("127.0.0.1", 0)).toBe(false);
    const oneHop = trusts(
      createExpressApp({ ...base, trustProxy: loadEnvironment({ TRUST_PROXY: "1" }).TRUST_PROXY }),
    );
    expect(oneHop("127.0.0.1", 0)).toBe(true);
    expect(oneHop("203.0.113.7", 1)).toBe(false);
    const loopback = trusts(createExpressApp({ ...base, trustProxy: "loopback" }));
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

/** A receiver that keeps what it was given and accepts everything. */
function recordingReceiver() {
  const requests: WebhookRequest[] = [];
  return {
    requests,
    receive: async (request: WebhookRequest) => {
      requests.push(request);
      return {
        status: 202,
        outcome: "accepted" as const,
        event: "push",
        deliveryId: `d${requests.length}`,
        body: { status: "accepted", delivery: `d${requests.length}` },
      };
    },
  };
}

async function tooLargeCount(metrics: Metrics, source: string): Promise<number> {
  const { values } = await metrics.deliveriesReceived.get();
  const sample = values.find(
    ({ labels }) => labels.source === source && labels.event === "unknown" && labels.outcome === "too_large",
  );
  return sample?.value ?? 0;
}

describe("webhook routes", () => {
  it("answers 413 to a Content-Length over the limit before the body is sent, and counts it", async () => {
    const metrics = createMetrics();
    const receiver = recordingReceiver();
    const { port } = new URL(await serve({ metrics, github: receiver }));
    // Only the headers go out: the answer must not wait for a body that never comes.
    const socket = connect(Number(port), "127.0.0.1");
    socket.write("POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n");
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
    await waitUntil(() => received.includes("\r\n\r\n{"), 2000);
    socket.destroy();
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toMatch(/content-type: application\/json; charset=utf-8/i);
    expect(received).toContain('{"status":"rejected","message":"Body exceeds the size limit."}');
    expect(await tooLargeCount(metrics, "github")).toBe(1);
    expect(receiver.requests).toHaveLength(0);
  });

  it("stops reading a chunked body that passes the limit, answers 413 and counts it", async () => {
    const metrics = createMetrics();
    const receiver = recordingReceiver();
    const { port } = new URL(await serve({ metrics, linear: receiver }));
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/webhooks/linear" });
    req.on("error", () => {}); // The server may close the connection while chunks are still going out.
    const answered = new Promise<IncomingMessage>((resolve) => req.on("response", resolve));
    let sent = 0;
    const pump = setInterval(() => {
      // Never ended: only the limit can stop this upload.
      req.write(Buffer.alloc(256, "x"));
      sent += 256;
    }, 1);
    const response = await answered;
    clearInterval(pump);
    req.destroy();
    expect(response.statusCode).toBe(413);
    expect(sent).toBeGreaterThan(1024);
    expect(await tooLargeCount(metrics, "linear")).toBe(1);
    expect(receiver.requests).toHaveLength(0);
  });

  it("reads and discards the rest of a refused upload, so its sender reads the 413 instead of a reset", async () => {
    const { port } = new URL(await serve({ linear: recordingReceiver() }));
    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    let failure: Error | undefined;
    let closedByServer = false;
    socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
    socket.on("error", (error) => (failure = error));
    socket.on("end", () => (closedByServer = true));
    const chunk = (bytes: number) => `${bytes.toString(16)}\r\n${"x".repeat(bytes)}\r\n`;
    socket.write("POST /webhooks/linear HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    socket.write(chunk(2048));
    await waitUntil(() => received.includes("\r\n\r\n{"), 2000);
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toMatch(/connection: close/i);

    // The sender is still uploading when the answer comes, as a large delivery would be: its next writes
    // reach a server that reads them, and no reset comes back.
    for (let i = 0; i < 10; i++) {
      socket.write(chunk(1024));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(failure).toBeUndefined();
    expect(closedByServer).toBe(false);
    socket.write("0\r\n\r\n");
    // Once the upload ends, the server closes the connection, cleanly.
    await waitUntil(() => closedByServer || failure !== undefined, 2000);
    expect(failure).toBeUndefined();
    expect(closedByServer).toBe(true);
    socket.destroy();
  });

  it("closes at once after the 413 when the oversized upload had already ended", async () => {
    const { port } = new URL(await serve({ linear: recordingReceiver() }));
    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    let closedByServer = false;
    socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
    socket.on("end", () => (closedByServer = true));
    // The whole upload in one write, its end included: nothing is left for the server to wait for.
    socket.write(
      "POST /webhooks/linear HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
        `800\r\n${"x".repeat(2048)}\r\n0\r\n\r\n`,
    );
    // Well before the second a sender still uploading would be given.
    await waitUntil(() => closedByServer, 500);
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    socket.destroy();
  });

  it("answers 405 with Allow: POST to GET and PUT", async () => {
    const url = await serve();
    for (const [method, path] of [
      ["GET", "/webhooks/github"],
      ["PUT", "/webhooks/github"],
      ["PUT", "/webhooks/linear?x=1"],
    ] as const) {
      const response = await fetch(`${url}${path}`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("POST");
      expect(await response.json()).toEqual({ status: "rejected", message: "Use POST." });
    }
  });

  it("routes a trailing slash, a query string and another letter case as express does, with the exact bytes", async () => {
    const receiver = recordingReceiver();
    const url = await serve({ github: receiver });
    const body = Buffer.from([0x7b, 0xff, 0x00, 0xe9, 0x7d]);
    for (const path of ["/webhooks/github/", "/webhooks/github?x=1", "/Webhooks/GitHub"]) {
      const response = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-github-event": "push" },
        body,
      });
      expect(response.status).toBe(202);
      expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(await response.json()).toEqual({ status: "accepted", delivery: `d${receiver.requests.length}` });
    }
    expect(receiver.requests.map((request) => request.body)).toEqual([body, body, body]);
    expect(receiver.requests[0]!.contentType).toBe("application/json");
    expect(receiver.requests[0]!.headers["x-github-event"]).toBe("push");
    expect((await fetch(`${url}/webhooks/githubx`, { method: "POST" })).status).toBe(404);
  });

  it("hands over an empty body as an empty Buffer, and a gzip-encoded body inflated", async () => {
    const receiver = recordingReceiver();
    const url = await serve({ github: receiver });
    expect((await fetch(`${url}/webhooks/github`, { method: "POST" })).status).toBe(202);
    const payload = Buffer.from('{"zipped":true}');
    const zipped = await fetch(`${url}/webhooks/github`, {
      method: "POST",
      headers: { "content-encoding": "gzip" },
      body: gzipSync(payload),
    });
    expect(zipped.status).toBe(202);
    expect(receiver.requests.map((request) => request.body)).toEqual([Buffer.alloc(0), payload]);
  });

  it("keeps the Connection: close that a draining server adds to every answer", async () => {
    const url = await serve({ github: recordingReceiver() }, (server) => {
      // As main.ts does while shutting down.
      server.prependListener("request", (_req, res: ServerResponse) => res.setHeader("connection", "close"));
    });
    const response = await fetch(`${url}/webhooks/github`, { method: "POST", body: "{}" });
    expect(response.status).toBe(202);
    expect(response.headers.get("connection")).toBe("close");
  });

  it("shrugs off an upload that is cut mid-body and answers the next request", async () => {
    const receiver = recordingReceiver();
    const url = await serve({ github: receiver });
    const socket = connect(Number(new URL(url).port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write('POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"half":');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    const response = await fetch(`${url}/webhooks/github`, { method: "POST", body: "{}" });
    expect(response.status).toBe(202);
    expect(receiver.requests.map((request) => request.body.toString())).toEqual(["{}"]);
  });
});
