import { describe, expect, it } from "vitest";
import { renderLinearIssueCard, renderLinearIssueList } from "../../src/discord/render/linear-issue-card.js";
import type { LinearIssue } from "../../src/sources/linear/linear-api.js";

const issue: LinearIssue = {
  id: "3f1c2b9e-8a7d-4c6b-9e5f-0a1b2c3d4e5f",
  identifier: "ENG-123",
  title: "Login fails with *SSO*",
  url: "https://linear.app/acme/issue/ENG-123/login-fails",
  description: "Steps:\n1. Open the app\n2. @everyone",
  priority: 2,
  priorityLabel: "High",
  state: { name: "In Progress", type: "started", color: "#f2c94c" },
  team: { key: "ENG", name: "Engineering" },
  assignee: { name: "Ada Lovelace", displayName: "ada" },
  labels: ["bug", "auth_flow"],
  createdAt: "2025-05-01T10:00:00.000Z",
  updatedAt: "2025-05-02T10:00:00.000Z",
};

describe("Linear issue card", () => {
  it("shows status, priority, assignee and labels, links to Linear and mentions nobody", () => {
    const message = renderLinearIssueCard(issue);
    expect(message.allowed_mentions).toEqual({ parse: [] });
    const embed = message.embeds![0]!;
    expect(embed).toMatchObject({
      title: "ENG-123 Login fails with *SSO*",
      url: issue.url,
      color: 0xf2c94c,
      footer: { text: "Linear · ENG Engineering" },
      timestamp: issue.updatedAt,
    });
    expect(embed.description).toContain("1. Open the app");
    expect(embed.fields).toEqual([
      { name: "Status", value: "🟡 In Progress", inline: true },
      { name: "Priority", value: "🟠 High", inline: true },
      { name: "Assignee", value: "Ada Lovelace", inline: true },
      { name: "Labels", value: "bug, auth\\_flow", inline: false },
    ]);
  });

  it("says Unassigned, and falls back to a state-type colour without a usable state colour", () => {
    const embed = renderLinearIssueCard({
      ...issue,
      assignee: null,
      labels: [],
      description: null,
      state: { name: "Done", type: "completed", color: "" },
    }).embeds![0]!;
    expect(embed.fields?.find((field) => field.name === "Assignee")?.value).toBe("Unassigned");
    expect(embed.fields?.some((field) => field.name === "Labels")).toBe(false);
    expect(embed.description).toBeUndefined();
    expect(embed.color).toBe(0x22c55e);
  });

  it("previews long descriptions only", () => {
    const embed = renderLinearIssueCard({ ...issue, description: "x".repeat(5000) }).embeds![0]!;
    expect(embed.description!.length).toBeLessThanOrEqual(500);
  });
});

describe("Linear issue list", () => {
  it("lists one linked line per issue with escaped titles", () => {
    const message = renderLinearIssueList(
      [issue, { ...issue, identifier: "ENG-9", priority: 0, title: "Tidy [docs]" }],
      "Your open Linear issues",
    );
    const embed = message.embeds![0]!;
    expect(embed.title).toBe("Your open Linear issues");
    expect(embed.description!.split("\n")).toEqual([
      "[ENG-123](https://linear.app/acme/issue/ENG-123/login-fails) Login fails with \\*SSO\\* · 🟡 In Progress · 🟠 High",
      "[ENG-9](https://linear.app/acme/issue/ENG-123/login-fails) Tidy \\[docs\\] · 🟡 In Progress",
    ]);
    expect(message.allowed_mentions).toEqual({ parse: [] });
  });

  it("says so when there is nothing", () => {
    expect(renderLinearIssueList([], "Your open Linear issues").content).toBe(
      "Your open Linear issues: none. 🎉",
    );
  });
});
