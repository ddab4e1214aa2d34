import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NO_MENTIONS } from "../../src/discord/render/message.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { createOutboxWorker } from "../../src/pipeline/outbox-worker.js";
import { planPost } from "../../src/pipeline/plan-messages.js";
import { PermanentDeliveryError } from "../../src/pipeline/sinks/delivery-errors.js";
import type { Sink } from "../../src/pipeline/sinks/sink.js";
import { openStore } from "../../src/store/database.js";
import type { Store } from "../../src/store/database.js";
import { enqueueMessages, listDeadMessages } from "../../src/store/outbox-repository.js";
import { capturingLogger } from "../support/command-invoker.js";

const CHANNEL = "555555555555555555";
const WEBHOOK_TOKEN = "Zx9-webhook_token.secret";

let store: Store;

beforeEach(async () => {
  store = await openStore("sqlite::memory:");
});

afterEach(async () => {
  await store.close();
});

function failingSink(error: Error): Sink {
  return {
    name: "discord-webhook",
    supportsThreads: false,
    createMessage: () => Promise.reject(error),
    editMessage: () => Promise.reject(error),
    startThread: () => Promise.reject(error),
  };
}

/** A sink that posts every message, noting the channel. */
function recordingSink(posted: string[]): Sink {
  return {
    name: "discord-bot",
    supportsThreads: false,
    createMessage: (channelId) => {
      posted.push(channelId);
      return Promise.resolve({ id: "777777777777777777", channelId });
    },
    editMessage: () => Promise.resolve(),
    startThread: () => Promise.resolve({ id: "777777777777777777" }),
  };
}

/** One plain message to CHANNEL. */
function post(now: number) {
  return planPost({
    channel: CHANNEL,
    route: "team",
    message: { content: "hello", allowed_mentions: NO_MENTIONS },
    now,
  });
}

function logEntries(lines: string[]): Array<{ level: number; msg: string; reason?: string }> {
  return lines.map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string });
}

/** An outbox worker on the test's store, posting through `sink`, with its clock stopped at `now`. */
function startWorker(
  sink: Sink,
  now: number,
  options: { durable?: () => Promise<void>; logLines?: string[] } = {},
) {
  return createOutboxWorker({
    db: store.db,
    durable: options.durable ?? (() => store.durable()),
    sink,
    logger: options.logLines
      ? capturingLogger(options.logLines)
      : createLogger({ level: "silent", format: "json", secrets: [] }),
    metrics: createMetrics(),
    maxAttempts: 3,
    retryBaseMs: 10,
    retryMaxMs: 10,
    clock: () => now,
  });
}

describe("outbox worker", () => {
  it("stores a dead letter's reason without the channel webhook token it quoted, since /readyz and the status page show it", async () => {
    const now = Date.now();
    await enqueueMessages(store.db, [post(now)]);
    const worker = startWorker(
      failingSink(
        new PermanentDeliveryError(
          `POST https://discord.com/api/webhooks/123456789012345678/${WEBHOOK_TOKEN} answered 404 Unknown Webhook`,
        ),
      ),
      now,
    );

    await worker.deliverDue();
    // deliverDue starts the delivery; stop() waits for the deliveries in flight.
    await worker.stop();

    const [dead] = await listDeadMessages(store.db, 5);
    expect(dead?.last_error).toBe(
      "POST https://discord.com/api/webhooks/123456789012345678/[REDACTED] answered 404 Unknown Webhook",
    );
  });

  it("blames Switchboard, not Discord, for a failure of its own, and tries the message again", async () => {
    const now = Date.now();
    await enqueueMessages(store.db, [post(now)]);
    // A stored message that no longer parses: nothing Discord could have caused.
    await store.db.updateTable("outbox").set({ payload: "{not json" }).execute();
    const posted: string[] = [];
    const logLines: string[] = [];
    const worker = startWorker(recordingSink(posted), now, { logLines });

    await worker.deliverDue();
    await worker.stop();

    expect(posted).toEqual([]);
    const [warning] = logEntries(logLines).filter(
      (entry) => entry.msg === "Message delivery failed; will retry",
    );
    expect(warning?.reason).toMatch(
      new RegExp(`^Switchboard itself failed while delivering to channel ${CHANNEL}, not Discord: .*JSON`),
    );
    expect(warning?.reason).toContain("check the store (the disk's free space and health, or the database)");
    const row = await store.db.selectFrom("outbox").select(["status", "attempts"]).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: "pending", attempts: 1 });
  });

  it.each([
    { attempts: 0, when: "with attempts left" },
    { attempts: 2, when: "on its last attempt" },
  ])(
    "keeps a message sent, never retried or dead, when only the fsync after marking it sent failed, $when",
    async ({ attempts }) => {
      const now = Date.now();
      await enqueueMessages(store.db, [post(now)]);
      await store.db.updateTable("outbox").set({ attempts }).execute();
      const posted: string[] = [];
      const logLines: string[] = [];
      const worker = startWorker(recordingSink(posted), now, {
        durable: () => Promise.reject(new Error("EIO: i/o error, fsync")),
        logLines,
      });

      await worker.deliverDue();
      await worker.stop();

      expect(posted).toEqual([CHANNEL]);
      // Dead, it would be offered to `switchboard outbox retry` and posted a second time.
      expect(await listDeadMessages(store.db, 5)).toEqual([]);
      const row = await store.db
        .selectFrom("outbox")
        .select(["status", "attempts"])
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ status: "sent", attempts: attempts + 1 });
      const warnings = logEntries(logLines).filter((entry) => entry.level === 40);
      expect(warnings.map((entry) => [entry.msg, entry.reason])).toEqual([
        [
          "Message posted and recorded as sent, but the store failed after: nothing to retry",
          `Switchboard itself failed while delivering to channel ${CHANNEL}, not Discord: EIO: i/o error, fsync. ` +
            "Whatever was not recorded is tried again; if this repeats, check the store (the disk's free " +
            "space and health, or the database) and the log",
        ],
      ]);
    },
  );

  it("posts to a quiet channel at once, however long another channel's queue", async () => {
    const now = Date.now();
    const busyChannel = "111111111111111111";
    const post = (channel: string, content: string) =>
      planPost({ channel, route: "team", message: { content, allowed_mentions: NO_MENTIONS }, now });
    // 600 messages for one channel first, then one for another: the quiet channel's message is the 601st.
    await enqueueMessages(
      store.db,
      Array.from({ length: 600 }, (_, index) => post(busyChannel, `busy ${index}`)),
    );
    await enqueueMessages(store.db, [post(CHANNEL, "quiet")]);
    let releaseBusy = () => {};
    const busyHeld = new Promise<void>((resolve) => (releaseBusy = resolve));
    const posted: string[] = [];
    const sink: Sink = {
      name: "discord-bot",
      supportsThreads: true,
      async createMessage(channelId, message) {
        // The busy channel's first post hangs, as a request does until its timeout.
        if (channelId === busyChannel) await busyHeld;
        posted.push(`${channelId}: ${message.content}`);
        return { id: String(posted.length), channelId };
      },
      editMessage: () => Promise.resolve(),
      startThread: (_channelId, messageId) => Promise.resolve({ id: messageId }),
    };
    const worker = startWorker(sink, now);

    await worker.deliverDue();
    await expect.poll(() => posted, { timeout: 2000 }).toEqual([`${CHANNEL}: quiet`]);
    releaseBusy();
    await worker.stop();
    expect(posted).toEqual([`${CHANNEL}: quiet`, `${busyChannel}: busy 0`]);
  });
});
