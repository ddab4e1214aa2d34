/**
 * In the PM2 layout the bot process enqueues messages (deployment cards, release announcements, digests run
 * from chat) that the worker process posts, and nothing can wake the worker's outbox from another process:
 * its poll is their added latency. A real worker process (`start --role worker`) must post a message another
 * connection enqueued within a poll of 100 ms, where it used to take up to a second.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NO_MENTIONS } from "../../src/discord/render/message.js";
import { planPost } from "../../src/pipeline/plan-messages.js";
import { openStore } from "../../src/store/database.js";
import { enqueueMessages } from "../../src/store/outbox-repository.js";
import { freePort, startChildSwitchboard } from "../support/child-switchboard.js";
import { useChildSwitchboardWorkspace } from "../support/child-switchboard-workspace.js";
import { waitUntil } from "../support/wait-until.js";

const CHANNEL = "444444444444444444";
const DISCORD_TOKEN = "worker-poll-test-token.Zm9v.YmFyYmF6cXV4";
const MESSAGES = 5;
/**
 * A message enqueued this long after the worker's last post waits about a second minus this for a 1 s poll,
 * and at most 100 ms for the worker's poll: the bound below tells the two apart with room for a busy machine.
 */
const GAP_MS = 300;
const BOUND_MS = 500;

const workspace = useChildSwitchboardWorkspace("switchboard-worker-poll-", DISCORD_TOKEN);

describe("the worker process's outbox", () => {
  it("posts what another process enqueued within its poll, once each", async () => {
    const { directory, discord, children } = workspace;
    const databaseUrl = `sqlite:${join(directory, "switchboard.db")}`;
    // The bot process's connection to the same database.
    const bot = await openStore(databaseUrl);
    try {
      // The worker role serves no webhooks: its readiness is the metrics listener's /healthz.
      const port = String(await freePort());
      const worker = await startChildSwitchboard({
        env: {
          PORT: port,
          METRICS_PORT: port,
          DATABASE_URL: databaseUrl,
          DISCORD_TOKEN,
          DISCORD_API_URL: discord.url,
          LOG_LEVEL: "warn",
        },
        args: ["--role", "worker"],
      });
      children.push(worker);

      const latencies: number[] = [];
      for (let n = 1; n <= MESSAGES; n++) {
        await new Promise((resolve) => setTimeout(resolve, GAP_MS));
        const enqueued = performance.now();
        await enqueueMessages(bot.db, [
          planPost({
            channel: CHANNEL,
            route: "bot",
            message: { content: `card ${n}`, allowed_mentions: NO_MENTIONS },
            now: Date.now(),
          }),
        ]);
        await waitUntil(() => discord.messages.length === n, 5_000, 2);
        latencies.push(Math.round(performance.now() - enqueued));
      }

      expect(
        latencies.filter((ms) => ms >= BOUND_MS),
        `latencies ${latencies.join(", ")} ms`,
      ).toEqual([]);
      expect(await worker.stop()).toEqual({ code: 0, signal: null });
      expect(discord.messages.map((message) => message.content)).toEqual(
        Array.from({ length: MESSAGES }, (_, index) => `card ${index + 1}`),
      );
    } finally {
      await bot.close();
    }
  }, 60_000);
});
