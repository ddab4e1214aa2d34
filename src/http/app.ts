/**
 * The HTTP app: webhook receivers, health, readiness and metrics. It only adapts HTTP to the framework-free
 * receivers in sources/ and holds no business logic. The webhook routes' common case runs on plain
 * node:http (webhook-route.ts); everything else goes through express.
 */
import type { RequestListener } from "node:http";
import express from "express";
import type { ErrorRequestHandler, RequestHandler } from "express";
import { INTERACTIONS_BODY_LIMIT_BYTES } from "./discord-interactions.js";
import { STATUS_PAGE_PATHS, createStatusPageRouter } from "./status-page/status-page-routes.js";
import type { StatusSnapshot } from "./status-page/status-snapshot.js";
import { createWebhookListener, webhookHandler } from "./webhook-route.js";
import type { WebhookRouteOptions } from "./webhook-route.js";

export type { Receiver } from "./webhook-route.js";

export interface ReadinessCheck {
  name: string;
  /** Resolves with details; `ok: false` makes /readyz answer 503. */
  check(): Promise<{ ok: boolean; detail?: unknown }>;
}

export interface HttpAppOptions extends WebhookRouteOptions {
  readiness: ReadinessCheck[];
  /** `POST /discord/interactions`; undefined without DISCORD_PUBLIC_KEY, and the route answers 404. */
  discordInteractions?: RequestHandler;
  /** Express's "trust proxy" (TRUST_PROXY): false unless the operator names the proxies in front. */
  trustProxy?: boolean | number | string;
  /** `GET /status` and `GET /api/deployments`; undefined with STATUS_PAGE=off, and they answer 404. */
  statusSnapshot?: () => Promise<StatusSnapshot>;
}

/** The server's request listener: `createServer(createHttpApp(options))`. */
export function createHttpApp(options: HttpAppOptions): RequestListener {
  const app = createExpressApp(options);
  return createWebhookListener(options, app);
}

/** Every route, webhooks included: the fast path above hands express what it does not serve itself. */
export function createExpressApp(options: HttpAppOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", options.trustProxy ?? false);

  app.post(
    "/webhooks/github",
    express.raw({ type: () => true, limit: options.bodyLimits.github }),
    webhookHandler("github", options),
  );
  app.post(
    "/webhooks/linear",
    express.raw({ type: () => true, limit: options.bodyLimits.linear }),
    webhookHandler("linear", options),
  );
  if (options.discordInteractions) {
    app.post(
      "/discord/interactions",
      express.raw({ type: () => true, limit: INTERACTIONS_BODY_LIMIT_BYTES }),
      options.discordInteractions,
    );
  } else {
    app.post("/discord/interactions", (_req, res) => {
      res.status(404).json({
        status: "not found",
        message: "Discord HTTP interactions are off: set DISCORD_PUBLIC_KEY to enable them.",
      });
    });
  }
  app.all(["/webhooks/github", "/webhooks/linear", "/discord/interactions"], (_req, res) => {
    res.set("Allow", "POST").status(405).json({ status: "rejected", message: "Use POST." });
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    const results = await Promise.all(
      options.readiness.map(async ({ name, check }) => {
        try {
          return { name, ...(await check()) };
        } catch (error) {
          return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const ready = results.every((result) => result.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", checks: results });
  });

  app.get("/metrics", async (_req, res) => {
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });

  if (options.statusSnapshot) {
    app.use(createStatusPageRouter(options.statusSnapshot));
  } else {
    app.get(STATUS_PAGE_PATHS, (_req, res) => {
      res.status(404).json({
        status: "not found",
        message: "The status page is off: set STATUS_PAGE=on to enable it.",
      });
    });
  }

  app.use((_req, res) => {
    res.status(404).json({ status: "not found" });
  });
  app.use(errorHandler(options));
  return app;
}

/** Body-parser errors (size, aborted upload) get their own status; anything else is a 500 without a stack. */
function errorHandler(options: HttpAppOptions): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const status =
      typeof error === "object" && error !== null && "status" in error ? Number(error.status) : 500;
    const source = req.path.startsWith("/webhooks/") ? req.path.slice("/webhooks/".length) : undefined;
    if (status === 413) {
      if (source) options.metrics.deliveriesReceived.inc({ source, event: "unknown", outcome: "too_large" });
      res.status(413).json({ status: "rejected", message: "Body exceeds the size limit." });
      return;
    }
    if (status >= 400 && status < 500) {
      res.status(status).json({ status: "rejected", message: "Malformed request." });
      return;
    }
    options.logger.error({ err: error, path: req.path }, "Unhandled error in HTTP request");
    res.status(500).json({ status: "error", message: "Internal error." });
  };
}
