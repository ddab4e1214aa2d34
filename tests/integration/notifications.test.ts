import { afterEach, describe, expect, it } from "vitest";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import {
  TEST_DISCORD_TOKEN,
  TEST_GITHUB_SECRET,
  startBotSwitchboard,
} from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const CHANNEL = "111111111111111111";
let discord: FakeDiscord;
let switchboard: TestSwitchboard;

afterEach(async () => {
  await switchboard?.close();
  await discord?.close();
});

async function start(config = "") {
  discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
  switchboard = await startBotSwitchboard(discord, CHANNEL, config);
}

async function send(fixture: string) {
  const { event, payload } = loadGitHubFixture(fixture);
  return switchboard.post(await signGitHubDelivery({ secret: TEST_GITHUB_SECRET, event, payload }));
}

describe("per-item threads", () => {
  it("posts a card with a thread for a new pull request, then edits the card and replies in the thread", async () => {
    await start();
    expect((await send("pull_request.opened")).status).toBe(202);
    await switchboard.waitFor(() => discord.messages.length === 2);
    const [card, reply] = discord.messages;
    expect(card!.channelId).toBe(CHANNEL);
    expect(card!.embeds[0]!.title).toContain("#2");
    expect(discord.threads).toHaveLength(1);
    expect(reply!.channelId).toBe(discord.threads[0]!.id);

    expect((await send("pull_request.closed.merged")).status).toBe(202);
    await switchboard.waitFor(() => discord.messages.length === 3);
    expect(discord.edits).toHaveLength(1);
    expect(JSON.stringify(discord.edits[0]!.body)).toContain("Merged");
    expect(discord.messages[2]!.channelId).toBe(discord.threads[0]!.id);
  });
});
