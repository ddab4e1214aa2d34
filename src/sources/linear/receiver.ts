/**
 * POST /webhooks/linear, framework-free. `Linear-Signature` is the hex HMAC-SHA256 of the raw body with the
 * webhook's signing secret; `webhookTimestamp` (ms) in the body guards against replays.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { PersistDelivery, WebhookRequest, WebhookResponse } from "../webhook-receiver.js";
import { header, isJsonContentType, persistAndAnswer, reject } from "../webhook-receiver.js";

export const LINEAR_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Linear retries a failed delivery after 1 minute, 1 hour and 6 hours with the original body, so the original
 * webhookTimestamp: the window must cover the last retry (up to ~7 h after the first attempt if the delays
 * add up). 12 hours leaves margin; replays inside it are caught by the Linear-Delivery dedupe, whose ids are
 * kept far longer than this.
 */
export const LINEAR_REPLAY_WINDOW_MS = 12 * 60 * 60 * 1000;
/** Clock skew we tolerate for timestamps from the future. */
export const LINEAR_FUTURE_SKEW_MS = 5 * 60 * 1000;

export function signLinearBody(secret: string, body: string | Buffer): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

export function verifyLinearSignature(secret: string, body: Buffer, signature: string): boolean {
  const expected = Buffer.from(signLinearBody(secret, body), "hex");
  const given = /^[0-9a-f]+$/i.test(signature) ? Buffer.from(signature, "hex") : Buffer.alloc(0);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface LinearReceiver {
  receive(request: WebhookRequest): Promise<WebhookResponse>;
}

export function createLinearReceiver(options: {
  secret: string;
  persist: PersistDelivery;
  clock?: () => number;
}): LinearReceiver {
  const clock = options.clock ?? Date.now;
  return {
    async receive(request) {
      if (!isJsonContentType(request.contentType)) {
        return reject(400, "malformed", "Content-Type must be application/json.");
      }
      const deliveryId = header(request, "linear-delivery");
      const eventHeader = header(request, "linear-event");
      if (!deliveryId) return reject(400, "malformed", "Missing Linear-Delivery header.", eventHeader);
      const signature = header(request, "linear-signature");
      if (!signature) return reject(401, "bad_signature", "Missing Linear-Signature header.", eventHeader);
      if (!verifyLinearSignature(options.secret, request.body, signature)) {
        return reject(
          401,
          "bad_signature",
          "Signature does not match: check LINEAR_WEBHOOK_SECRET.",
          eventHeader,
        );
      }
      const body = request.body.toString("utf8");
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        return reject(400, "malformed", "Body is not valid JSON.", eventHeader);
      }
      const fields = (typeof payload === "object" && payload !== null ? payload : {}) as Record<
        string,
        unknown
      >;
      const event = eventHeader ?? (typeof fields.type === "string" ? fields.type : "unknown");
      const timestamp = fields.webhookTimestamp;
      if (typeof timestamp !== "number") return reject(400, "malformed", "Missing webhookTimestamp.", event);
      const now = clock();
      if (timestamp < now - LINEAR_REPLAY_WINDOW_MS || timestamp > now + LINEAR_FUTURE_SKEW_MS) {
        return reject(
          401,
          "stale",
          "webhookTimestamp is outside the accepted window: possible replay.",
          event,
        );
      }
      return persistAndAnswer(options.persist, {
        source: "linear",
        deliveryId,
        event,
        body,
        receivedAt: now,
      });
    },
  };
}
