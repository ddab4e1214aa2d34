/**
 * The express app: webhook receivers, health, readiness and metrics. Express only adapts HTTP to the
 * framework-free receivers in sources/; it holds no business logic.
 */
import express from "express";
import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import type { Logger } from "../observability/logger.js";
import { INTERACTIONS_BODY_LIMIT_BYTES } from "./discord-interactions.js";
import type { Metrics } from "../observability/metrics.js";
import type { WebhookRequest, WebhookResponse } from "../sources/webhook-receiver.js";
import { STATUS_PAGE_PATHS, createStatusPageRouter } from "./status-page/status-page-routes.js";
import type { StatusSnapshot } from "./status-page/status-snapshot.js";

export interface Receiver {
  receive(request: WebhookRequest): Promise<WebhookResponse>;
}

export interface ReadinessCheck {
  name: string;
  /** Resolves with details; `ok: false` makes /readyz answer 503. */
  check(): Promise<{ ok: boolean; detail?: unknown }>;
}

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  /** undefined: the source has no secret configured and its route answers 404. */
  github?: Receiver;
  linear?: Receiver;
  bodyLimits: { github: number; linear: number };
  readiness: ReadinessCheck[];
  /** Called after a delivery was stored, to wake the inbox worker. */
  onAccepted: () => void;
  /** `POST /discord/interactions`; undefined without DISCORD_PUBLIC_KEY, and the route answers 404. */
  discordInteractions?: RequestHandler;
  /** Express's "trust proxy" (TRUST_PROXY): false unless the operator names the proxies in front. */
  trustProxy?: boolean | number | string;
  /** `GET /status` and `GET /api/deployments`; undefined with STATUS_PAGE=off, and they answer 404. */
  statusSnapshot?: () => Promise<StatusSnapshot>;
}

export function createHttpApp(options: HttpAppOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", options.trustProxy ?? false);

  app.post(
    "/webhooks/github",
    express.raw({ type: () => true, limit: options.bodyLimits.github }),
    webhookHandler("github", options.github, "GITHUB_WEBHOOK_SECRET", options),
  );
  app.post(
    "/webhooks/linear",
    express.raw({ type: () => true, limit: options.bodyLimits.linear }),
    webhookHandler("linear", options.linear, "LINEAR_WEBHOOK_SECRET", options),
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

function webhookHandler(
  source: "github" | "linear",
  receiver: Receiver | undefined,
  secretVariable: string,
  options: HttpAppOptions,
): RequestHandler {
  return async (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    let answer: WebhookResponse;
    if (!receiver) {
      answer = {
        status: 404,
        outcome: "not_configured",
        event: "unknown",
        body: {
          status: "not found",
          message: `${source} webhooks are off: set ${secretVariable} to enable them.`,
        },
      };
    } else {
      answer = await receiver.receive({
        headers: req.headers,
        contentType: req.headers["content-type"],
        body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      });
    }
    res.status(answer.status).json(answer.body);
    options.metrics.deliveriesReceived.inc({ source, event: answer.event, outcome: answer.outcome });
    options.metrics.ackLatency.observe({ source }, Number(process.hrtime.bigint() - started) / 1e9);
    const log = options.logger.child({ source, delivery: answer.deliveryId, event: answer.event });
    if (answer.status === 202) {
      options.onAccepted();
      log.debug("Delivery accepted");
    } else if (answer.status >= 500) {
      log.error({ outcome: answer.outcome, err: answer.error }, "Delivery could not be stored");
    } else if (answer.status >= 400) {
      log.warn(
        { outcome: answer.outcome, status: answer.status, reason: answer.body.message },
        "Delivery rejected",
      );
    }
  };
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
