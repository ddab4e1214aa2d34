/**
 * POST /webhooks/github and /webhooks/linear against a real instance, through HTTP, signed the way GitHub and
 * Linear sign: status codes, dedupe, replay window, size limits, store failure, health and metrics, and the
 * routing of accepted deliveries to a fake Discord.
 */
import { sign } from "@octokit/webhooks-methods";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GITHUB_BODY_LIMIT_BYTES } from "../../src/sources/github/receiver.js";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { LINEAR_BODY_LIMIT_BYTES, signLinearBody } from "../../src/sources/linear/receiver.js";
import { loadLinearFixture } from "../../src/sources/linear/fixtures.js";
import { signGitHubDelivery, signLinearDelivery } from "../../src/sources/signed-delivery.js";
import type { SignedDelivery } from "../../src/sources/signed-delivery.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import {
  TEST_DISCORD_TOKEN,
  TEST_GITHUB_SECRET,
  TEST_LINEAR_SECRET,
  startTestSwitchboard,
} from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const DEFAULT_CHANNEL = "111111111111111111";
const CHANNEL_A = "222222222222222222";
const CHANNEL_B = "333333333333333333";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Instance {
  discord: FakeDiscord;
  switchboard: TestSwitchboard;
}

/** A Switchboard posting with a bot token to a fake Discord, secrets for both sources unless overridden. */
async function startInstance(
  options: { env?: Record<string, string | undefined>; config?: string } = {},
): Promise<Instance> {
  const discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
  const switchboard = await startTestSwitchboard({
    env: {
      DISCORD_TOKEN: TEST_DISCORD_TOKEN,
      DISCORD_API_URL: discord.url,
      DISCORD_DEFAULT_CHANNEL_ID: DEFAULT_CHANNEL,
      ...options.env,
    },
    ...(options.config === undefined ? {} : { config: options.config }),
  });
  return { discord, switchboard };
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  await instance?.switchboard.close();
  await instance?.discord.close();
}

/** Every answer from Switchboard goes through here: none may advertise the framework. */
async function send(
  switchboard: TestSwitchboard,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Response> {
  const response = await fetch(new URL(path, switchboard.url), {
    method: init.method ?? "POST",
    ...(init.headers ? { headers: init.headers } : {}),
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  expect(response.headers.get("x-powered-by"), `${init.method ?? "POST"} ${path}`).toBeNull();
  return response;
}

function deliver(switchboard: TestSwitchboard, delivery: SignedDelivery): Promise<Response> {
  return send(switchboard, delivery.path, { headers: delivery.headers, body: delivery.body });
}

function githubDelivery(fixture: string, options: { deliveryId?: string; secret?: string } = {}) {
  const { event, payload } = loadGitHubFixture(fixture);
  return signGitHubDelivery({
    secret: options.secret ?? TEST_GITHUB_SECRET,
    event,
    payload,
    ...(options.deliveryId ? { deliveryId: options.deliveryId } : {}),
  });
}

function linearDelivery(
  fixture: string,
  options: { deliveryId?: string; secret?: string; timestamp?: number } = {},
): SignedDelivery {
  const payload = structuredClone(loadLinearFixture(fixture).payload) as Record<string, unknown>;
  if (options.timestamp !== undefined) payload.webhookTimestamp = options.timestamp;
  return signLinearDelivery({
    secret: options.secret ?? TEST_LINEAR_SECRET,
    payload,
    keepTimestamp: options.timestamp !== undefined,
    ...(options.deliveryId ? { deliveryId: options.deliveryId } : {}),
  });
}

/** The same delivery with some headers replaced or removed (undefined). */
function withHeaders(delivery: SignedDelivery, headers: Record<string, string | undefined>): SignedDelivery {
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...delivery.headers, ...headers })) {
    if (value !== undefined) merged[name] = value;
  }
  return { ...delivery, headers: merged };
}

async function inboxRows(switchboard: TestSwitchboard, deliveryId: string) {
  return switchboard.store.db
    .selectFrom("inbox")
    .innerJoin("inbox_bodies", "inbox_bodies.inbox_id", "inbox.id")
    .selectAll("inbox")
    .select("inbox_bodies.body")
    .where("delivery_id", "=", deliveryId)
    .execute();
}

/** Wait until every stored delivery is processed and every message is sent or dead. */
async function settle(switchboard: TestSwitchboard): Promise<void> {
  await switchboard.waitFor(async () => {
    const pendingIn = await switchboard.store.db
      .selectFrom("inbox")
      .select("id")
      .where("status", "=", "pending")
      .execute();
    const pendingOut = await switchboard.store.db
      .selectFrom("outbox")
      .select("id")
      .where("status", "=", "pending")
      .execute();
    return pendingIn.length === 0 && pendingOut.length === 0;
  });
}

/** The value of one series in Prometheus text format, or undefined when it is absent. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe("webhook receivers", () => {
  let instance: Instance;
  let switchboard: TestSwitchboard;
  let discord: FakeDiscord;

  beforeAll(async () => {
    instance = await startInstance();
    ({ switchboard, discord } = instance);
  });

  afterAll(async () => {
    await stopInstance(instance);
  });

  describe("GitHub", () => {
    it("answers 202 for a new delivery and stores it before answering", async () => {
      const delivery = await githubDelivery("pull_request.opened");
      const response = await deliver(switchboard, delivery);
      expect(response.status).toBe(202);
      expect(await json(response)).toEqual({ status: "accepted", delivery: delivery.deliveryId });
      const rows = await inboxRows(switchboard, delivery.deliveryId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ source: "github", event: "pull_request", body: delivery.body });
    });

    it("answers 200 and posts nothing when GitHub redelivers the same delivery", async () => {
      const delivery = await githubDelivery("issues.opened");
      expect((await deliver(switchboard, delivery)).status).toBe(202);
      await settle(switchboard);
      const posted = discord.messages.length;
      expect(posted).toBeGreaterThan(0);

      const again = await deliver(switchboard, delivery);
      expect(again.status).toBe(200);
      expect(await json(again)).toEqual({ status: "duplicate", delivery: delivery.deliveryId });
      await settle(switchboard);
      expect(await inboxRows(switchboard, delivery.deliveryId)).toHaveLength(1);
      expect(discord.messages).toHaveLength(posted);
    });

    it("answers 401 and stores nothing for a body that does not match its signature", async () => {
      const delivery = await githubDelivery("pull_request.opened");
      const tampered = { ...delivery, body: delivery.body.replace("Update the README", "Pwned the README") };
      expect(tampered.body).not.toBe(delivery.body);
      expect((await deliver(switchboard, tampered)).status).toBe(401);
      expect(await inboxRows(switchboard, delivery.deliveryId)).toHaveLength(0);
    });

    it("answers 401 for a delivery without X-Hub-Signature-256", async () => {
      const delivery = withHeaders(await githubDelivery("pull_request.opened"), {
        "x-hub-signature-256": undefined,
      });
      const response = await deliver(switchboard, delivery);
      expect(response.status).toBe(401);
      expect(await inboxRows(switchboard, delivery.deliveryId)).toHaveLength(0);
    });

    it("answers 401 for a delivery signed with another secret, or with the legacy SHA-1 form only", async () => {
      const other = await githubDelivery("pull_request.opened", { secret: "someone-elses-secret" });
      const response = await deliver(switchboard, other);
      expect(response.status).toBe(401);
      expect(String((await json(response)).message)).toContain("GITHUB_WEBHOOK_SECRET");

      const sha1Only = withHeaders(await githubDelivery("pull_request.opened"), {
        "x-hub-signature-256": undefined,
        "x-hub-signature": "sha1=0123456789abcdef0123456789abcdef01234567",
      });
      expect((await deliver(switchboard, sha1Only)).status).toBe(401);
    });

    it.each(["x-github-event", "x-github-delivery"])(
      "answers 400 for a delivery without %s",
      async (name) => {
        const delivery = withHeaders(await githubDelivery("pull_request.opened"), { [name]: undefined });
        expect((await deliver(switchboard, delivery)).status).toBe(400);
        expect(await inboxRows(switchboard, delivery.deliveryId)).toHaveLength(0);
      },
    );

    it.each(["application/x-www-form-urlencoded", "text/plain"])(
      "answers 400 for a %s body, saying to choose application/json",
      async (contentType) => {
        const delivery = withHeaders(await githubDelivery("pull_request.opened"), {
          "content-type": contentType,
        });
        const response = await deliver(switchboard, delivery);
        expect(response.status).toBe(400);
        expect(String((await json(response)).message)).toContain("application/json");
      },
    );

    it("answers 400 for a correctly signed body that is not JSON", async () => {
      const body = "this is not json";
      const delivery = withHeaders(await githubDelivery("pull_request.opened"), {
        "x-hub-signature-256": await sign(TEST_GITHUB_SECRET, body),
      });
      const response = await deliver(switchboard, { ...delivery, body });
      expect(response.status).toBe(400);
      expect(await inboxRows(switchboard, delivery.deliveryId)).toHaveLength(0);
    });

    it("answers 413 for a correctly signed body one byte over 25 MB", async () => {
      const body = Buffer.alloc(GITHUB_BODY_LIMIT_BYTES + 1, "a");
      expect(GITHUB_BODY_LIMIT_BYTES).toBe(25 * 1024 * 1024);
      const delivery = await githubDelivery("pull_request.opened");
      const response = await send(switchboard, "/webhooks/github", {
        headers: {
          ...delivery.headers,
          "x-hub-signature-256": await sign(TEST_GITHUB_SECRET, body.toString()),
        },
        body,
      });
      expect(response.status).toBe(413);
      expect(await inboxRows(switchboard, delivery.deliveryId)).toHaveLength(0);
    });

    it("answers 202 for a ping and never posts it", async () => {
      const delivery = await githubDelivery("ping");
      const posted = discord.messages.length;
      expect((await deliver(switchboard, delivery)).status).toBe(202);
      await settle(switchboard);
      const [row] = await inboxRows(switchboard, delivery.deliveryId);
      expect(row).toMatchObject({ status: "ignored" });
      expect(row!.detail).toContain("ping");
      expect(discord.messages).toHaveLength(posted);
    });

    it("accepts an event it does not report (star), records it as ignored with the reason, and posts nothing", async () => {
      const delivery = await githubDelivery("star.created");
      const posted = discord.messages.length;
      expect((await deliver(switchboard, delivery)).status).toBe(202);
      await settle(switchboard);
      const [row] = await inboxRows(switchboard, delivery.deliveryId);
      expect(row).toMatchObject({ status: "ignored", event: "star", detail: "star.created is not reported" });
      expect(discord.messages).toHaveLength(posted);
    });

    it("answers 405 with Allow: POST to a GET", async () => {
      const response = await send(switchboard, "/webhooks/github", { method: "GET" });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("POST");
    });

    it("answers in well under a second", async () => {
      const timings: number[] = [];
      for (let i = 0; i < 5; i++) {
        const delivery = await githubDelivery("pull_request.review_requested");
        const started = performance.now();
        const response = await deliver(switchboard, delivery);
        timings.push(performance.now() - started);
        expect(response.status).toBe(202);
      }
      expect(Math.max(...timings)).toBeLessThan(500);
    });
  });

  describe("Linear", () => {
    it("answers 202 for a new delivery, then 200 and posts nothing for the same Linear-Delivery", async () => {
      const delivery = linearDelivery("Issue.create");
      const first = await deliver(switchboard, delivery);
      expect(first.status).toBe(202);
      expect(await json(first)).toEqual({ status: "accepted", delivery: delivery.deliveryId });
      await settle(switchboard);
      const posted = discord.messages.length;
      expect(posted).toBeGreaterThan(0);

      const again = await deliver(switchboard, delivery);
      expect(again.status).toBe(200);
      // A replay re-signed with a fresh timestamp is still the same delivery.
      const resigned = linearDelivery("Issue.create", { deliveryId: delivery.deliveryId });
      expect((await deliver(switchboard, resigned)).status).toBe(200);
      await settle(switchboard);
      expect(await inboxRows(switchboard, delivery.deliveryId)).toHaveLength(1);
      expect(discord.messages).toHaveLength(posted);
    });

    it("answers 401 and stores nothing for a body that does not match Linear-Signature", async () => {
      const delivery = linearDelivery("Issue.create");
      const tampered = { ...delivery, body: delivery.body.replace("Login fails", "Logout fails") };
      expect(tampered.body).not.toBe(delivery.body);
      expect((await deliver(switchboard, tampered)).status).toBe(401);
      expect(await inboxRows(switchboard, delivery.deliveryId)).toHaveLength(0);
    });

    it("answers 401 for a delivery without Linear-Signature", async () => {
      const delivery = withHeaders(linearDelivery("Issue.create"), { "linear-signature": undefined });
      expect((await deliver(switchboard, delivery)).status).toBe(401);
    });

    it("answers 401 for a delivery signed with another secret, or with a signature that is not hex", async () => {
      const other = linearDelivery("Issue.create", { secret: "someone-elses-secret" });
      const response = await deliver(switchboard, other);
      expect(response.status).toBe(401);
      expect(String((await json(response)).message)).toContain("LINEAR_WEBHOOK_SECRET");
      const notHex = withHeaders(linearDelivery("Issue.create"), { "linear-signature": "sha256=zzzz" });
      expect((await deliver(switchboard, notHex)).status).toBe(401);
    });

    it("answers 400 for a delivery without Linear-Delivery", async () => {
      const delivery = withHeaders(linearDelivery("Issue.create"), { "linear-delivery": undefined });
      expect((await deliver(switchboard, delivery)).status).toBe(400);
    });

    it("answers 400 for a non-JSON content type", async () => {
      const delivery = withHeaders(linearDelivery("Issue.create"), { "content-type": "text/plain" });
      expect((await deliver(switchboard, delivery)).status).toBe(400);
    });

    it("answers 400 for a correctly signed body that is not JSON, or has no webhookTimestamp", async () => {
      const notJson = linearDelivery("Issue.create");
      const body = "{ not json";
      const response = await deliver(
        switchboard,
        withHeaders({ ...notJson, body }, { "linear-signature": signLinearBody(TEST_LINEAR_SECRET, body) }),
      );
      expect(response.status).toBe(400);

      const payload = structuredClone(loadLinearFixture("Issue.create").payload) as Record<string, unknown>;
      delete payload.webhookTimestamp;
      const untimed = JSON.stringify(payload);
      const noTimestamp = withHeaders(
        { ...notJson, body: untimed },
        { "linear-signature": signLinearBody(TEST_LINEAR_SECRET, untimed) },
      );
      expect((await deliver(switchboard, noTimestamp)).status).toBe(400);
      expect(await inboxRows(switchboard, notJson.deliveryId)).toHaveLength(0);
    });

    it("answers 413 for a correctly signed body one byte over 1 MB", async () => {
      expect(LINEAR_BODY_LIMIT_BYTES).toBe(1024 * 1024);
      const body = Buffer.alloc(LINEAR_BODY_LIMIT_BYTES + 1, "a");
      const delivery = linearDelivery("Issue.create");
      const response = await send(switchboard, "/webhooks/linear", {
        headers: { ...delivery.headers, "linear-signature": signLinearBody(TEST_LINEAR_SECRET, body) },
        body,
      });
      expect(response.status).toBe(413);
    });

    it("accepts a body of exactly 1 MB", async () => {
      const payload = structuredClone(loadLinearFixture("Issue.create").payload) as Record<string, unknown>;
      payload.webhookTimestamp = Date.now();
      const data = payload.data as Record<string, unknown>;
      data.description = "";
      const padding = LINEAR_BODY_LIMIT_BYTES - Buffer.byteLength(JSON.stringify(payload));
      data.description = "x".repeat(padding);
      const body = JSON.stringify(payload);
      expect(Buffer.byteLength(body)).toBe(LINEAR_BODY_LIMIT_BYTES);
      const delivery = withHeaders(
        { ...linearDelivery("Issue.create"), body },
        { "linear-signature": signLinearBody(TEST_LINEAR_SECRET, body) },
      );
      expect((await deliver(switchboard, delivery)).status).toBe(202);
    });

    it("accepts Linear's last retry, sent 6 hours after a failed first attempt with the original timestamp", async () => {
      const retry = linearDelivery("Issue.update.state", { timestamp: Date.now() - (6 * HOUR + 5 * MINUTE) });
      expect((await deliver(switchboard, retry)).status).toBe(202);
      expect(await inboxRows(switchboard, retry.deliveryId)).toHaveLength(1);
    });

    it("refuses with 401 a replay whose webhookTimestamp is 13 hours old", async () => {
      const replay = linearDelivery("Issue.update.state", { timestamp: Date.now() - 13 * HOUR });
      const response = await deliver(switchboard, replay);
      expect(response.status).toBe(401);
      expect(String((await json(response)).message)).toContain("webhookTimestamp");
      expect(await inboxRows(switchboard, replay.deliveryId)).toHaveLength(0);
    });

    it("refuses with 401 a webhookTimestamp from well in the future", async () => {
      const future = linearDelivery("Issue.update.state", { timestamp: Date.now() + HOUR });
      expect((await deliver(switchboard, future)).status).toBe(401);
    });

    it("answers 200 and posts nothing for a replay of a stored delivery, even inside the window", async () => {
      const original = linearDelivery("Issue.update.title", { timestamp: Date.now() - 2 * HOUR });
      expect((await deliver(switchboard, original)).status).toBe(202);
      await settle(switchboard);
      const posted = discord.messages.length;
      expect((await deliver(switchboard, original)).status).toBe(200);
      await settle(switchboard);
      expect(discord.messages).toHaveLength(posted);
    });

    it("accepts an event it does not report (IssueLabel.create), records it as ignored, and posts nothing", async () => {
      const delivery = linearDelivery("IssueLabel.create");
      const posted = discord.messages.length;
      expect((await deliver(switchboard, delivery)).status).toBe(202);
      await settle(switchboard);
      const [row] = await inboxRows(switchboard, delivery.deliveryId);
      expect(row).toMatchObject({ status: "ignored", source: "linear" });
      expect(row!.detail).toContain("IssueLabel.create");
      expect(discord.messages).toHaveLength(posted);
    });

    it("answers 405 to a GET", async () => {
      expect((await send(switchboard, "/webhooks/linear", { method: "GET" })).status).toBe(405);
    });
  });

  describe("health and metrics", () => {
    it("answers /healthz with 200", async () => {
      const response = await send(switchboard, "/healthz", { method: "GET" });
      expect(response.status).toBe(200);
    });

    it("answers /readyz with 200 and a passing store check", async () => {
      const response = await send(switchboard, "/readyz", { method: "GET" });
      expect(response.status).toBe(200);
      const body = await json(response);
      expect(body.status).toBe("ready");
      expect(body.checks).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: "store", ok: true })]),
      );
    });

    it("counts deliveries in /metrics by source, event and outcome", async () => {
      const delivery = await githubDelivery("pull_request.closed.merged");
      expect((await deliver(switchboard, delivery)).status).toBe(202);
      expect((await deliver(switchboard, delivery)).status).toBe(200);
      expect((await deliver(switchboard, { ...delivery, body: `${delivery.body} ` })).status).toBe(401);
      const response = await send(switchboard, "/metrics", { method: "GET" });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/plain");
      const text = await response.text();
      for (const outcome of ["accepted", "duplicate", "bad_signature"]) {
        const series = `switchboard_webhook_deliveries_total{source="github",event="pull_request",outcome="${outcome}"}`;
        expect(sample(text, series), series).toBeGreaterThanOrEqual(1);
      }
      expect(text).toContain('switchboard_webhook_ack_seconds_bucket{le="0.5",source="github"}');
    });

    it("answers 404 to an unknown path", async () => {
      expect((await send(switchboard, "/nothing-here", { method: "GET" })).status).toBe(404);
    });
  });
});

describe("a source without a secret", () => {
  let instance: Instance | undefined;

  afterEach(async () => {
    await stopInstance(instance);
    instance = undefined;
  });

  it("answers 404 on /webhooks/github without GITHUB_WEBHOOK_SECRET, and still serves Linear", async () => {
    instance = await startInstance({ env: { GITHUB_WEBHOOK_SECRET: undefined } });
    const response = await deliver(instance.switchboard, await githubDelivery("pull_request.opened"));
    expect(response.status).toBe(404);
    expect(String((await json(response)).message)).toContain("GITHUB_WEBHOOK_SECRET");
    expect((await deliver(instance.switchboard, linearDelivery("Issue.create"))).status).toBe(202);
  });

  it("answers 404 on /webhooks/linear with an empty LINEAR_WEBHOOK_SECRET, and still serves GitHub", async () => {
    instance = await startInstance({ env: { LINEAR_WEBHOOK_SECRET: "" } });
    const response = await deliver(instance.switchboard, linearDelivery("Issue.create"));
    expect(response.status).toBe(404);
    expect(String((await json(response)).message)).toContain("LINEAR_WEBHOOK_SECRET");
    expect((await deliver(instance.switchboard, await githubDelivery("pull_request.opened"))).status).toBe(
      202,
    );
  });
});

describe("a store that fails", () => {
  let instance: Instance | undefined;

  afterEach(async () => {
    await stopInstance(instance);
    instance = undefined;
  });

  it("answers 503 (never 500) so that GitHub and Linear retry, and /readyz turns 503", async () => {
    instance = await startInstance();
    const { switchboard } = instance;
    // Deliveries are written by the inbox writer's own connection, everything else by the main one: fail both.
    switchboard.store.sqlite!.exec(
      "create trigger disk_full before insert on inbox begin select raise(fail, 'database or disk is full'); end",
    );
    switchboard.store.sqlite!.close();

    const github = await deliver(switchboard, await githubDelivery("pull_request.opened"));
    expect(github.status).toBe(503);
    expect((await json(github)).status).toBe("unavailable");
    expect((await deliver(switchboard, linearDelivery("Issue.create"))).status).toBe(503);

    const ready = await send(switchboard, "/readyz", { method: "GET" });
    expect(ready.status).toBe(503);
    const body = await json(ready);
    expect(body.status).toBe("not ready");
    expect(body.checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "store", ok: false })]),
    );
    expect((await send(switchboard, "/healthz", { method: "GET" })).status).toBe(200);

    // The scrape still answers: its counters are what shows the outage.
    const metrics = await send(switchboard, "/metrics", { method: "GET" });
    expect(metrics.status).toBe(200);
    const series =
      'switchboard_webhook_deliveries_total{source="github",event="pull_request",outcome="store_unavailable"}';
    expect(sample(await metrics.text(), series)).toBe(1);
  });

  it("still rejects bad input with 4xx while the store is down", async () => {
    instance = await startInstance();
    const { switchboard } = instance;
    // Deliveries are written by the inbox writer's own connection, everything else by the main one: fail both.
    switchboard.store.sqlite!.exec(
      "create trigger disk_full before insert on inbox begin select raise(fail, 'database or disk is full'); end",
    );
    switchboard.store.sqlite!.close();
    const unsigned = withHeaders(await githubDelivery("pull_request.opened"), {
      "x-hub-signature-256": undefined,
    });
    expect((await deliver(switchboard, unsigned)).status).toBe(401);
  });
});

describe("routing, end to end", () => {
  let instance: Instance | undefined;

  afterEach(async () => {
    await stopInstance(instance);
    instance = undefined;
  });

  it("posts to every matching route's channel, and once to a channel two routes share", async () => {
    instance = await startInstance({
      config: `
routes:
  - name: hello-world
    source: github
    match: { repos: ["Codertocat/*"] }
    channel: "${CHANNEL_A}"
    threads: none
  - name: all-prs
    source: github
    match: { events: ["pull_request.*"] }
    channel: "${CHANNEL_B}"
    threads: none
  - name: also-to-a
    source: github
    match: { events: ["pull_request"] }
    channel: "${CHANNEL_A}"
    style: compact
  - name: other-org
    source: github
    match: { repos: ["acme/*"] }
    channel: "${DEFAULT_CHANNEL}"
`,
    });
    const { switchboard, discord } = instance;
    expect((await deliver(switchboard, await githubDelivery("pull_request.opened"))).status).toBe(202);
    await settle(switchboard);
    const byChannel = (channel: string) =>
      discord.messages.filter((message) => message.channelId === channel);
    expect(byChannel(CHANNEL_A)).toHaveLength(1);
    expect(byChannel(CHANNEL_B)).toHaveLength(1);
    expect(byChannel(DEFAULT_CHANNEL)).toHaveLength(0);
    // The first matching route for the shared channel decides its style: a full embed, not the compact line.
    expect(byChannel(CHANNEL_A)[0]!.embeds).toHaveLength(1);
    expect(discord.messages).toHaveLength(2);
  });

  it("with `threads: none`, posts each event as its own message and opens no thread", async () => {
    instance = await startInstance({
      config: `
routes:
  - name: prs
    source: github
    channel: "${CHANNEL_A}"
    threads: none
`,
    });
    const { switchboard, discord } = instance;
    for (const fixture of ["pull_request.opened", "pull_request.labeled", "pull_request.closed.merged"]) {
      expect((await deliver(switchboard, await githubDelivery(fixture))).status).toBe(202);
    }
    await settle(switchboard);
    expect(discord.messages).toHaveLength(3);
    expect(discord.messages.every((message) => message.channelId === CHANNEL_A)).toBe(true);
    expect(discord.threads).toHaveLength(0);
    expect(discord.edits).toHaveLength(0);
  });

  it("with `style: compact`, posts one line of content and no embed", async () => {
    instance = await startInstance({
      config: `
routes:
  - name: issues
    source: linear
    channel: "${CHANNEL_A}"
    style: compact
`,
    });
    const { switchboard, discord } = instance;
    expect((await deliver(switchboard, linearDelivery("Issue.create"))).status).toBe(202);
    await settle(switchboard);
    const [message] = discord.messages;
    expect(discord.messages).toHaveLength(1);
    expect(message!.embeds).toEqual([]);
    expect(message!.content).toContain("ENG-123");
    expect(message!.content).not.toContain("\n");
    expect(discord.threads).toHaveLength(0);
  });

  it("posts a title containing @everyone and a user mention with allowed_mentions that parse nothing", async () => {
    instance = await startInstance();
    const { switchboard, discord } = instance;
    const { event, payload } = loadGitHubFixture("pull_request.opened");
    const hostile = structuredClone(payload) as { pull_request: { title: string } };
    hostile.pull_request.title = "@everyone <@123456789012345678> please merge";
    const delivery = await signGitHubDelivery({ secret: TEST_GITHUB_SECRET, event, payload: hostile });
    expect((await deliver(switchboard, delivery)).status).toBe(202);
    await settle(switchboard);
    expect(discord.messages.length).toBeGreaterThan(0);
    expect(JSON.stringify(discord.messages.map((message) => message.embeds))).toContain("@everyone");
    for (const message of discord.messages) {
      expect(message.allowed_mentions).toEqual({ parse: [] });
    }
  });

  it("sends everything to DISCORD_DEFAULT_CHANNEL_ID when there are no routes", async () => {
    instance = await startInstance();
    const { switchboard, discord } = instance;
    expect((await deliver(switchboard, await githubDelivery("release.published"))).status).toBe(202);
    expect((await deliver(switchboard, linearDelivery("Project.create"))).status).toBe(202);
    await settle(switchboard);
    expect(discord.messages).toHaveLength(2);
    expect(discord.messages.every((message) => message.channelId === DEFAULT_CHANNEL)).toBe(true);
  });
});
