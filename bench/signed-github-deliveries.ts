/**
 * Correctly signed GitHub deliveries for the benchmark, built the way GitHub sends them.
 *
 * The signature covers only the body, so one signed body with a fresh `X-GitHub-Delivery` per request is a
 * valid stream of distinct deliveries: every one is new to Switchboard's inbox and stored. Only the
 * end-to-end phase needs distinct bodies, because it finds each delivery's Discord message by a marker in it.
 */
import type { Request as AutocannonRequest } from "autocannon";
import { loadGitHubFixture } from "../src/sources/github/fixtures.js";
import { signGitHubDelivery } from "../src/sources/signed-delivery.js";
import type { SignedDelivery } from "../src/sources/signed-delivery.js";

/** A real `pull_request.opened` delivery from @octokit/webhooks-examples, about 22 kB. */
export const BENCH_FIXTURE = "pull_request.opened";

/** Marks each end-to-end delivery's pull request title; the rendered Discord message repeats the title. */
export const E2E_MARKER = /bench-e2e-(\d+)/;

export interface DeliveryStream {
  /** One autocannon request whose every send carries the next delivery id. */
  request: AutocannonRequest;
  /** How many deliveries this stream has built so far (sent, or about to be). */
  built(): number;
}

/** A stream of distinct deliveries of one signed body, ids `<idPrefix>-1`, `<idPrefix>-2`, ... */
export async function signedDeliveryStream(secret: string, idPrefix: string): Promise<DeliveryStream> {
  const { event, payload } = loadGitHubFixture(BENCH_FIXTURE);
  const signed = await signGitHubDelivery({ secret, event, payload, deliveryId: `${idPrefix}-0` });
  const body = Buffer.from(signed.body);
  let sequence = 0;
  return {
    built: () => sequence,
    request: {
      method: "POST",
      path: signed.path,
      headers: signed.headers,
      body,
      setupRequest: (request) => {
        request.headers = { ...request.headers, "x-github-delivery": `${idPrefix}-${++sequence}` };
        return request;
      },
    },
  };
}

/**
 * `count` pull_request.opened deliveries whose titles carry `bench-e2e-<n>` (n = 0..count-1), each signed over
 * its own body.
 */
export async function markedDeliveries(
  secret: string,
  count: number,
  runId: string,
): Promise<SignedDelivery[]> {
  const { event, payload } = loadGitHubFixture(BENCH_FIXTURE);
  const base = payload as { pull_request: { title: string } };
  return Promise.all(
    Array.from({ length: count }, (_, n) =>
      signGitHubDelivery({
        secret,
        event,
        deliveryId: `${runId}-e2e-${n}`,
        payload: {
          ...base,
          pull_request: { ...base.pull_request, title: `${base.pull_request.title} bench-e2e-${n}` },
        },
      }),
    ),
  );
}
