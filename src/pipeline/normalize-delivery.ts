import type { NormalizeResult } from "../events/domain-event.js";
import { normalizeGitHub } from "../sources/github/normalize.js";
import { normalizeLinear } from "../sources/linear/normalize.js";
import type { InboxRow } from "../store/inbox-repository.js";

/** Turn a stored delivery into a domain event. Never throws: a body that is not JSON is ignored with a reason. */
export function normalizeStoredDelivery(
  row: Pick<InboxRow, "source" | "event" | "delivery_id" | "body" | "received_at">,
): NormalizeResult {
  let payload: unknown;
  try {
    payload = JSON.parse(row.body);
  } catch {
    return { outcome: "ignored", reason: "stored body is not valid JSON" };
  }
  const receivedAt = new Date(row.received_at);
  return row.source === "github"
    ? normalizeGitHub({ event: row.event, deliveryId: row.delivery_id, payload, receivedAt })
    : normalizeLinear({ deliveryId: row.delivery_id, payload, receivedAt });
}
