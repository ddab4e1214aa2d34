import { describe, expect, it } from "vitest";
import { COLORS, embedLength, escapeMarkdown, LIMITS } from "../../src/discord/render/message.js";
import { renderPullRequestCard, renderPullRequestList } from "../../src/discord/render/pull-request-card.js";
import type { GitHubPullRequest } from "../../src/sources/github/github-api.js";
import {
  latestReviews,
  openPullRequestsQuery,
  summarizeChecks,
} from "../../src/sources/github/github-client.js";

function pullRequest(overrides: Partial<GitHubPullRequest> = {}): GitHubPullRequest {
  return {
    repo: "acme/api",
    number: 12,
    title: "Fix the flux capacitor",
    url: "https://github.com/acme/api/pull/12",
    author: "ada",
    state: "open",
    draft: false,
    headBranch: "fix-flux",
    baseBranch: "main",
    headSha: "a".repeat(40),
    createdAt: "2025-03-01T10:00:00Z",
    updatedAt: "2025-03-02T10:00:00Z",
    additions: 3,
    deletions: 1,
    changedFiles: 1,
    labels: [],
    requestedReviewers: [],
    reviews: [],
    checks: { passed: 0, failed: 0, pending: 0, failedNames: [] },
    ...overrides,
  };
}

describe("renderPullRequestCard", () => {
  it("renders a stable card", () => {
    expect(
      renderPullRequestCard(
        pullRequest({
          labels: ["bug"],
          requestedReviewers: ["dave"],
          reviews: [{ reviewer: "erin", state: "approved" }],
          checks: { passed: 2, failed: 0, pending: 1, failedNames: [] },
        }),
      ),
    ).toMatchInlineSnapshot(`
      {
        "allowed_mentions": {
          "parse": [],
        },
        "embeds": [
          {
            "color": 3900150,
            "description": "**ada** wants to merge \`fix-flux\` into \`main\` · opened <t:1740823200:R>",
            "fields": [
              {
                "inline": true,
                "name": "State",
                "value": "🟢 Open",
              },
              {
                "inline": true,
                "name": "Checks",
                "value": "⏳ 1 pending · ✅ 2 passed",
              },
              {
                "inline": true,
                "name": "Changes",
                "value": "+3 −1 in 1 file",
              },
              {
                "inline": false,
                "name": "Reviews",
                "value": "✅ **erin** approved
      ⏳ Waiting on **dave**",
              },
              {
                "inline": false,
                "name": "Labels",
                "value": "bug",
              },
            ],
            "footer": {
              "text": "GitHub · acme/api",
            },
            "timestamp": "2025-03-02T10:00:00Z",
            "title": "#12 Fix the flux capacitor",
            "url": "https://github.com/acme/api/pull/12",
          },
        ],
      }
    `);
  });

  it.each<[string, Partial<GitHubPullRequest>, number]>([
    ["merged", { state: "merged" }, COLORS.merged],
    ["closed", { state: "closed" }, COLORS.neutral],
    ["draft", { draft: true }, COLORS.warning],
    ["failing", { checks: { passed: 1, failed: 1, pending: 0, failedNames: ["lint"] } }, COLORS.failure],
    ["changes requested", { reviews: [{ reviewer: "bob", state: "changes_requested" }] }, COLORS.warning],
    ["approved and green", { reviews: [{ reviewer: "bob", state: "approved" }] }, COLORS.success],
    ["waiting", {}, COLORS.info],
  ])("colours a %s pull request", (_name, overrides, color) => {
    expect(renderPullRequestCard(pullRequest(overrides)).embeds![0]!.color).toBe(color);
  });

  it("names at most five failed checks", () => {
    const failedNames = ["a", "b", "c", "d", "e", "f", "g"];
    const card = renderPullRequestCard(
      pullRequest({ checks: { passed: 0, failed: 7, pending: 0, failedNames } }),
    );
    expect(card.embeds![0]!.fields![1]!.value).toBe("❌ 7 failed\nFailed: a, b, c, d, e, and 2 more");
  });

  it("stays within Discord's limits however long the title, labels and reviews are", () => {
    const card = renderPullRequestCard(
      pullRequest({
        title: "t".repeat(1000),
        labels: Array.from({ length: 200 }, (_, i) => `label-${i}`),
        reviews: Array.from({ length: 100 }, (_, i) => ({
          reviewer: `reviewer-${i}`,
          state: "commented" as const,
        })),
      }),
    );
    const embed = card.embeds![0]!;
    expect(embed.title!.length).toBeLessThanOrEqual(LIMITS.embedTitle);
    for (const field of embed.fields!) expect(field.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
    expect(embedLength(embed)).toBeLessThanOrEqual(LIMITS.embedsTotal);
  });
});

describe("renderPullRequestList", () => {
  const item = (number: number, title: string) => ({
    repo: "acme/api",
    number,
    title,
    url: `https://github.com/acme/api/pull/${number}`,
    author: "ada",
    createdAt: "2025-03-01T10:00:00Z",
  });

  it("numbers the items, escapes their titles and says how many more matched", () => {
    const message = renderPullRequestList(
      { items: [item(1, "Use *bold* [links](x)"), item(2, "Two")], total: 5 },
      { repo: "acme/api" },
    );
    const embed = message.embeds![0]!;
    expect(embed.description).toBe(
      [
        "1. [#1](https://github.com/acme/api/pull/1) Use \\*bold\\* \\[links\\]\\(x\\) by **ada**, opened <t:1740823200:R>",
        "2. [#2](https://github.com/acme/api/pull/2) Two by **ada**, opened <t:1740823200:R>",
      ].join("\n"),
    );
    expect(embed.footer!.text).toBe("Open, not draft, not yet approved · oldest first · 2 of 5 shown");
    expect(message.allowed_mentions).toEqual({ parse: [] });
  });
});

describe("escapeMarkdown", () => {
  it("makes mentions, links and emphasis read literally", () => {
    expect(escapeMarkdown("<@1> *a* _b_ ~~c~~ `d` ||e|| [f](g) > h")).toBe(
      "\\<@1\\> \\*a\\* \\_b\\_ \\~\\~c\\~\\~ \\`d\\` \\|\\|e\\|\\| \\[f\\]\\(g\\) \\> h",
    );
  });
});

describe("latestReviews", () => {
  const review = (login: string, state: string) => ({
    user: { login },
    state,
    submitted_at: null,
    html_url: null,
  });

  it("keeps each reviewer's latest decision, which a later comment does not undo but a dismissal does", () => {
    expect(
      latestReviews([
        review("ada", "COMMENTED"),
        review("ada", "APPROVED"),
        review("ada", "COMMENTED"),
        review("bob", "CHANGES_REQUESTED"),
        review("bob", "DISMISSED"),
        review("carol", "PENDING"),
        { user: null, state: "APPROVED", submitted_at: null, html_url: null },
      ]),
    ).toEqual([
      { reviewer: "ada", state: "approved" },
      { reviewer: "bob", state: "dismissed" },
    ]);
  });
});

describe("summarizeChecks", () => {
  it("counts check runs and commit statuses as passed, failed or pending", () => {
    expect(
      summarizeChecks(
        [
          { name: "build", status: "completed", conclusion: "success" },
          { name: "docs", status: "completed", conclusion: "skipped" },
          { name: "lint", status: "completed", conclusion: "failure" },
          { name: "slow", status: "completed", conclusion: "timed_out" },
          { name: "e2e", status: "queued", conclusion: null },
        ],
        [
          { context: "ci/jenkins", state: "success" },
          { context: "ci/legacy", state: "error" },
          { context: "deploy/preview", state: "pending" },
        ],
      ),
    ).toEqual({ passed: 3, failed: 3, pending: 2, failedNames: ["lint", "slow", "ci/legacy"] });
  });
});

describe("openPullRequestsQuery", () => {
  it("asks for open, non-draft, unapproved pull requests, scoped by repo and author", () => {
    expect(openPullRequestsQuery({ repo: "acme/api", author: "ada" })).toBe(
      "is:pr is:open draft:false -review:approved repo:acme/api author:ada",
    );
  });
});
