/**
 * Streams of signed GitHub deliveries whose messages name their delivery (`delivery <n>` as the comment
 * body), sent the way GitHub sends them, and the tally that says whether each reached Discord exactly once.
 * Used by the operations tests (PM2 reload, backup and restore).
 */
import { writeFileSync } from "node:fs";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import type { SignedDelivery } from "../../src/sources/signed-delivery.js";
import type { FakeMessage } from "../fakes/discord-server.js";

/** What the sender saw for one delivery: an HTTP status, or the error that replaced it. */
export type Outcome = { status: number } | { error: string };

export const acknowledged = (outcome: Outcome | undefined): boolean =>
  outcome !== undefined && "status" in outcome && outcome.status >= 200 && outcome.status < 300;

/** Writes a config file routing every GitHub event to `channel`, one message per event (no threads). */
export function writeSingleChannelConfig(path: string, channel: string): void {
  writeFileSync(
    path,
    [
      "routes:",
      "  - name: all-github",
      "    source: github",
      `    channel: "${channel}"`,
      "    threads: none",
      "",
    ].join("\n"),
  );
}

/** issue_comment.created deliveries numbered `first`..`first + count - 1`. */
export async function buildNumberedDeliveries(
  secret: string,
  count: number,
  first = 1,
): Promise<SignedDelivery[]> {
  const { event, payload } = loadGitHubFixture("issue_comment.created");
  const deliveries: SignedDelivery[] = [];
  for (let n = first; n < first + count; n++) {
    const body = structuredClone(payload) as { comment: { body: string } };
    body.comment.body = `delivery ${n}`;
    deliveries.push(
      await signGitHubDelivery({
        secret,
        event,
        payload: body,
        deliveryId: `ops-${n}-${crypto.randomUUID()}`,
      }),
    );
  }
  return deliveries;
}

/** Posts one delivery; a refused or reset connection is an outcome too, never an exception. */
export async function postDelivery(base: string, delivery: SignedDelivery): Promise<Outcome> {
  try {
    const response = await fetch(new URL(delivery.path, base), {
      method: "POST",
      headers: delivery.headers,
      body: delivery.body,
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    return { status: response.status };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * GitHub's "Redeliver": sends every delivery whose last outcome was not a 2xx again, with the same delivery
 * id, until all are acknowledged. Returns how many resends it took.
 */
export async function redeliverUntilAcknowledged(
  base: string,
  deliveries: SignedDelivery[],
  outcomes: Map<number, Outcome>,
  timeoutMs = 20_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let resends = 0;
  for (;;) {
    const pending = deliveries.map((_, index) => index).filter((index) => !acknowledged(outcomes.get(index)));
    if (pending.length === 0) return resends;
    if (Date.now() > deadline) throw new Error(`${pending.length} deliveries never acknowledged`);
    for (const index of pending) {
      outcomes.set(index, await postDelivery(base, deliveries[index]!));
      resends++;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Which delivery a message at the fake Discord came from, read from its embed (`delivery <n>`). */
export function deliveryNumber(message: FakeMessage): number | undefined {
  const match = /^delivery (\d+)$/.exec(message.embeds[0]?.description ?? "");
  return match ? Number(match[1]) : undefined;
}

/** How many messages each delivery number produced. */
export function messagesPerDelivery(messages: FakeMessage[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const message of messages) {
    const n = deliveryNumber(message);
    if (n !== undefined) counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return counts;
}

export { waitUntil } from "./wait-until.js";
