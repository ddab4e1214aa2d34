/**
 * Correctly signed GitHub deliveries for the benchmark, built the way GitHub sends them, and the Switchboard
 * config that routes them.
 *
 * Deliveries come from BENCH_REPOS repositories, each routed to its own Discord channel, as a team's
 * Switchboard routes its repos: one channel cannot take 100 messages a second (Discord allows about 5 per
 * 5 s), and the outbox posts to one channel strictly in order, so a single channel would measure one HTTP
 * round trip at a time instead of the pipeline.
 *
 * The signature covers only the body, so a small pool of signed bodies sent with a fresh `X-GitHub-Delivery`
 * each time is a valid stream of distinct deliveries: every one is new to Switchboard's inbox and stored.
 * Only the end-to-end phase signs one body per delivery, because it finds each delivery's Discord message
 * by a marker in it.
 */
import type { Request as AutocannonRequest } from "autocannon";
import { loadGitHubFixture } from "../src/sources/github/fixtures.js";
import { signGitHubDelivery } from "../src/sources/signed-delivery.js";
import type { SignedDelivery } from "../src/sources/signed-delivery.js";

/** A real `pull_request.opened` delivery from @octokit/webhooks-examples, about 22 kB. */
export const BENCH_FIXTURE = "pull_request.opened";
export const BENCH_REPOS = 10;

/** Marks each end-to-end delivery's pull request title; the rendered Discord message repeats the title. */
export const E2E_MARKER = /bench-e2e-(\d+)/;

const CHANNEL_BASE = 100_000_000_000_000_100n;

function repoName(index: number): string {
  return `bench-org/repo-${index}`;
}

/** Switchboard's YAML config: repository i posts to its own channel, without threads (one message each). */
export function benchConfigYaml(): string {
  const routes = Array.from({ length: BENCH_REPOS }, (_, index) =>
    [
      `  - name: repo-${index}`,
      `    source: github`,
      `    match: { repos: ["${repoName(index)}"] }`,
      `    channel: "${CHANNEL_BASE + BigInt(index)}"`,
      `    threads: none`,
    ].join("\n"),
  );
  return `routes:\n${routes.join("\n")}\n`;
}

export interface DeliveryStream {
  /** One autocannon request whose every send carries the next delivery id (and the next repository). */
  request: AutocannonRequest;
  /** How many deliveries this stream has built so far (sent, or about to be). */
  built(): number;
}

/** Distinct deliveries, ids `<idPrefix>-1`, `<idPrefix>-2`, ..., cycling through the repositories. */
export async function signedDeliveryStream(secret: string, idPrefix: string): Promise<DeliveryStream> {
  const pool = await Promise.all(
    Array.from({ length: BENCH_REPOS }, (_, index) =>
      signFixture(secret, `${idPrefix}-pool-${index}`, (payload) => withRepo(payload, index)),
    ),
  );
  const bodies = pool.map((delivery) => Buffer.from(delivery.body));
  let sequence = 0;
  return {
    built: () => sequence,
    request: {
      method: "POST",
      path: pool[0]!.path,
      headers: pool[0]!.headers,
      body: bodies[0]!,
      setupRequest: (request) => {
        const index = sequence % BENCH_REPOS;
        request.body = bodies[index]!;
        request.headers = {
          ...pool[index]!.headers,
          "x-github-delivery": `${idPrefix}-${++sequence}`,
        };
        return request;
      },
    },
  };
}

/**
 * `count` deliveries whose pull request titles carry `bench-e2e-<n>` (n = first .. first+count-1), cycling
 * through the repositories, each signed over its own body.
 */
export async function markedDeliveries(
  secret: string,
  runId: string,
  first: number,
  count: number,
): Promise<SignedDelivery[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) => {
      const n = first + index;
      return signFixture(secret, `${runId}-e2e-${n}`, (payload) => {
        const marked = withRepo(payload, n % BENCH_REPOS);
        const pullRequest = marked.pull_request as { title: string };
        return { ...marked, pull_request: { ...pullRequest, title: `${pullRequest.title} bench-e2e-${n}` } };
      });
    }),
  );
}

type Payload = Record<string, unknown>;

async function signFixture(
  secret: string,
  deliveryId: string,
  edit: (payload: Payload) => Payload,
): Promise<SignedDelivery> {
  const { event, payload } = loadGitHubFixture(BENCH_FIXTURE);
  return signGitHubDelivery({ secret, event, deliveryId, payload: edit(payload as Payload) });
}

function withRepo(payload: Payload, index: number): Payload {
  const repository = payload.repository as Payload;
  const [owner, name] = repoName(index).split("/");
  return {
    ...payload,
    repository: {
      ...repository,
      name,
      full_name: repoName(index),
      owner: { ...(repository.owner as Payload), login: owner },
    },
  };
}
