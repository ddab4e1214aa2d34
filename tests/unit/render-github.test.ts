import { describe, expect, it } from "vitest";
import type { Commit, GitHubEvent } from "../../src/events/domain-event.js";
import { summarizeGitHubEvent } from "../../src/discord/render/github.js";
import { COLORS, LIMITS, embedLength, toMessage } from "../../src/discord/render/message.js";
import { normalizeGitHub } from "../../src/sources/github/normalize.js";
import type { GitHubPullRequestPayload } from "../../src/sources/github/payloads.js";
import { githubFixtureNames, loadGitHubFixture } from "../fixtures/github/index.js";

const RECEIVED_AT = new Date("2024-05-01T12:00:00.000Z");
const REPO = "Codertocat/Hello-World";
const PR_TITLE = "Update the README with new information.";

function normalize(event: string, payload: unknown): GitHubEvent | undefined {
  const result = normalizeGitHub({ event, deliveryId: "delivery-1", payload, receivedAt: RECEIVED_AT });
  return result.outcome === "event" && result.event.source === "github" ? result.event : undefined;
}

function fixtureEvent(name: string): GitHubEvent {
  const fixture = loadGitHubFixture(name);
  const event = normalize(fixture.event, fixture.payload);
  if (!event) throw new Error(`fixture ${name} yields no event`);
  return event;
}

function openedPullRequest(change: (pr: GitHubPullRequestPayload["pull_request"]) => object): GitHubEvent {
  const payload = loadGitHubFixture("pull_request.opened").payload as GitHubPullRequestPayload;
  const event = normalize("pull_request", {
    ...payload,
    pull_request: { ...payload.pull_request, ...change(payload.pull_request) },
  });
  if (!event) throw new Error("the changed pull request no longer normalizes");
  return event;
}

const eventFixtures = githubFixtureNames().filter((name) => {
  const fixture = loadGitHubFixture(name);
  return normalize(fixture.event, fixture.payload) !== undefined;
});

describe("summarizeGitHubEvent", () => {
  it.each(eventFixtures)("renders %s as a full embed and a compact line", (name) => {
    const summary = summarizeGitHubEvent(fixtureEvent(name));
    expect(toMessage(summary, "full")).toMatchSnapshot("full");
    expect(toMessage(summary, "compact")).toMatchSnapshot("compact");
  });

  it("reports a merged pull request in purple with its number and title", () => {
    const summary = summarizeGitHubEvent(fixtureEvent("pull_request.closed.merged"));
    expect(summary.color).toBe(COLORS.merged);
    expect(summary.title).toBe(`[${REPO}] Pull request merged: #2 ${PR_TITLE}`);
    expect(summary.line).toBe(`${REPO} PR #2 merged by Codertocat: ${PR_TITLE}`);
    expect(summary.url).toBe(`https://github.com/${REPO}/pull/2`);
  });

  it("reports a pull request closed without merging in grey", () => {
    const summary = summarizeGitHubEvent(fixtureEvent("pull_request.closed.unmerged"));
    expect(summary.color).toBe(COLORS.neutral);
    expect(summary.title).toBe(`[${REPO}] Pull request closed without merging: #2 ${PR_TITLE}`);
  });

  it("reports a new pull request with its body, branches and diff size", () => {
    const message = toMessage(summarizeGitHubEvent(fixtureEvent("pull_request.opened")), "full");
    const embed = message.embeds![0]!;
    expect(embed.color).toBe(COLORS.info);
    expect(embed.description).toBe("This is a pretty simple change that we need to pull into master.");
    expect(embed.fields).toEqual([
      { name: "Branch", value: "`master` ← `changes`", inline: true },
      { name: "Changes", value: "+1 −1 in 1 file", inline: true },
    ]);
  });

  it("reports an approval in green and a request for changes in amber, with the review's words", () => {
    const approved = summarizeGitHubEvent(fixtureEvent("pull_request_review.submitted.approved"));
    const changes = summarizeGitHubEvent(fixtureEvent("pull_request_review.submitted.changes_requested"));
    expect(approved.color).toBe(COLORS.success);
    expect(approved.line).toBe(`${REPO} PR #2 approved by Codertocat: ${PR_TITLE}`);
    expect(changes.color).toBe(COLORS.warning);
    expect(changes.description).toBe("Please fix the spelling of 'commit' in the README before merging.");
    expect(changes.url).toBe(`https://github.com/${REPO}/pull/2#pullrequestreview-237895671`);
  });

  it("reports a failed workflow run in red and links to the run", () => {
    const summary = summarizeGitHubEvent(fixtureEvent("workflow_run.completed.failure"));
    expect(summary.color).toBe(COLORS.failure);
    expect(summary.title).toBe("[octo-org/octo-repo] Workflow failed: test #163");
    expect(summary.line).toBe("octo-org/octo-repo workflow test #163 failed on master");
    expect(summary.url).toBe("https://github.com/octo-org/octo-repo/actions/runs/289782451");
  });

  it("reports a failed deployment in red and links to its log", () => {
    const summary = summarizeGitHubEvent(fixtureEvent("deployment_status.created.failure"));
    expect(summary.color).toBe(COLORS.failure);
    expect(summary.line).toBe(`${REPO} deployment to production failed: master (f95f852)`);
    expect(summary.description).toBe("Health check failed after the deploy");
  });

  it("reports a force-push as a warning and links to the compare view", () => {
    const summary = summarizeGitHubEvent(fixtureEvent("push.forced"));
    expect(summary.color).toBe(COLORS.warning);
    expect(summary.line).toBe(`${REPO} force-push to master by Codertocat: 1 commit`);
    expect(summary.url).toBe(`https://github.com/${REPO}/compare/f95f852bd8fc...6113728f27ae`);
  });

  it("lists commits as short linked shas with title and author, at most ten, and counts the rest", () => {
    const push = fixtureEvent("push.forced");
    if (push.kind !== "github.push") throw new Error("expected a push");
    const commits: Commit[] = Array.from({ length: 25 }, (_, i) => ({
      sha: `${String(i).padStart(2, "0")}${"a".repeat(38)}`,
      title: `Commit number ${i}`,
      url: `https://github.com/${REPO}/commit/${i}`,
      author: "octocat",
    }));
    const summary = summarizeGitHubEvent({ ...push, forced: false, commits, totalCommits: 25 });
    const lines = summary.description!.split("\n");
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe(`[\`00aaaaa\`](https://github.com/${REPO}/commit/0) Commit number 0 - octocat`);
    expect(lines[10]).toBe("…and 15 more");
    expect(summary.line).toBe(`${REPO} push to master by Codertocat: 25 commits`);
  });

  it("keeps a 300-character title and a 10,000-character body within Discord's limits", () => {
    const event = openedPullRequest(() => ({ title: "T".repeat(300), body: "B".repeat(10_000) }));
    const summary = summarizeGitHubEvent(event);
    const full = toMessage(summary, "full");
    const embed = full.embeds![0]!;
    expect(embed.title!.length).toBeLessThanOrEqual(LIMITS.embedTitle);
    expect(embed.description!.length).toBeLessThanOrEqual(LIMITS.embedDescription);
    expect(embed.description!.endsWith("…")).toBe(true);
    expect(embedLength(embed)).toBeLessThanOrEqual(LIMITS.embedsTotal);
    for (const field of embed.fields ?? []) expect(field.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
    expect(toMessage(summary, "compact").content!.length).toBeLessThanOrEqual(LIMITS.content);
  });

  it("never lets a title ping anyone, in either style", () => {
    const summary = summarizeGitHubEvent(openedPullRequest(() => ({ title: "Deploy now @everyone <@123>" })));
    for (const style of ["full", "compact"] as const) {
      expect(toMessage(summary, style).allowed_mentions).toEqual({ parse: [] });
    }
    expect(summary.line).toBe(`${REPO} PR #2 opened by Codertocat: Deploy now @everyone <@123>`);
  });

  it("leaves the hidden instructions of a PR template out of the body excerpt", () => {
    const body = "<!-- Describe your change. Link the issue. -->\r\nFixes the typo.\r\n\r\n\r\n\r\nThanks!";
    const summary = summarizeGitHubEvent(openedPullRequest(() => ({ body })));
    expect(summary.description).toBe("Fixes the typo.\n\nThanks!");
  });

  it("marks a draft pull request as a warning", () => {
    const summary = summarizeGitHubEvent(openedPullRequest(() => ({ draft: true })));
    expect(summary.color).toBe(COLORS.warning);
    expect(summary.line).toBe(`${REPO} PR #2 opened as draft by Codertocat: ${PR_TITLE}`);
  });

  it("writes every compact line on one line, naming the repo and the actor where there is one", () => {
    for (const name of eventFixtures) {
      const summary = summarizeGitHubEvent(fixtureEvent(name));
      expect(summary.line, name).not.toMatch(/\n/);
      expect(summary.line.startsWith(`${fixtureEvent(name).repo} `), name).toBe(true);
      expect(summary.footer, name).toBe(`GitHub · ${fixtureEvent(name).repo}`);
    }
  });
});
