/**
 * Feedback capture: the 📌 reaction (through `handleFeedbackReaction`, what the gateway's onReaction hook
 * calls) and the "Create Linear issue" context menu (through the dispatcher) file a message as exactly one
 * Linear issue, and the bot replies once in a thread on the message. Fake Linear and fake Discord on
 * loopback; see tests/support/linear-bot.ts.
 */
import type {
  APIInteraction,
  APIMessage,
  GatewayMessageReactionAddDispatchData,
} from "discord-api-types/v10";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { feedbackIssueId, handleFeedbackReaction } from "../../src/discord/feedback-capture.js";
import { listRecentAudit } from "../../src/store/audit-repository.js";
import { findFeedbackCapture } from "../../src/store/feedback-repository.js";
import { FAKE_CHANNEL_ID, FAKE_GUILD_ID } from "../fakes/discord-gateway.js";
import type { FakeMessage } from "../fakes/discord-server.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import { createBotDriver, messageContextMenu } from "../support/discord-bot-driver.js";
import {
  ADA,
  CREATE_ISSUES_CONFIG,
  CREATOR_ROLE,
  GRACE,
  resetLinearBot,
  startLinearBot,
  type LinearBot,
} from "../support/linear-bot.js";
import { TEST_DISCORD_TOKEN, startTestSwitchboard } from "../support/switchboard-harness.js";

const UNMAPPED_CHANNEL = "300000000000000011";

let bot: LinearBot;

beforeAll(async () => {
  bot = await startLinearBot({ config: CREATE_ISSUES_CONFIG });
});
afterAll(() => bot.close());
beforeEach(() => resetLinearBot(bot));

function userMessage(content = "The export button does nothing", channelId = FAKE_CHANNEL_ID): FakeMessage {
  return bot.discord.seedMessage({ channelId, content, author: { id: GRACE.id, username: GRACE.username } });
}

function reaction(
  message: FakeMessage,
  options: { user?: { id: string; username: string; bot?: boolean }; roles?: string[]; emoji?: string } = {},
): GatewayMessageReactionAddDispatchData {
  const user = options.user ?? ADA;
  return {
    user_id: user.id,
    channel_id: message.channelId,
    message_id: message.id,
    guild_id: FAKE_GUILD_ID,
    member: {
      user: { discriminator: "0", global_name: null, avatar: null, ...user },
      roles: options.roles ?? [CREATOR_ROLE],
      joined_at: "2024-01-01T00:00:00.000000+00:00",
      deaf: false,
      mute: false,
      flags: 0,
    },
    emoji: { id: null, name: options.emoji ?? "📌" },
    message_author_id: GRACE.id,
    burst: false,
    burst_colors: [],
    type: 0,
  } as unknown as GatewayMessageReactionAddDispatchData;
}

const react = (event: GatewayMessageReactionAddDispatchData) =>
  handleFeedbackReaction(event, bot.feedbackDeps);

function contextMenu(
  message: FakeMessage,
  options: { roles?: string[]; user?: typeof ADA } = {},
): APIInteraction {
  return messageContextMenu("Create Linear issue", {
    user: options.user ?? ADA,
    roles: options.roles ?? [CREATOR_ROLE],
    channelId: message.channelId,
    message: { id: message.id, content: message.content, author: GRACE, channelId: message.channelId },
  });
}

const issuesTitled = (title: string) => bot.linear.issues.filter((issue) => issue.title === title);
/** What the bot posted in the thread on `message`. */
const threadReplies = (message: FakeMessage) =>
  bot.discord.messages.filter((m) => m.channelId === message.id);
const threadsOn = (message: FakeMessage) => bot.discord.threads.filter((thread) => thread.id === message.id);

/** A claim on `message` that an earlier attempt took `ageMs` ago and never finished. */
async function insertClaim(message: FakeMessage, createdBy: string, ageMs: number): Promise<void> {
  await bot.store.db
    .insertInto("feedback_captures")
    .values({
      message_id: message.id,
      channel_id: message.channelId,
      guild_id: FAKE_GUILD_ID,
      issue_id: null,
      issue_identifier: null,
      issue_url: null,
      status: "creating",
      created_by: createdBy,
      created_at: bot.services.clock() - ageMs,
    })
    .execute();
}

describe("feedback reaction", () => {
  it("files the message as one Linear issue in the channel's team and replies in a thread with the link", async () => {
    const message = userMessage("Export is broken\nOn Firefox only.");
    expect(await react(reaction(message))).toBe("created");

    const [issue] = issuesTitled("Export is broken");
    expect(issue).toBeDefined();
    expect(bot.linear.teams.find((team) => team.id === issue!.teamId)?.key).toBe("ENG");
    expect(issue!.id).toBe(feedbackIssueId(message.id));
    expect(issue!.description).toContain("> Export is broken\n> On Firefox only.");
    expect(issue!.description).toContain("Posted by **grace**");
    expect(issue!.description).toContain("filed by **ada**");
    expect(issue!.description).toContain(
      `[Jump to message](https://discord.com/channels/${FAKE_GUILD_ID}/${FAKE_CHANNEL_ID}/${message.id})`,
    );

    expect(threadsOn(message)).toHaveLength(1);
    expect(threadsOn(message)[0]!.name).toBe(`${issue!.identifier} Export is broken`);
    const replies = threadReplies(message);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.content).toContain(
      `[${issue!.identifier}](https://linear.app/acme/issue/${issue!.identifier}/`,
    );
    expect(replies[0]!.allowed_mentions).toEqual({ parse: [] });

    expect(await findFeedbackCapture(bot.store.db, message.id)).toMatchObject({
      status: "created",
      issue_identifier: issue!.identifier,
      created_by: ADA.id,
      guild_id: FAKE_GUILD_ID,
    });
    expect((await listRecentAudit(bot.store.db, 1))[0]).toMatchObject({
      action: "feedback reaction",
      outcome: "ok",
      detail: issue!.identifier,
    });
  });

  it("creates nothing more when the message is reacted to again, by anyone", async () => {
    const message = userMessage("Reacted twice");
    expect(await react(reaction(message))).toBe("created");
    expect(await react(reaction(message))).toBe("existing");
    expect(await react(reaction(message, { user: GRACE }))).toBe("existing");
    expect(issuesTitled("Reacted twice")).toHaveLength(1);
    expect(threadReplies(message)).toHaveLength(1);
  });

  it("creates exactly one issue and one thread reply when two reactions arrive together", async () => {
    const message = userMessage("Reacted at once");
    bot.linear.setLatency(150);
    const outcomes = await Promise.all([react(reaction(message)), react(reaction(message, { user: GRACE }))]);
    expect(outcomes.sort()).toEqual(["created", "in-progress"]);
    expect(issuesTitled("Reacted at once")).toHaveLength(1);
    expect(
      bot.linear.requests.filter(
        (r) =>
          r.operation === "CreateIssue" &&
          r.variables.input &&
          (r.variables.input as { title?: string }).title === "Reacted at once",
      ),
    ).toHaveLength(1);
    expect(threadsOn(message)).toHaveLength(1);
    expect(threadReplies(message)).toHaveLength(1);
  });

  it("ignores other emoji and bots", async () => {
    const message = userMessage("Thumbs up only");
    expect(await react(reaction(message, { emoji: "👍" }))).toBe("ignored");
    expect(
      await react(reaction(message, { user: { id: "100000000000000009", username: "otherbot", bot: true } })),
    ).toBe("ignored");
    expect(issuesTitled("Thumbs up only")).toHaveLength(0);
  });

  it("ignores a member without create-issues and records the denial", async () => {
    const message = userMessage("Not allowed");
    const before = bot.linear.requests.length;
    expect(await react(reaction(message, { user: GRACE, roles: [] }))).toBe("denied");
    expect(bot.linear.requests.length).toBe(before);
    expect(threadReplies(message)).toHaveLength(0);
    expect((await listRecentAudit(bot.store.db, 1))[0]).toMatchObject({
      user_id: GRACE.id,
      action: "feedback reaction",
      outcome: "denied",
    });
  });

  it("files nothing from a channel that maps to no team, and says why in the log", async () => {
    const message = userMessage("Wrong channel", UNMAPPED_CHANNEL);
    expect(await react(reaction(message))).toBe("failed");
    expect(issuesTitled("Wrong channel")).toHaveLength(0);
    expect(bot.logs.some((line) => line.includes("discord.feedback.channels"))).toBe(true);
  });

  it("lets a reaction after a rate-limited one file the message, once", async () => {
    const message = userMessage("Rate limited first");
    bot.linear.failWith({ kind: "ratelimited" }, { times: 1, operations: ["CreateIssue"] });
    expect(await react(reaction(message))).toBe("failed");
    expect(issuesTitled("Rate limited first")).toHaveLength(0);
    expect((await listRecentAudit(bot.store.db, 1))[0]).toMatchObject({ outcome: "refused" });

    expect(await react(reaction(message))).toBe("created");
    expect(issuesTitled("Rate limited first")).toHaveLength(1);
    expect(threadReplies(message)).toHaveLength(1);
  });

  it("adopts the issue a crashed attempt created instead of creating a second one", async () => {
    const message = userMessage("Crashed after creating");
    const team = (await bot.services.linear!.findTeam("ENG"))!;
    // The crashed attempt: its claim is stale and Linear has its issue, but the store never heard back.
    const orphan = await bot.services.linear!.createIssue({
      id: feedbackIssueId(message.id),
      teamId: team.id,
      title: "Crashed after creating",
    });
    await insertClaim(message, ADA.id, 10 * 60_000);

    expect(await react(reaction(message))).toBe("created");
    expect(issuesTitled("Crashed after creating")).toHaveLength(1);
    expect(await findFeedbackCapture(bot.store.db, message.id)).toMatchObject({
      status: "created",
      issue_identifier: orphan.identifier,
    });
    expect(threadReplies(message)).toHaveLength(1);
  });

  it("leaves a fresh claim alone: another attempt is still working on it", async () => {
    const message = userMessage("Claimed a moment ago");
    await insertClaim(message, GRACE.id, 5_000);
    expect(await react(reaction(message))).toBe("in-progress");
    expect(issuesTitled("Claimed a moment ago")).toHaveLength(0);
  });
});

describe('"Create Linear issue" context menu', () => {
  it("files the message with its attachments' links, replies in a thread, and tells the member the link", async () => {
    const message = userMessage("Menu filed");
    const interaction = contextMenu(message);
    const resolved = (interaction.data as { resolved: { messages: Record<string, APIMessage> } }).resolved;
    resolved.messages[message.id]!.attachments = [
      {
        id: "1",
        filename: "trace.txt",
        size: 12,
        url: "https://cdn.discordapp.com/attachments/1/2/trace.txt",
        proxy_url: "https://media.discordapp.net/attachments/1/2/trace.txt",
      },
    ];
    const answer = await bot.invoke(interaction);
    const [issue] = issuesTitled("Menu filed");
    expect(issue).toBeDefined();
    expect(issue!.description).toContain(
      "- [trace.txt](https://cdn.discordapp.com/attachments/1/2/trace.txt)",
    );
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe(
      `📌 Filed as **[${issue!.identifier}](https://linear.app/acme/issue/${issue!.identifier}/menu-filed)**.`,
    );
    expect(threadReplies(message)).toHaveLength(1);
    expect((await listRecentAudit(bot.store.db, 1))[0]).toMatchObject({
      action: "Create Linear issue",
      outcome: "ok",
    });
  });

  it("creates nothing after a reaction filed the message, and answers with the existing link", async () => {
    const message = userMessage("Reaction then menu");
    expect(await react(reaction(message))).toBe("created");
    const [issue] = issuesTitled("Reaction then menu");
    const requestsBefore = bot.linear.requests.length;

    const answer = await bot.invoke(contextMenu(message, { user: GRACE }));
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain(`already filed as **[${issue!.identifier}](`);
    expect(answer.content).toContain("nothing new was created");
    expect(bot.linear.requests.length).toBe(requestsBefore);
    expect(issuesTitled("Reaction then menu")).toHaveLength(1);
    expect(threadReplies(message)).toHaveLength(1);
  });

  it("refuses a member without the role, naming the role, and creates nothing", async () => {
    const message = userMessage("Menu without role");
    const before = bot.linear.requests.length;
    const answer = await bot.invoke(contextMenu(message, { roles: [], user: GRACE }));
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain(`<@&${CREATOR_ROLE}>`);
    expect(bot.linear.requests.length).toBe(before);
    expect((await listRecentAudit(bot.store.db, 1))[0]).toMatchObject({
      action: "Create Linear issue",
      outcome: "denied",
    });
  });

  it("says how to map a channel that has no team, and creates nothing", async () => {
    const message = userMessage("Menu in an unmapped channel", UNMAPPED_CHANNEL);
    const answer = await bot.invoke(contextMenu(message));
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(
      /No Linear team takes feedback from this channel.*discord\.feedback\.channels/,
    );
    expect(issuesTitled("Menu in an unmapped channel")).toHaveLength(0);
    expect(await findFeedbackCapture(bot.store.db, message.id)).toBeUndefined();
  });

  it("names LINEAR_API_KEY when Linear refuses the key, and a retry later works", async () => {
    const message = userMessage("Menu with a bad key");
    bot.linear.failWith({ kind: "unauthenticated" });
    const refused = await bot.invoke(contextMenu(message));
    expect(refused.ephemeral).toBe(true);
    expect(refused.content).toMatch(/LINEAR_API_KEY/);
    expect(issuesTitled("Menu with a bad key")).toHaveLength(0);

    bot.linear.clearFaults();
    bot.advance(60_000);
    const filed = await bot.invoke(contextMenu(message));
    expect(filed.content).toMatch(/^📌 Filed as/);
    expect(issuesTitled("Menu with a bad key")).toHaveLength(1);
  });

  it("asks to retry later when Linear rate-limits", async () => {
    const message = userMessage("Menu rate limited");
    bot.linear.failWith({ kind: "ratelimited", retryAfterSeconds: 30 });
    const answer = await bot.invoke(contextMenu(message));
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(/rate limiting Switchboard right now: try again in \d+ s/);
    expect(issuesTitled("Menu rate limited")).toHaveLength(0);
  });
});

describe("over the real gateway, inside a running Switchboard", () => {
  it("files a message on a 📌 reaction, once, and the context menu then answers with the same link", async () => {
    const discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
    const switchboard = await startTestSwitchboard({
      env: {
        DISCORD_TOKEN: TEST_DISCORD_TOKEN,
        DISCORD_API_URL: discord.url,
        LINEAR_API_KEY: bot.linear.apiKey,
        LINEAR_API_URL: bot.linear.url,
      },
      config: CREATE_ISSUES_CONFIG,
    });
    try {
      await discord.gateway.waitForSession();
      const message = discord.seedMessage({
        channelId: FAKE_CHANNEL_ID,
        content: "Filed over the gateway",
        author: { id: GRACE.id, username: GRACE.username },
      });
      const event = { ...reaction(message) } as unknown as Record<string, unknown>;
      expect(discord.gateway.dispatch("MESSAGE_REACTION_ADD", event)).toBe(1);
      discord.gateway.dispatch("MESSAGE_REACTION_ADD", { ...event, user_id: GRACE.id });
      await switchboard.waitFor(() => discord.messages.some((m) => m.channelId === message.id));
      await new Promise((resolve) => setTimeout(resolve, 200));

      const [issue] = issuesTitled("Filed over the gateway");
      expect(issuesTitled("Filed over the gateway")).toHaveLength(1);
      expect(discord.messages.filter((m) => m.channelId === message.id)).toHaveLength(1);

      const answer = await createBotDriver(discord).invoke(
        messageContextMenu("Create Linear issue", {
          user: GRACE,
          roles: [CREATOR_ROLE],
          message: { id: message.id, content: message.content, author: GRACE },
        }),
      );
      expect(answer.ephemeral).toBe(true);
      expect(answer.content).toContain(`already filed as **[${issue!.identifier}](`);
      expect(issuesTitled("Filed over the gateway")).toHaveLength(1);
    } finally {
      await switchboard.close();
      await discord.close();
    }
  });
});
