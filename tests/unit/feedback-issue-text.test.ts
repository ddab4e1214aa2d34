import type { APIMessage } from "discord-api-types/v10";
import { describe, expect, it } from "vitest";
import { parseConfigFile } from "../../src/config/config-file.js";
import {
  describeFeedbackIssue,
  feedbackIssueId,
  feedbackTeamKey,
  matchesReaction,
  messageJumpLink,
  readableDiscordText,
  renderFeedbackReply,
} from "../../src/discord/feedback-capture.js";
import type { LinearIssue } from "../../src/sources/linear/linear-api.js";

const GUILD = "300000000000000001";
const CHANNEL = "300000000000000010";

function message(overrides: Partial<APIMessage> = {}): APIMessage {
  return {
    id: "400000000000000001",
    channel_id: CHANNEL,
    type: 0,
    content: "The export button does nothing\nClicked it three times on Firefox.",
    author: {
      id: "200000000000000002",
      username: "grace",
      global_name: "Grace Hopper",
      discriminator: "0",
      avatar: null,
    },
    timestamp: "2025-05-01T10:00:00.000000+00:00",
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    ...overrides,
  } as APIMessage;
}

const capturer = { id: "200000000000000001", username: "ada" };

describe("the Linear issue a Discord message becomes", () => {
  it("takes its title from the first line and quotes the whole text, with author and a jump link", () => {
    const { title, description } = describeFeedbackIssue(message(), GUILD, capturer);
    expect(title).toBe("The export button does nothing");
    expect(description).toContain("> The export button does nothing\n> Clicked it three times on Firefox.");
    expect(description).toContain("Posted by **Grace Hopper** (`grace`) on Discord");
    expect(description).toContain("filed by **ada**");
    expect(description).toContain(
      `[Jump to message](https://discord.com/channels/${GUILD}/${CHANNEL}/400000000000000001)`,
    );
  });

  it("lists attachments as links", () => {
    const { description } = describeFeedbackIssue(
      message({
        attachments: [
          {
            id: "1",
            filename: "screen_shot.png",
            size: 10,
            url: "https://cdn.discordapp.com/attachments/1/2/screen_shot.png",
            proxy_url: "https://media.discordapp.net/attachments/1/2/screen_shot.png",
          },
        ],
      }),
      GUILD,
      capturer,
    );
    expect(description).toContain(
      "**Attachments**\n- [screen\\_shot.png](https://cdn.discordapp.com/attachments/1/2/screen_shot.png)",
    );
  });

  it("names the author when the message has no text, and does not say 'filed by' when authors file their own", () => {
    const own = describeFeedbackIssue(message({ content: "" }), GUILD, {
      id: "200000000000000002",
      username: "grace",
    });
    expect(own.title).toBe("Feedback from Grace Hopper on Discord");
    expect(own.description).not.toContain("filed by");
  });

  it("keeps titles to 80 characters on one line", () => {
    const { title } = describeFeedbackIssue(
      message({ content: `${"word ".repeat(40)}\nsecond` }),
      GUILD,
      capturer,
    );
    expect(title.length).toBeLessThanOrEqual(80);
    expect(title.endsWith("…")).toBe(true);
  });

  it("reads Discord markup the way a Linear reader should see it", () => {
    const text = readableDiscordText("<@200000000000000002> and <@!9> see <#5> <@&7> <:party:123> <t:0:R>", [
      { id: "200000000000000002", username: "grace", global_name: null, discriminator: "0", avatar: null },
    ]);
    expect(text).toBe("@grace and @user see #channel @role :party: 1970-01-01T00:00:00.000Z");
  });

  it("uses an embed's text when the message has no content (a bot's message)", () => {
    const { title } = describeFeedbackIssue(
      message({ content: "", embeds: [{ title: "Deploy failed", description: "prod" }] }),
      GUILD,
      capturer,
    );
    expect(title).toBe("Deploy failed");
  });
});

describe("feedback capture's small rules", () => {
  it("derives one stable UUID v4-shaped issue id per message", () => {
    const id = feedbackIssueId("400000000000000001");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(feedbackIssueId("400000000000000001")).toBe(id);
    expect(feedbackIssueId("400000000000000002")).not.toBe(id);
  });

  it("maps a channel to its team, else the default team", () => {
    const config = parseConfigFile(
      `discord:\n  feedback:\n    team: OPS\n    channels:\n      "${CHANNEL}": ENG\n`,
      "test.yaml",
    );
    expect(feedbackTeamKey(config, CHANNEL)).toBe("ENG");
    expect(feedbackTeamKey(config, "300000000000000099")).toBe("OPS");
    expect(feedbackTeamKey(parseConfigFile("", "empty.yaml"), CHANNEL)).toBeUndefined();
  });

  it("matches the configured reaction, Unicode or custom", () => {
    expect(matchesReaction({ id: null, name: "📌" }, "📌")).toBe(true);
    expect(matchesReaction({ id: null, name: "👍" }, "📌")).toBe(false);
    expect(matchesReaction({ id: null, name: "❤" }, "❤️")).toBe(true);
    expect(matchesReaction({ id: "123", name: "bug" }, "<:bug:123>")).toBe(true);
    expect(matchesReaction({ id: "123", name: "bug" }, "bug:123")).toBe(true);
    expect(matchesReaction({ id: "123", name: "bug" }, "123")).toBe(true);
    expect(matchesReaction({ id: "123", name: "bug" }, "bug")).toBe(true);
    expect(matchesReaction({ id: "124", name: "bug" }, "<:bug:123>")).toBe(false);
    expect(matchesReaction({ id: "123", name: "bug" }, "📌")).toBe(false);
  });

  it("replies with the issue link and the filer's name, pinging nobody", () => {
    const issue = {
      identifier: "ENG-7",
      url: "https://linear.app/acme/issue/ENG-7/x",
      title: "Export @everyone",
    } as LinearIssue;
    const reply = renderFeedbackReply(issue, capturer);
    expect(reply.content).toContain("[ENG-7](https://linear.app/acme/issue/ENG-7/x)");
    expect(reply.allowed_mentions).toEqual({ parse: [] });
  });

  it("builds jump links Discord understands", () => {
    expect(messageJumpLink("1", "2", "3")).toBe("https://discord.com/channels/1/2/3");
  });
});
