/**
 * Builds a delivery exactly as GitHub or Linear would send it: body, headers, signature. Used by
 * `switchboard simulate`, the tests and the benchmark, so all three speak the senders' real protocol.
 */
import { randomUUID } from "node:crypto";
import { sign } from "@octokit/webhooks-methods";
import { signLinearBody } from "./linear/receiver.js";

export interface SignedDelivery {
  path: "/webhooks/github" | "/webhooks/linear";
  headers: Record<string, string>;
  body: string;
  deliveryId: string;
}

export async function signGitHubDelivery(options: {
  secret: string;
  event: string;
  payload: unknown;
  deliveryId?: string;
}): Promise<SignedDelivery> {
  const body = JSON.stringify(options.payload);
  const deliveryId = options.deliveryId ?? randomUUID();
  return {
    path: "/webhooks/github",
    body,
    deliveryId,
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/switchboard-simulate",
      "x-github-event": options.event,
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": await sign(options.secret, body),
    },
  };
}

/**
 * Linear signs the body as sent, including `webhookTimestamp`; a fresh delivery gets the current time (the
 * receiver refuses stale timestamps), unless `keepTimestamp` replays the payload as it was.
 */
export function signLinearDelivery(options: {
  secret: string;
  payload: unknown;
  deliveryId?: string;
  now?: number;
  keepTimestamp?: boolean;
}): SignedDelivery {
  const payload = { ...(options.payload as Record<string, unknown>) };
  if (!options.keepTimestamp) payload.webhookTimestamp = options.now ?? Date.now();
  const body = JSON.stringify(payload);
  const deliveryId = options.deliveryId ?? randomUUID();
  return {
    path: "/webhooks/linear",
    body,
    deliveryId,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "user-agent": "Linear-Webhook",
      "linear-delivery": deliveryId,
      "linear-event": String(payload.type ?? "unknown"),
      "linear-signature": signLinearBody(options.secret, body),
    },
  };
}
