/**
 * What GitHub and Linear receivers share: a framework-free request/response shape (the HTTP layer adapts
 * express to it) and the final step, persisting a verified delivery before answering.
 */
import type { NewDelivery } from "../store/inbox-repository.js";

export interface WebhookRequest {
  /** Lower-case header names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  contentType: string | undefined;
  /** The exact bytes received: signatures are computed over these, never over re-serialised JSON. */
  body: Buffer;
}

/** Outcome label for the deliveries metric. */
export type ReceiveOutcome =
  "accepted" | "duplicate" | "bad_signature" | "malformed" | "stale" | "not_configured" | "store_unavailable";

export interface WebhookResponse {
  status: number;
  body: { status: string; message?: string; delivery?: string };
  outcome: ReceiveOutcome;
  /** The event header value, for the metric (`unknown` before headers are checked). */
  event: string;
  deliveryId?: string;
  /** Why the store failed (a 503), for the log: the sender is told only to retry. */
  error?: unknown;
}

/** Persists a delivery: "new" or "duplicate". Throws when the store is unavailable. */
export type PersistDelivery = (delivery: NewDelivery) => Promise<"new" | "duplicate">;

export function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function isJsonContentType(contentType: string | undefined): boolean {
  return /^application\/json\b/i.test(contentType ?? "");
}

export function reject(
  status: number,
  outcome: ReceiveOutcome,
  message: string,
  event = "unknown",
): WebhookResponse {
  return { status, outcome, event, body: { status: "rejected", message } };
}

/**
 * Store the delivery, then answer: 202 for a new one, 200 for a redelivery we already hold, 503 when the
 * store fails so that the sender retries (our fault, never the sender's).
 */
export async function persistAndAnswer(
  persist: PersistDelivery,
  delivery: NewDelivery,
): Promise<WebhookResponse> {
  const base = { event: delivery.event, deliveryId: delivery.deliveryId };
  try {
    const result = await persist(delivery);
    return result === "new"
      ? {
          ...base,
          status: 202,
          outcome: "accepted",
          body: { status: "accepted", delivery: delivery.deliveryId },
        }
      : {
          ...base,
          status: 200,
          outcome: "duplicate",
          body: { status: "duplicate", delivery: delivery.deliveryId },
        };
  } catch (error) {
    return {
      ...base,
      error,
      status: 503,
      outcome: "store_unavailable",
      body: { status: "unavailable", message: "The delivery could not be stored; retry later." },
    };
  }
}
