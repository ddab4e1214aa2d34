/**
 * The bot as Discord sees it: a real discord.js client inside Switchboard logs in to the fake gateway,
 * interactions arrive as INTERACTION_CREATE and every answer goes back over REST to the fake, which holds
 * the bot to Discord's rules (3-second deadline, one initial response per interaction).
 */
import { GatewayIntentBits } from "discord-api-types/v10";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ALL_COMMANDS } from "../../src/discord/commands/all-commands.js";
import type { Command } from "../../src/discord/commands/command.js";
import { createGatewayClient } from "../../src/discord/gateway.js";
import type { GatewayClient } from "../../src/discord/gateway.js";
import { REST } from "@discordjs/rest";
import type { GatewayMessageReactionAddDispatchData } from "discord-api-types/v10";
import { createLogger } from "../../src/observability/logger.js";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import { FAKE_CHANNEL_ID, FAKE_GUILD_ID, FAKE_MAINTAINER_ROLE_ID } from "../fakes/discord-gateway.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { chatInput, createBotDriver } from "../support/discord-bot-driver.js";
import type { BotDriver } from "../support/discord-bot-driver.js";
import {
  TEST_DISCORD_TOKEN,
  TEST_GITHUB_SECRET,
  startTestSwitchboard,
} from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";
import { slow } from "../support/slow-command.js";

const ADMIN_ROLE = "300000000000000030";

/** A command only this test registers (with `slow`): one that breaks. */
const explode: Command = {
  data: { name: "explode", description: "Fails unexpectedly" },
  access: { default: null },
  async execute() {
    throw new Error("the flux capacitor is missing");
  },
};

let discord: FakeDiscord;
let switchboard: TestSwitchboard;
let driver: BotDriver;

beforeAll(async () => {
  discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN, gateway: { heartbeatIntervalMs: 400 } });
  switchboard = await startTestSwitchboard({
    env: { DISCORD_TOKEN: TEST_DISCORD_TOKEN, DISCORD_API_URL: discord.url },
    config: `discord:\n  roles:\n    admin: ["${ADMIN_ROLE}"]\n    manage-subscriptions: ["${FAKE_MAINTAINER_ROLE_ID}"]\n`,
    commands: [...ALL_COMMANDS, explode, slow],
  });
  driver = createBotDriver(discord);
  await discord.gateway.waitForSession();
  await switchboard.waitFor(async () => (await readiness()).status === 200);
});

afterAll(async () => {
  await switchboard?.close();
  await discord?.close();
});

async function readiness(): Promise<{
  status: number;
  gateway: { ok: boolean; detail: Record<string, unknown> };
}> {
  const response = await fetch(`${switchboard.url}/readyz`);
  const body = (await response.json()) as {
    checks: Array<{ name: string; ok: boolean; detail: Record<string, unknown> }>;
  };
  return { status: response.status, gateway: body.checks.find((check) => check.name === "gateway")! };
}

function embedOf(data: Record<string, unknown>): {
  title?: string;
  description?: string;
  fields?: Array<{ name: string; value: string }>;
} {
  return (data.embeds as Array<Record<string, never>>)[0]!;
}

describe("the gateway connection", () => {
  it("logs in with the bot token and only the Guilds intent, and /readyz reports it connected", async () => {
    expect(discord.gateway.identifies[0]).toMatchObject({
      token: TEST_DISCORD_TOKEN,
      intents: GatewayIntentBits.Guilds,
    });
    const { status, gateway } = await readiness();
    expect(status).toBe(200);
    expect(gateway).toMatchObject({ ok: true, detail: { status: "ready", user: "Switchboard" } });
    // Registration is `switchboard register-commands`' job, never start-up's.
    expect(discord.commandWrites).toEqual([]);
  });

  it("resumes by itself after Discord drops the connection, reporting 503 meanwhile, and replays what it missed", async () => {
    const handshakes = discord.gateway.handshakes();
    discord.gateway.disconnectAll(4000);
    // discord.js waits half a second before reconnecting: /readyz must say so in that window.
    let down = await readiness();
    await switchboard.waitFor(async () => (down = await readiness()).status === 503, 400);
    expect(down.gateway.ok).toBe(false);
    expect(String(down.gateway.detail.reason)).toContain("reconnecting");

    // Sent while the bot is away: Discord replays it on RESUME, and it is still answered in time.
    const missed = await driver.invoke(chatInput("help"));
    expect(missed.content + JSON.stringify(missed.data)).toContain("Switchboard commands");

    await discord.gateway.waitForSession({ minHandshakes: handshakes + 1 });
    expect(discord.gateway.resumes.at(-1)).toMatchObject({ resumed: true });
    await switchboard.waitFor(async () => (await readiness()).status === 200);
  });

  it("identifies again when the session cannot be resumed", async () => {
    const identifies = discord.gateway.identifies.length;
    discord.gateway.disconnectAll(4000, { resumable: false });
    // discord.js spaces identifies 5 s apart (Discord's max_concurrency rule).
    await discord.gateway.waitForSession({
      minHandshakes: discord.gateway.handshakes() + 1,
      timeoutMs: 12_000,
    });
    expect(discord.gateway.identifies.length).toBe(identifies + 1);
    expect(discord.gateway.resumes.at(-1)).toMatchObject({ resumed: false });
    const answer = await driver.command("status");
    expect(answer.ephemeral).toBe(true);
  });
});

describe("commands over the gateway", () => {
  it("answers /help with every command, what it does and who may use it, only to the user", async () => {
    const answer = await driver.command("help");

    expect(answer.initial.type).toBe(4);
    expect(answer.ephemeral).toBe(true);
    const text = embedOf(answer.data).description!;
    for (const name of ["subscribe", "audit", "status", "help"]) expect(text).toContain(`/${name}`);
    expect(text).toMatch(
      /\/audit\*\*: Show the latest privileged actions and denials · `admin`: <@&300000000000000030>/,
    );
    expect(text).toMatch(/\/status\*\*: [^\n]+ · everyone/);
    // Role mentions are shown, never pinged.
    expect(answer.data.allowed_mentions).toEqual({ parse: [] });
  });

  it("details one command's subcommands with /help command:<name>", async () => {
    const answer = await driver.command("help", { options: { command: "subscribe" } });
    const embed = embedOf(answer.data);
    expect(embed.title).toBe("/subscribe");
    expect(embed.description).toContain("/subscribe github**");
    expect(embed.description).toContain(
      "`manage-subscriptions`: <@&300000000000000020>, <@&300000000000000030>",
    );
  });

  it("answers /status with the version, uptime, gateway latency, latest deliveries and the outbox", async () => {
    const { event, payload } = loadGitHubFixture("issues.opened");
    const delivered = await switchboard.post(
      await signGitHubDelivery({ secret: TEST_GITHUB_SECRET, event, payload }),
    );
    expect(delivered.status).toBe(202);
    await switchboard.waitFor(() => switchboard.gateway!.state().pingMs !== null);

    const answer = await driver.command("status");

    expect(answer.ephemeral).toBe(true);
    const embed = embedOf(answer.data);
    expect(embed.title).toBe("Switchboard 0.1.0");
    const fields = Object.fromEntries(embed.fields!.map((field) => [field.name, field.value]));
    expect(fields.Uptime).toMatch(/^\d+ (s|min)/);
    expect(fields.Gateway).toMatch(/^connected, \d+ ms latency$/);
    expect(fields["Latest deliveries"]).toMatch(/^GitHub: <t:\d+:R>\nLinear: none yet$/);
    expect(fields.Outbox).toMatch(/^\d+ pending, 0 dead$/);
    // Nothing has run yet in this fresh store: every job says so instead of inventing a time.
    expect(fields["Latest job runs"]).toContain("retention: not run yet");
    expect(fields["Latest job runs"]).toContain("stale-prs: not run yet");
  });

  it("tells the user ephemerally when a command is not known", async () => {
    const answer = await driver.command("teleport");
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain("not known");
  });

  it("shows a reference when a command fails unexpectedly, and logs and counts the failure under it", async () => {
    const answer = await driver.command("explode");

    const id = answer.interaction.id;
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain(`Reference: \`${id}\``);
    expect(answer.content).not.toContain("flux capacitor");
    const logged = switchboard.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.interaction === id && line.msg === "Command failed");
    expect(logged).toMatchObject({ level: 50, command: "explode" });
    expect(JSON.stringify(logged)).toContain("the flux capacitor is missing");
    const metrics = await (await fetch(`${switchboard.url}/metrics`)).text();
    expect(metrics).toContain('switchboard_interactions_total{command="explode",outcome="error"} 1');
  });

  it("defers a slow command before Discord's 3-second deadline, then edits in the answer", async () => {
    const started = Date.now();
    const answer = await driver.command("slow");

    expect(answer.deferred).toBe(true);
    expect(answer.ephemeral).toBe(true);
    expect(answer.initial.at - started).toBeLessThan(3000);
    expect(answer.responses.map((response) => response.kind)).toEqual(["callback", "edit-original"]);
    expect(answer.content).toBe("Finished the slow work.");
  });

  it("refuses a privileged command to a member without the role, naming the role, and audits the denial", async () => {
    const answer = await driver.command("audit", {
      user: { id: "200000000000000002", username: "mallory" },
      roles: [FAKE_MAINTAINER_ROLE_ID],
    });

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain("`admin`");
    expect(answer.content).toContain(`<@&${ADMIN_ROLE}>`);
    const rows = await switchboard.store.db
      .selectFrom("audit_log")
      .selectAll()
      .where("user_id", "=", "200000000000000002")
      .execute();
    expect(rows).toEqual([
      expect.objectContaining({
        action: "audit",
        capability: "admin",
        outcome: "denied",
        user_name: "mallory",
      }),
    ]);
  });

  it("lets a member with the role run it", async () => {
    const answer = await driver.command("audit", { roles: [ADMIN_ROLE] });
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain("mallory");
  });

  it("answers an out-of-range count with at most the allowed number of entries instead of failing", async () => {
    const answer = await driver.command("audit", { roles: [ADMIN_ROLE], options: { count: -5 } });
    expect(answer.ephemeral).toBe(true);
    // -5 is clamped to one entry: the newest, which is the admin's own earlier /audit.
    expect(answer.content!.split("\n")).toHaveLength(1);
    expect(answer.content).toContain("`audit` → ok");
  });
});

describe("reactions and credentials", () => {
  let fake: FakeDiscord;
  let client: GatewayClient | undefined;
  const quiet = createLogger({ level: "silent", format: "json", secrets: [] });
  const noDispatcher = { dispatch: async () => {} };

  beforeEach(async () => {
    fake = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await fake.close();
  });

  function connect(options: { feedbackReactions: boolean; token?: string }) {
    client = createGatewayClient({
      token: options.token ?? TEST_DISCORD_TOKEN,
      apiUrl: fake.url,
      dispatcher: noDispatcher,
      rest: new REST({ api: fake.url }),
      logger: quiet,
      feedbackReactions: options.feedbackReactions,
    });
    client.start();
    return client;
  }

  const reaction = {
    user_id: "200000000000000001",
    channel_id: FAKE_CHANNEL_ID,
    message_id: "300000000000000099",
    guild_id: FAKE_GUILD_ID,
    emoji: { id: null, name: "📌" },
    type: 0,
    burst: false,
  };

  it("asks for reactions and message content only when feedback reactions are on, and hands reactions over", async () => {
    const gateway = connect({ feedbackReactions: true });
    const received: GatewayMessageReactionAddDispatchData[] = [];
    gateway.onReaction((event) => {
      received.push(event);
    });
    await fake.gateway.waitForSession();

    expect(fake.gateway.identifies[0]!.intents).toBe(
      GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessageReactions | GatewayIntentBits.MessageContent,
    );
    expect(fake.gateway.dispatch("MESSAGE_REACTION_ADD", reaction)).toBe(1);
    await vi.waitFor(() =>
      expect(received).toEqual([expect.objectContaining({ message_id: reaction.message_id })]),
    );
  });

  it("is not sent reactions without feedback reactions: Discord filters them by intent", async () => {
    connect({ feedbackReactions: false });
    await fake.gateway.waitForSession();
    expect(fake.gateway.dispatch("MESSAGE_REACTION_ADD", reaction)).toBe(0);
  });

  it("reports a refused token as disconnected, naming DISCORD_TOKEN, and does not retry it", async () => {
    const gateway = connect({ feedbackReactions: false, token: "wrong-token.AAAA.bbbb" });
    await vi.waitFor(() => expect(gateway.state().status).toBe("disconnected"));
    expect(gateway.state().reason).toContain("DISCORD_TOKEN");
    expect(fake.gateway.identifies).toEqual([]);
  });
});
