import { describe, expect, it } from "vitest";
import { truncate } from "../../src/events/text.js";
import { itemThreadName, renderItemCard } from "../../src/discord/render/item-card.js";
import { COLORS, NO_MENTIONS, embedLength, fitMessage, toMessage } from "../../src/discord/render/message.js";
import type { Embed, EventSummary } from "../../src/discord/render/message.js";
import { pullRequestSnapshot } from "../support/item-snapshots.js";

/** Discord's limits, written out from its documentation rather than imported, so a wrong constant fails. */
const DISCORD = {
  content: 2000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  author: 256,
  total: 6000,
} as const;

const EMOJI = "😀"; // two UTF-16 code units

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

function summary(overrides: Partial<EventSummary> = {}): EventSummary {
  return {
    title: "[acme/api] Pull request opened: #12 Fix the flux capacitor",
    url: "https://github.com/acme/api/pull/12",
    description: "It was off by 1.21 gigawatts.",
    color: COLORS.info,
    fields: [{ name: "Branch", value: "fix-flux → main", inline: true }],
    actor: {
      name: "octocat",
      url: "https://github.com/octocat",
      avatarUrl: "https://avatars/octocat.png",
      isBot: false,
    },
    timestamp: "2025-03-04T12:00:00.000Z",
    footer: "GitHub · acme/api",
    line: "acme/api #12 opened by octocat: Fix the flux capacitor",
    ...overrides,
  };
}

function only<T>(items: T[] | undefined): T {
  expect(items).toHaveLength(1);
  return items![0]!;
}

describe("truncate", () => {
  it("leaves text within the limit alone", () => {
    expect(truncate("short", 5)).toBe("short");
    expect(truncate("", 5)).toBe("");
  });

  it("cuts to exactly the limit, ending with an ellipsis", () => {
    const cut = truncate("abcdefghij", 5);
    expect(cut).toBe("abcd…");
    expect(cut).toHaveLength(5);
  });

  it("never splits a surrogate pair, whatever the cut point", () => {
    const text = `a${EMOJI.repeat(20)}`;
    for (let max = 1; max < text.length; max++) {
      const cut = truncate(text, max);
      expect(cut.length, `max ${max}`).toBeLessThanOrEqual(max);
      expect(hasLoneSurrogate(cut), `max ${max}: ${JSON.stringify(cut)}`).toBe(false);
      expect(cut.endsWith("…")).toBe(true);
    }
  });
});

describe("fitMessage", () => {
  it("cuts content to 2,000 characters", () => {
    const fitted = fitMessage({ content: "x".repeat(2500), allowed_mentions: NO_MENTIONS });
    expect(fitted.content).toHaveLength(DISCORD.content);
    expect(fitted.content!.endsWith("…")).toBe(true);
  });

  it("keeps content of exactly 2,000 characters whole", () => {
    const content = "y".repeat(DISCORD.content);
    expect(fitMessage({ content, allowed_mentions: NO_MENTIONS }).content).toBe(content);
  });

  it("cuts content full of emoji without leaving half a character", () => {
    const fitted = fitMessage({ content: EMOJI.repeat(1500), allowed_mentions: NO_MENTIONS });
    expect(fitted.content!.length).toBeLessThanOrEqual(DISCORD.content);
    expect(hasLoneSurrogate(fitted.content!)).toBe(false);
  });

  it("cuts every embed part to its own limit", () => {
    const fitted = fitMessage({
      embeds: [
        {
          title: "t".repeat(300),
          author: { name: "a".repeat(300) },
          footer: { text: "f".repeat(3000) },
          fields: [{ name: "n".repeat(300), value: "v".repeat(2000) }],
        },
      ],
      allowed_mentions: NO_MENTIONS,
    });
    const embed = only(fitted.embeds);
    expect(embed.title).toHaveLength(DISCORD.title);
    expect(embed.author!.name).toHaveLength(DISCORD.author);
    const field = only(embed.fields);
    expect(field.name).toHaveLength(DISCORD.fieldName);
    expect(field.value).toHaveLength(DISCORD.fieldValue);
    expect(embed.footer!.text).toHaveLength(DISCORD.footer);
  });

  it("cuts a 4,096+ description to 4,096 when the total allows it", () => {
    const embed = only(
      fitMessage({ embeds: [{ title: "t", description: "d".repeat(4500) }], allowed_mentions: NO_MENTIONS })
        .embeds,
    );
    expect(embed.description).toHaveLength(DISCORD.description);
  });

  it("keeps at most 25 fields and gives empty field names and values a visible placeholder", () => {
    const fields = Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, value: `v${i}` }));
    fields[0] = { name: "", value: "" };
    const embed = only(fitMessage({ embeds: [{ fields }], allowed_mentions: NO_MENTIONS }).embeds);
    expect(embed.fields).toHaveLength(DISCORD.fields);
    expect(embed.fields![0]!.name.length).toBeGreaterThan(0);
    expect(embed.fields![0]!.value.length).toBeGreaterThan(0);
    expect(embed.fields![24]!.name).toBe("f24");
  });

  it("keeps one embed within 6,000 characters by dropping trailing fields first", () => {
    const fields = Array.from({ length: 25 }, (_, i) => ({ name: `field ${i}`, value: "v".repeat(1024) }));
    const embed = only(
      fitMessage({
        embeds: [{ title: "Release notes", description: "intro", fields }],
        allowed_mentions: NO_MENTIONS,
      }).embeds,
    );
    expect(embedLength(embed)).toBeLessThanOrEqual(DISCORD.total);
    expect(embed.description).toBe("intro");
    expect(embed.fields!.length).toBeLessThan(25);
    expect(embed.fields![0]!.name).toBe("field 0");
  });

  it("shortens the description when title, author and footer at their limits leave too little room", () => {
    const embed = only(
      fitMessage({
        embeds: [
          {
            title: "t".repeat(DISCORD.title),
            description: "d".repeat(DISCORD.description),
            author: { name: "a".repeat(DISCORD.author) },
            footer: { text: "f".repeat(DISCORD.footer) },
          },
        ],
        allowed_mentions: NO_MENTIONS,
      }).embeds,
    );
    expect(embedLength(embed)).toBeLessThanOrEqual(DISCORD.total);
    expect(embed.title).toHaveLength(DISCORD.title);
    expect(embed.description!.endsWith("…")).toBe(true);
  });

  it("keeps several embeds within 6,000 characters in total", () => {
    const embeds: Embed[] = Array.from({ length: 3 }, (_, i) => ({
      title: `Embed ${i}`,
      description: "d".repeat(4000),
      fields: [{ name: "n", value: "v".repeat(1000) }],
    }));
    const fitted = fitMessage({ embeds, allowed_mentions: NO_MENTIONS });
    const total = fitted.embeds!.reduce((sum, embed) => sum + embedLength(embed), 0);
    expect(total).toBeLessThanOrEqual(DISCORD.total);
    expect(fitted.embeds).toHaveLength(3);
    expect(fitted.embeds![0]!.title).toBe("Embed 0");
  });

  it("does not change the message it was given", () => {
    const embed: Embed = { title: "t".repeat(300), fields: [{ name: "n", value: "v".repeat(2000) }] };
    fitMessage({ embeds: [embed], allowed_mentions: NO_MENTIONS });
    expect(embed.title).toHaveLength(300);
    expect(embed.fields![0]!.value).toHaveLength(2000);
  });

  it("makes titles one line", () => {
    const embed = only(
      fitMessage({ embeds: [{ title: "Fix\nthe\n\nbug" }], allowed_mentions: NO_MENTIONS }).embeds,
    );
    expect(embed.title).toBe("Fix the bug");
  });
});

describe("toMessage", () => {
  it("renders a full embed with title, link, author, footer and fields, and no content", () => {
    const message = toMessage(summary(), "full");
    expect(message.content).toBeUndefined();
    const embed = only(message.embeds);
    expect(embed).toMatchObject({
      title: "[acme/api] Pull request opened: #12 Fix the flux capacitor",
      url: "https://github.com/acme/api/pull/12",
      description: "It was off by 1.21 gigawatts.",
      color: COLORS.info,
      timestamp: "2025-03-04T12:00:00.000Z",
      author: { name: "octocat", url: "https://github.com/octocat", icon_url: "https://avatars/octocat.png" },
      footer: { text: "GitHub · acme/api" },
      fields: [{ name: "Branch", value: "fix-flux → main", inline: true }],
    });
  });

  it("renders compact style as one line of content with the link, and no embed", () => {
    const message = toMessage(summary({ line: "acme/api #12 opened\nby octocat" }), "compact");
    expect(message.embeds).toBeUndefined();
    expect(message.content).toBe("acme/api #12 opened by octocat <https://github.com/acme/api/pull/12>");
    expect(message.content).not.toContain("\n");
  });

  it("fits an oversized summary in both styles", () => {
    const huge = summary({
      title: `Title ${EMOJI.repeat(400)}`,
      description: "d".repeat(10_000),
      line: "l".repeat(5000),
      fields: Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, value: "v".repeat(3000) })),
    });
    const full = only(toMessage(huge, "full").embeds);
    expect(full.title!.length).toBeLessThanOrEqual(DISCORD.title);
    expect(hasLoneSurrogate(full.title!)).toBe(false);
    expect(full.description!.length).toBeLessThanOrEqual(DISCORD.description);
    expect(full.fields!.length).toBeLessThanOrEqual(DISCORD.fields);
    expect(embedLength(full)).toBeLessThanOrEqual(DISCORD.total);
    expect(toMessage(huge, "compact").content!.length).toBeLessThanOrEqual(DISCORD.content);
  });

  it("keeps the whole link in a compact line that had to be cut", () => {
    const url = "https://github.com/acme/api/pull/12";
    const content = toMessage(summary({ line: "x".repeat(5000), url }), "compact").content!;
    expect(content.length).toBeLessThanOrEqual(DISCORD.content);
    expect(content.endsWith(`<${url}>`)).toBe(true);
  });

  it.each(["full", "compact"] as const)("never lets user text ping anyone in %s style", (style) => {
    const message = toMessage(
      summary({ title: "@everyone <@123456789012345678> look", line: "@here <@&223456789012345678> urgent" }),
      style,
    );
    expect(message.allowed_mentions).toEqual({ parse: [] });
  });
});

describe("renderItemCard", () => {
  const item = pullRequestSnapshot;

  it.each([
    ["open", "🟢 Open", COLORS.info],
    ["draft", "📝 Draft", COLORS.warning],
    ["approved", "✅ Approved", COLORS.success],
    ["changes_requested", "🟠 Changes requested", COLORS.warning],
    ["merged", "🟣 Merged", COLORS.merged],
    ["closed", "⚪ Closed", COLORS.neutral],
  ])("shows a %s pull request with its status and colour", (status, label, color) => {
    const card = renderItemCard(item({ status }));
    const embed = only(card.embeds);
    expect(embed.title).toBe("#12 Fix the flux capacitor");
    expect(embed.url).toBe("https://github.com/acme/api/pull/12");
    expect(embed.color).toBe(color);
    expect(embed.fields![0]).toEqual({ name: "Status", value: label, inline: true });
    expect(embed.footer).toEqual({ text: "Pull request · acme/api" });
    expect(card.allowed_mentions).toEqual({ parse: [] });
  });

  it.each([
    ["In Progress", COLORS.info],
    ["Done", COLORS.success],
    ["Canceled", COLORS.neutral],
    ["Duplicate", COLORS.neutral],
  ])("shows a Linear issue in its team's state name %s", (status, color) => {
    const embed = only(
      renderItemCard(
        item({
          kind: "linear_issue",
          key: "linear:issue:1",
          reference: "ENG-123",
          title: "Login fails on Safari",
          status,
          container: "ENG",
        }),
      ).embeds,
    );
    expect(embed.fields![0]).toEqual({ name: "Status", value: status, inline: true });
    expect(embed.color).toBe(color);
    expect(embed.footer).toEqual({ text: "Linear issue · ENG" });
  });

  it("lists author, assignee and labels when known", () => {
    const embed = only(renderItemCard(item({ assignee: "hubot", labels: ["bug", "backend"] })).embeds);
    expect(embed.fields).toEqual([
      { name: "Status", value: "🟢 Open", inline: true },
      { name: "Author", value: "octocat", inline: true },
      { name: "Assignee", value: "hubot", inline: true },
      { name: "Labels", value: "bug, backend", inline: false },
    ]);
  });

  it("fits a very long title and label list, and names the thread within 100 characters", () => {
    const long = item({
      title: `${EMOJI.repeat(200)} and more`,
      labels: Array.from({ length: 200 }, (_, i) => `label-${i}`),
    });
    const embed = only(renderItemCard(long).embeds);
    expect(embed.title!.length).toBeLessThanOrEqual(DISCORD.title);
    expect(hasLoneSurrogate(embed.title!)).toBe(false);
    expect(embed.fields!.find((field) => field.name === "Labels")!.value.length).toBeLessThanOrEqual(
      DISCORD.fieldValue,
    );
    const threadName = itemThreadName(long);
    expect(threadName.length).toBeLessThanOrEqual(100);
    expect(hasLoneSurrogate(threadName)).toBe(false);
  });
});
