/**
 * POST /webhooks/github and /webhooks/linear on plain node:http, in front of express. These two routes take
 * every delivery, and express's router, body parser and res.json cost about a fifth of the CPU of each one.
 * Anything unusual (another method, a Content-Encoding, an odd request target) falls through to the
 * express routes, which keep the reference behaviour and share the answering code below.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { WebhookRequest, WebhookResponse } from "../sources/webhook-receiver.js";

export type WebhookSource = "github" | "linear";

export interface Receiver {
  receive(request: WebhookRequest): Promise<WebhookResponse>;
}

export interface WebhookRouteOptions {
  logger: Logger;
  metrics: Metrics;
  /** undefined: the source has no secret configured and its route answers 404. */
  github?: Receiver;
  linear?: Receiver;
  bodyLimits: Record<WebhookSource, number>;
  /** Called after a delivery was stored, to wake the inbox worker. */
  onAccepted: () => void;
}

const SECRET_VARIABLES: Record<WebhookSource, string> = {
  github: "GITHUB_WEBHOOK_SECRET",
  linear: "LINEAR_WEBHOOK_SECRET",
};

/** As express routes: case-insensitive, an optional trailing slash, the query string ignored. */
const WEBHOOK_PATH = /^\/webhooks\/(github|linear)\/?(?:\?|$)/i;

// Serialised once: these answers never change.
const TOO_LARGE_JSON = JSON.stringify({ status: "rejected", message: "Body exceeds the size limit." });
const INTERNAL_ERROR_JSON = JSON.stringify({ status: "error", message: "Internal error." });

/** Serves the webhook routes' common case itself and hands every other request to `next` (express). */
export function createWebhookListener(options: WebhookRouteOptions, next: RequestListener): RequestListener {
  return (req, res) => {
    const match =
      req.method === "POST" && req.headers["content-encoding"] === undefined
        ? WEBHOOK_PATH.exec(req.url ?? "")
        : null;
    if (!match) {
      next(req, res);
      return;
    }
    void receiveDelivery(match[1]!.toLowerCase() as WebhookSource, req, res, options);
  };
}

/** The express fallback for the same routes, once express.raw has read the body. */
export function webhookHandler(source: WebhookSource, options: WebhookRouteOptions): RequestHandler {
  return (req, res) =>
    answerDelivery(source, req.headers, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), res, options);
}

/**
 * How long a refused upload is still read, and discarded, after its 413 went out. Closing at once while the
 * sender's bytes keep arriving makes the kernel answer them with a reset, and a sender still writing often
 * meets that reset before it reads the 413 (it then retries the same oversized delivery). An upload that
 * ends sooner closes at its end; one that never ends is cut off after this.
 */
const REFUSED_UPLOAD_LINGER_MS = 1000;

function answerTooLarge(
  source: WebhookSource,
  req: IncomingMessage,
  res: ServerResponse,
  options: WebhookRouteOptions,
): void {
  options.metrics.deliveriesReceived.inc({ source, event: "unknown", outcome: "too_large" });
  res.writeHead(413, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(TOO_LARGE_JSON),
    Connection: "close",
  });
  // The whole answer goes out now; ending the response is what closes the connection, so it waits.
  res.write(TOO_LARGE_JSON);
  const close = () => {
    clearTimeout(timer);
    res.end();
  };
  const timer = setTimeout(close, REFUSED_UPLOAD_LINGER_MS);
  req.once("end", close);
  res.once("close", () => clearTimeout(timer));
  req.resume();
}

function sendJson(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(json),
  });
  res.end(json);
}

async function receiveDelivery(
  source: WebhookSource,
  req: IncomingMessage,
  res: ServerResponse,
  options: WebhookRouteOptions,
): Promise<void> {
  const limit = options.bodyLimits[source];
  try {
    // Refuse before the body arrives, and close soon rather than read megabytes nobody will use.
    if (Number(req.headers["content-length"]) > limit) {
      answerTooLarge(source, req, res, options);
      return;
    }
    const body = await readBody(req, limit);
    if (body === "too_large") {
      answerTooLarge(source, req, res, options);
    } else if (body) {
      await answerDelivery(source, req.headers, body, res, options);
    }
    // else the sender went away mid-upload: there is nobody to answer.
  } catch (error) {
    options.logger.error(
      { err: error, path: (req.url ?? "").split("?")[0] },
      "Unhandled error in HTTP request",
    );
    if (!res.headersSent) sendJson(res, 500, INTERNAL_ERROR_JSON);
  }
}

/**
 * The exact bytes of the body; "too_large" as soon as it passes `limit` (the rest is discarded, never
 * buffered); undefined when the upload was cut off.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too_large" | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) finish("too_large");
      else chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks, received));
    const onGone = () => finish(undefined);
    function finish(result: Buffer | "too_large" | undefined) {
      req.off("data", onData).off("end", onEnd).off("error", onGone).off("close", onGone);
      resolve(result);
    }
    req.on("data", onData).on("end", onEnd).on("error", onGone).on("close", onGone);
  });
}

async function answerDelivery(
  source: WebhookSource,
  headers: IncomingMessage["headers"],
  body: Buffer,
  res: ServerResponse,
  options: WebhookRouteOptions,
): Promise<void> {
  const started = process.hrtime.bigint();
  const receiver = options[source];
  const answer: WebhookResponse = receiver
    ? await receiver.receive({ headers, contentType: headers["content-type"], body })
    : {
        status: 404,
        outcome: "not_configured",
        event: "unknown",
        body: {
          status: "not found",
          message: `${source} webhooks are off: set ${SECRET_VARIABLES[source]} to enable them.`,
        },
      };
  sendJson(res, answer.status, JSON.stringify(answer.body));
  options.metrics.deliveriesReceived.inc({ source, event: answer.event, outcome: answer.outcome });
  options.metrics.ackLatency.observe({ source }, Number(process.hrtime.bigint() - started) / 1e9);
  const log = () => options.logger.child({ source, delivery: answer.deliveryId, event: answer.event });
  if (answer.status === 202) {
    options.onAccepted();
    // A child logger per accepted delivery shows in the profile: build it only when the line is written.
    if (options.logger.isLevelEnabled("debug")) log().debug("Delivery accepted");
  } else if (answer.status >= 500) {
    log().error({ outcome: answer.outcome, err: answer.error }, "Delivery could not be stored");
  } else if (answer.status >= 400) {
    log().warn(
      { outcome: answer.outcome, status: answer.status, reason: answer.body.message },
      "Delivery rejected",
    );
  }
}
