/**
 * A bare listener for `/metrics` and `/healthz` (METRICS_PORT). The bot and worker roles serve no HTTP
 * otherwise, yet their metrics (gateway, notification latency, jobs, deployments) are the ones alerts need.
 * node:http alone: nothing here parses a body, so nothing here needs express.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "../observability/metrics.js";

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(options: {
  metrics: Metrics;
  host: string;
  port: number;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (path !== "/metrics") {
      res
        .writeHead(404, { "content-type": "text/plain" })
        .end("Only /metrics and /healthz are served here.\n");
      return;
    }
    options.metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": options.metrics.registry.contentType }).end(text),
      () => res.writeHead(500, { "content-type": "text/plain" }).end("Could not collect metrics.\n"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    url: listeningUrl(server),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `http://host:port` of a listening server; an IPv6 address goes in brackets. */
export function listeningUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.address.includes(":") ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
