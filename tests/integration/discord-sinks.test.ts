import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NO_MENTIONS, type DiscordMessage } from "../../src/discord/render/message.js";
import { createConsoleSink } from "../../src/pipeline/sinks/console-sink.js";
import { PermanentDeliveryError, RetryableDeliveryError } from "../../src/pipeline/sinks/delivery-errors.js";
import { createDiscordBotSink } from "../../src/pipeline/sinks/discord-bot-sink.js";
import { createDiscordWebhookSink } from "../../src/pipeline/sinks/discord-webhook-sink.js";
import { startFakeDiscord, type FakeDiscord } from "../fakes/discord-server.js";
import { waitUntil } from "../support/wait-until.js";

const CHANNEL = "100000000000000001";
const TOKEN = "MTA5ODc2.Gx1y2z.secret-bot-token-never-logged";

const card: DiscordMessage = {
  embeds: [
    {
      title: "[acme/api] Pull request opened: #12 Fix the flux capacitor",
      url: "https://github.com/acme/api/pull/12",
      description: "It was fluxing backwards.\nMore detail below.",
      color: 0x3b82f6,
    },
  ],
  allowed_mentions: NO_MENTIONS,
};
const line: DiscordMessage = {
  content: "acme/api #12 opened by octocat: Fix it <https://github.com/acme/api/pull/12>",
  allowed_mentions: NO_MENTIONS,
};

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the delivery to fail");
}

/** Everything an operator could see of an error: message, stack, fields and causes. */
function everythingIn(error: unknown): string {
  return inspect(error, { depth: 10, showHidden: true });
}

let fake: FakeDiscord;

afterEach(async () => {
  await fake.close();
});

describe("discord bot sink", () => {
  beforeEach(async () => {
    fake = await startFakeDiscord({ token: TOKEN, channels: [CHANNEL] });
  });

  const botSink = (overrides: { timeoutMs?: number; maxRateLimitWaitMs?: number; token?: string } = {}) =>
    createDiscordBotSink({ token: TOKEN, apiUrl: fake.url, timeoutMs: 2_000, ...overrides });

  it("posts a message with its nonce and no mentions, and returns Discord's message id", async () => {
    const posted = await botSink().createMessage(CHANNEL, card, "outbox-1");

    expect(fake.messages).toHaveLength(1);
    expect(posted).toEqual({ id: fake.messages[0]!.id, channelId: CHANNEL });
    expect(fake.messages[0]).toMatchObject({
      channelId: CHANNEL,
      nonce: "outbox-1",
      allowed_mentions: { parse: [] },
      embeds: [{ title: card.embeds![0]!.title }],
    });
  });

  it("returns the same message when the outbox retries with the same nonce, and Discord holds one", async () => {
    const sink = botSink();
    const first = await sink.createMessage(CHANNEL, card, "outbox-7");
    const retry = await sink.createMessage(CHANNEL, card, "outbox-7");

    expect(retry.id).toBe(first.id);
    expect(fake.messages).toHaveLength(1);
  });

  it("posts nothing twice when Discord created the message but the answer was lost", async () => {
    const sink = botSink();
    fake.setFaults(({ n }) => (n === 1 ? { kind: "drop-after-commit" } : undefined));

    const lost = await rejection(sink.createMessage(CHANNEL, card, "outbox-9"));
    expect(lost).toBeInstanceOf(RetryableDeliveryError);
    expect(fake.messages).toHaveLength(1);

    const retry = await sink.createMessage(CHANNEL, card, "outbox-9");
    expect(retry.id).toBe(fake.messages[0]!.id);
    expect(fake.messages).toHaveLength(1);
  });

  it("edits a message in place, replacing a compact line with an embed", async () => {
    const sink = botSink();
    const posted = await sink.createMessage(CHANNEL, line, "outbox-2");

    await sink.editMessage(CHANNEL, posted.id, card);

    expect(fake.edits).toEqual([expect.objectContaining({ channelId: CHANNEL, messageId: posted.id })]);
    expect(fake.messages[0]).toMatchObject({ content: "", embeds: [{ title: card.embeds![0]!.title }] });
  });

  it("starts one thread per message and returns the same thread when asked again", async () => {
    const sink = botSink();
    const posted = await sink.createMessage(CHANNEL, card, "outbox-3");

    const thread = await sink.startThread(CHANNEL, posted.id, "PR #12: Fix the flux capacitor");
    const again = await sink.startThread(CHANNEL, posted.id, "PR #12: Fix the flux capacitor");

    expect(thread.id).toBe(posted.id);
    expect(again.id).toBe(thread.id);
    expect(fake.threads).toEqual([
      {
        id: posted.id,
        channelId: CHANNEL,
        name: "PR #12: Fix the flux capacitor",
        autoArchiveDuration: 1440,
      },
    ]);
    const reply = await sink.createMessage(thread.id, line, "outbox-4");
    expect(reply.channelId).toBe(thread.id);
  });

  it("waits out a 429 on the route for retry_after and then posts once", async () => {
    fake.setFaults(({ n }) => (n === 1 ? { kind: "429", retryAfterSeconds: 1 } : undefined));
    const started = Date.now();

    await botSink().createMessage(CHANNEL, card, "outbox-5");

    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(fake.requests.map((request) => request.status)).toEqual([429, 200]);
    expect(fake.messages).toHaveLength(1);
  });

  it("waits out a global 429 for retry_after and then posts once", async () => {
    fake.setFaults(({ n }) => (n === 1 ? { kind: "429", retryAfterSeconds: 1, global: true } : undefined));
    const started = Date.now();

    await botSink().createMessage(CHANNEL, card, "outbox-6");

    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(fake.requests.map((request) => request.status)).toEqual([429, 200]);
  });

  it("hands a rate limit longer than maxRateLimitWaitMs back to the outbox with retryAfterMs", async () => {
    fake.setFaults(({ n }) => (n === 1 ? { kind: "429", retryAfterSeconds: 120 } : undefined));
    const started = Date.now();

    const error = await rejection(
      botSink({ maxRateLimitWaitMs: 500 }).createMessage(CHANNEL, card, "outbox-8"),
    );

    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect(error).toMatchObject({ reason: "rate-limited", status: 429 });
    expect((error as RetryableDeliveryError).retryAfterMs).toBeGreaterThanOrEqual(120_000);
    expect(fake.messages).toHaveLength(0);
  });

  it.each([
    ["500", "server-error"],
    ["502", "server-error"],
    ["reset", "network"],
  ] as const)("surfaces a %s from Discord as a retryable failure at once", async (kind, reason) => {
    fake.setFaults(() => ({ kind }));

    const error = await rejection(botSink().createMessage(CHANNEL, card, "outbox-10"));

    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect(error).toMatchObject({ reason });
    expect((error as Error).message).toContain(`channel ${CHANNEL}`);
    // retries: 0, so the outbox alone decides when to try again.
    expect(fake.requests).toHaveLength(1);
  });

  it("gives up on a request Discord never answers after timeoutMs, as retryable", async () => {
    fake.setFaults(() => ({ kind: "hang" }));
    const started = Date.now();

    const error = await rejection(botSink({ timeoutMs: 300 }).createMessage(CHANNEL, card, "outbox-11"));

    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect(error).toMatchObject({ reason: "timeout" });
    expect((error as Error).message).toContain("within 300 ms");
  });

  it("reports a channel the bot cannot see as permanent and says which permissions to grant", async () => {
    await fake.close();
    fake = await startFakeDiscord({ token: TOKEN, forbiddenChannels: ["123"] });

    const error = await rejection(botSink().createMessage("123", card, "outbox-12"));

    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error).toMatchObject({ status: 403, code: 50001 });
    expect((error as Error).message).toBe(
      "Discord answered 403 Missing Access (50001) for channel 123: give the bot View Channel and Send Messages there",
    );
  });

  it("reports missing permissions as permanent and names the permissions", async () => {
    fake.setFaults(() => ({ kind: "error", status: 403, code: 50013, message: "Missing Permissions" }));

    const error = await rejection(botSink().createMessage(CHANNEL, card, "outbox-13"));

    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toMatch(
      /^Discord answered 403 Missing Permissions \(50013\) for channel .*Embed Links/,
    );
  });

  it("reports an unknown channel as permanent and points at the route's channel id", async () => {
    const error = await rejection(botSink().createMessage("999999999999999999", card, "outbox-14"));

    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error).toMatchObject({ status: 404, code: 10003 });
    expect((error as Error).message).toContain(
      "Discord answered 404 Unknown Channel (10003) for channel 999999999999999999: check the channel id",
    );
  });

  it("reports a message Discord rejects as permanent and names the field over its limit", async () => {
    const tooLong: DiscordMessage = { embeds: [{ title: "x".repeat(300) }], allowed_mentions: NO_MENTIONS };

    const error = await rejection(botSink().createMessage(CHANNEL, tooLong, "outbox-15"));

    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error).toMatchObject({ status: 400, code: 50035 });
    expect((error as Error).message).toContain("embeds[0].title: Must be 256 or fewer in length.");
  });

  it("never shows the bot token in an error, and keeps refusing after Discord rejected the token", async () => {
    const wrongToken = "MTA5ODc2.wrong.token-that-must-not-leak";
    const sink = botSink({ token: wrongToken });

    const rejected = await rejection(sink.createMessage(CHANNEL, card, "outbox-16"));
    const later = await rejection(sink.createMessage(CHANNEL, card, "outbox-17"));

    for (const error of [rejected, later]) {
      expect(error).toBeInstanceOf(PermanentDeliveryError);
      expect((error as Error).message).toContain("DISCORD_TOKEN");
      expect(everythingIn(error)).not.toContain(wrongToken);
      expect(everythingIn(error)).not.toContain("wrong.token");
    }
    // @discordjs/rest drops a rejected token, so the second attempt never reaches Discord.
    expect(fake.requests).toHaveLength(1);
  });

  it("never shows the bot token in retryable errors either", async () => {
    const sink = botSink({ timeoutMs: 300 });
    const errors: unknown[] = [];
    for (const kind of ["500", "502", "reset", "hang"] as const) {
      fake.setFaults(() => ({ kind }));
      errors.push(await rejection(sink.createMessage(CHANNEL, card, `outbox-${kind}`)));
    }
    for (const error of errors) expect(everythingIn(error)).not.toContain(TOKEN);
  });

  it("reports every HTTP answer, rate limits included, with a templated route", async () => {
    const seen: Array<[number, string]> = [];
    const sink = createDiscordBotSink({
      token: TOKEN,
      apiUrl: fake.url,
      timeoutMs: 2_000,
      onResponse: (status, route) => seen.push([status, route]),
    });
    fake.setFaults(({ n }) => (n === 1 ? { kind: "429", retryAfterSeconds: 0.2 } : undefined));

    const posted = await sink.createMessage(CHANNEL, card, "outbox-18");
    await sink.editMessage(CHANNEL, posted.id, line);

    expect(seen).toEqual([
      [429, "/channels/:id/messages"],
      [200, "/channels/:id/messages"],
      [200, "/channels/:id/messages/:id"],
    ]);
  });
});

describe("discord webhook sink", () => {
  beforeEach(async () => {
    fake = await startFakeDiscord({ token: TOKEN });
  });

  const webhookSink = (overrides: { timeoutMs?: number; webhookUrl?: string } = {}) =>
    createDiscordWebhookSink({ webhookUrl: fake.webhookUrl, timeoutMs: 2_000, ...overrides });

  it("posts with wait=true into the webhook's own channel and returns the message id", async () => {
    const posted = await webhookSink().createMessage("ignored-channel", card, "outbox-1");

    expect(fake.requests[0]).toMatchObject({ method: "POST", path: "/api/webhooks/1/fake-token?wait=true" });
    expect(fake.messages).toHaveLength(1);
    expect(posted).toEqual({ id: fake.messages[0]!.id, channelId: fake.messages[0]!.channelId });
    expect(posted.channelId).not.toBe("ignored-channel");
  });

  it("edits its own message in place", async () => {
    const sink = webhookSink();
    const posted = await sink.createMessage(CHANNEL, line, "outbox-2");

    await sink.editMessage(CHANNEL, posted.id, card);

    expect(fake.requests[1]).toMatchObject({
      method: "PATCH",
      path: `/api/webhooks/1/fake-token/messages/${posted.id}`,
      status: 200,
    });
    expect(fake.messages[0]).toMatchObject({ content: "", embeds: [{ title: card.embeds![0]!.title }] });
  });

  it("returns a 429 to the outbox at once as retryable, with Discord's retry_after", async () => {
    fake.setFaults(() => ({ kind: "429", retryAfterSeconds: 1.5 }));
    const started = Date.now();

    const error = await rejection(webhookSink().createMessage(CHANNEL, card, "outbox-3"));

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect(error).toMatchObject({ reason: "rate-limited", status: 429, retryAfterMs: 1_500 });
  });

  it("cannot thread, and says a bot token is what threads need", async () => {
    const sink = webhookSink();

    expect(sink.supportsThreads).toBe(false);
    const error = await rejection(sink.startThread(CHANNEL, "1", "PR #12"));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toContain("DISCORD_TOKEN");
  });

  it("reports a wrong webhook token as permanent without quoting the webhook URL", async () => {
    const webhookUrl = fake.webhookUrl.replace("fake-token", "stolen-looking-token");

    const error = await rejection(webhookSink({ webhookUrl }).createMessage(CHANNEL, card, "outbox-4"));

    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error).toMatchObject({ status: 401, code: 50027 });
    expect((error as Error).message).toContain("DISCORD_WEBHOOK_URL");
    expect(everythingIn(error)).not.toContain("stolen-looking-token");
  });

  it.each([
    ["500", "server-error"],
    ["reset", "network"],
    ["hang", "timeout"],
  ] as const)("surfaces a %s as retryable without leaking the webhook token", async (kind, reason) => {
    fake.setFaults(() => ({ kind }));

    const error = await rejection(webhookSink({ timeoutMs: 300 }).createMessage(CHANNEL, card, "outbox-5"));

    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect(error).toMatchObject({ reason });
    expect(everythingIn(error)).not.toContain("fake-token");
  });

  it("refuses a webhook URL that is not one, without quoting it", () => {
    expect(() =>
      createDiscordWebhookSink({ webhookUrl: "https://discord.com/api/secret", timeoutMs: 1_000 }),
    ).toThrow(/^DISCORD_WEBHOOK_URL must look like https:\/\/discord.com\/api\/webhooks\/<id>\/<token>/);
  });
});

describe("console sink", () => {
  it("prints one line per message: channel, embed title, first description line and link", async () => {
    const lines: string[] = [];
    const sink = createConsoleSink((text) => lines.push(text));

    const first = await sink.createMessage(CHANNEL, card, "outbox-1");
    const second = await sink.createMessage("42", line, "outbox-2");

    expect(lines).toEqual([
      `[channel ${CHANNEL}] [acme/api] Pull request opened: #12 Fix the flux capacitor — It was fluxing backwards. <https://github.com/acme/api/pull/12>`,
      "[channel 42] acme/api #12 opened by octocat: Fix it <https://github.com/acme/api/pull/12>",
    ]);
    expect([first.id, second.id]).toEqual(["console-1", "console-2"]);
    expect(sink.supportsThreads).toBe(false);
  });
});

describe("fake Discord", () => {
  beforeEach(async () => {
    fake = await startFakeDiscord({ token: TOKEN });
  });

  it("answers 401 without the bot token and tells the gateway URL with it", async () => {
    const anonymous = await fetch(`${fake.url}/v10/gateway/bot`);
    const authorised = await fetch(`${fake.url}/v10/gateway/bot`, {
      headers: { Authorization: `Bot ${TOKEN}` },
    });

    expect(anonymous.status).toBe(401);
    expect(await authorised.json()).toMatchObject({ url: fake.gatewayUrl, shards: 1 });
  });

  it("fails every n-th request with the listed faults in turn", async () => {
    fake.failEvery(2, ["500", "502"]);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${fake.url}/v10/gateway`)).status);

    expect(statuses).toEqual([200, 500, 200, 502, 200]);
  });

  it("closes promptly while a request hangs", async () => {
    fake.setFaults(() => ({ kind: "hang" }));
    const hung = fetch(`${fake.url}/v10/gateway`).catch(() => "closed");
    await waitUntil(() => fake.requests.some((request) => request.fault === "hang"), 5_000);

    await fake.close();

    expect(await hung).toBe("closed");
    fake = await startFakeDiscord();
  });
});
