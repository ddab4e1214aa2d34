import { describe, expect, it } from "vitest";
import type { LinearEvent } from "../../src/events/domain-event.js";
import { summarizeLinearEvent } from "../../src/discord/render/linear.js";
import { COLORS, LIMITS, embedLength, toMessage } from "../../src/discord/render/message.js";
import { linearFixtureNames, loadLinearFixture } from "../../src/sources/linear/fixtures.js";
import { normalizeLinear } from "../../src/sources/linear/normalize.js";

const receivedAt = new Date("2025-03-04T12:00:00.000Z");

function normalizeFixture(name: string): LinearEvent | undefined {
  const result = normalizeLinear({
    deliveryId: `delivery-${name}`,
    payload: loadLinearFixture(name).payload,
    receivedAt,
  });
  if (result.outcome !== "event" || result.event.source !== "linear") return undefined;
  return result.event;
}

function fixtureEvent(name: string): LinearEvent {
  const event = normalizeFixture(name);
  if (!event) throw new Error(`${name} yields no event`);
  return event;
}

function issueEvent(name: string): Extract<LinearEvent, { kind: "linear.issue" }> {
  const event = fixtureEvent(name);
  if (event.kind !== "linear.issue") throw new Error(`${name} is not an issue event`);
  return event;
}

const fixturesWithEvents = linearFixtureNames().filter((name) => normalizeFixture(name) !== undefined);

describe("summarizeLinearEvent snapshots", () => {
  it("has an event for every fixture except the noise and unhandled ones", () => {
    expect(linearFixtureNames().filter((name) => !fixturesWithEvents.includes(name))).toEqual([
      "Issue.update.noise",
      "IssueLabel.create",
    ]);
  });

  it.each(fixturesWithEvents)("renders %s in full and compact style", (name) => {
    const summary = summarizeLinearEvent(fixtureEvent(name));
    expect(toMessage(summary, "full")).toMatchSnapshot("full");
    expect(toMessage(summary, "compact")).toMatchSnapshot("compact");
  });
});

describe("summarizeLinearEvent: issues", () => {
  it("titles a new issue with its team, identifier and name, linked to the issue", () => {
    const summary = summarizeLinearEvent(fixtureEvent("Issue.create"));
    expect(summary.title).toBe("[ENG] Issue created: ENG-123 Login fails on Safari");
    expect(summary.url).toBe("https://linear.app/acme/issue/ENG-123/login-fails-on-safari");
    expect(summary.footer).toBe("Linear · ENG");
    expect(summary.color).toBe(COLORS.info);
    expect(summary.description).toContain("Signing in with a valid password");
    expect(summary.fields).toEqual([
      { name: "State", value: "Todo", inline: true },
      { name: "Priority", value: "High", inline: true },
      { name: "Estimate", value: "3", inline: true },
      { name: "Labels", value: "Bug", inline: true },
    ]);
  });

  it("says in one line which issue moved where, who moved it, and what it is", () => {
    const summary = summarizeLinearEvent(fixtureEvent("Issue.update.state"));
    expect(summary.line).toBe("ENG-123 moved to In Progress by Ada Lovelace: Login fails on Safari");
    expect(toMessage(summary, "compact").content).toBe(
      "ENG-123 moved to In Progress by Ada Lovelace: Login fails on Safari " +
        "<https://linear.app/acme/issue/ENG-123/login-fails-on-safari>",
    );
  });

  it("shows a state change as from → to", () => {
    const event = issueEvent("Issue.update.state");
    const known = { ...event, changes: [{ field: "state" as const, from: "Todo", to: "In Progress" }] };
    expect(summarizeLinearEvent(known).fields).toEqual([
      { name: "State", value: "Todo → In Progress", inline: true },
    ]);
    // Linear sends only the previous stateId, so the fixture's previous state is unknown.
    expect(summarizeLinearEvent(event).fields).toEqual([
      { name: "State", value: "→ In Progress", inline: true },
    ]);
  });

  it.each([
    [
      "Issue.update.assignee",
      "Assignee",
      "Unassigned → Ada Lovelace",
      "assigned to Ada Lovelace by Grace Hopper",
    ],
    ["Issue.update.priority", "Priority", "Low → Urgent", "priority set to Urgent by Grace Hopper"],
    ["Issue.update.title", "Title", "Login broken → Login fails on Safari", "renamed by Ada Lovelace"],
    ["Issue.update.labels", "Labels", "Bug → Bug, Frontend", "labels set to Bug, Frontend by Grace Hopper"],
    ["Issue.update.estimate", "Estimate", "3 → 5", "estimate set to 5 by Ada Lovelace"],
  ])("shows what %s changed as a field and in the line", (name, field, value, phrase) => {
    const summary = summarizeLinearEvent(fixtureEvent(name));
    expect(summary.fields).toEqual([expect.objectContaining({ name: field, value })]);
    expect(summary.line).toBe(`ENG-123 ${phrase}: Login fails on Safari`);
  });

  it("lists every change of a multi-field update", () => {
    const event = issueEvent("Issue.update.state");
    const summary = summarizeLinearEvent({
      ...event,
      changes: [
        { field: "state", to: "In Progress" },
        { field: "assignee", to: "Unassigned" },
      ],
    });
    expect(summary.title).toBe("[ENG] Issue moved to In Progress, unassigned: ENG-123 Login fails on Safari");
    expect(summary.fields?.map((field) => field.name)).toEqual(["State", "Assignee"]);
  });

  it("colours an issue moved to a completed state green", () => {
    const summary = summarizeLinearEvent(fixtureEvent("Issue.update.completed"));
    expect(summary.color).toBe(COLORS.success);
    expect(toMessage(summary, "full").embeds?.[0]?.color).toBe(0x22c55e);
  });

  it("colours a cancelled issue and a removed issue grey", () => {
    const event = issueEvent("Issue.update.state");
    const canceled = { ...event, issue: { ...event.issue, state: "Canceled", stateType: "canceled" } };
    expect(summarizeLinearEvent(canceled).color).toBe(COLORS.neutral);
    expect(summarizeLinearEvent(fixtureEvent("Issue.remove")).color).toBe(COLORS.neutral);
  });

  it("does not colour a label change on a completed issue as a completion", () => {
    const event = issueEvent("Issue.update.labels");
    const done = { ...event, issue: { ...event.issue, state: "Done", stateType: "completed" } };
    expect(summarizeLinearEvent(done).color).toBe(COLORS.info);
  });

  it("previews a 10,000-character description and stays within Discord's limits", () => {
    const event = issueEvent("Issue.create");
    const long = { ...event, issue: { ...event.issue, description: "word ".repeat(2_000) } };
    const message = toMessage(summarizeLinearEvent(long), "full");
    const embed = message.embeds?.[0];
    expect(embed?.description?.length).toBeLessThanOrEqual(500);
    expect(embed?.description?.endsWith("…")).toBe(true);
    expect(embedLength(embed!)).toBeLessThanOrEqual(LIMITS.embedsTotal);
  });

  it("cannot ping anyone, even with @everyone in the title", () => {
    const event = issueEvent("Issue.create");
    const hostile = {
      ...event,
      issue: { ...event.issue, title: "@everyone login is down <@123456789012345678>" },
    };
    const summary = summarizeLinearEvent(hostile);
    expect(summary.title).toContain("@everyone");
    expect(toMessage(summary, "full").allowed_mentions).toEqual({ parse: [] });
    expect(toMessage(summary, "compact").allowed_mentions).toEqual({ parse: [] });
  });
});

describe("summarizeLinearEvent: comments, projects and cycles", () => {
  it("shows a comment's full body and names the issue and author in the line", () => {
    const summary = summarizeLinearEvent(fixtureEvent("Comment.create"));
    expect(summary.title).toBe("[ENG] New comment on ENG-123 Login fails on Safari");
    expect(summary.url).toBe("https://linear.app/acme/issue/ENG-123/login-fails-on-safari#comment-a4f3e2d1");
    expect(summary.description).toContain("Fix is in the proxy config, not the app.");
    expect(summary.line).toMatch(
      /^Grace Hopper commented on ENG-123 \(Login fails on Safari\): Reproduced on/,
    );
    expect(summary.footer).toBe("Linear · ENG");
  });

  it("keeps a 10,000-character comment within Discord's limits in both styles", () => {
    const event = fixtureEvent("Comment.create");
    if (event.kind !== "linear.comment") throw new Error("not a comment");
    const long = { ...event, comment: { ...event.comment, body: "x".repeat(10_000) } };
    const summary = summarizeLinearEvent(long);
    const full = toMessage(summary, "full");
    expect(full.embeds?.[0]?.description?.length).toBe(LIMITS.embedDescription);
    expect(embedLength(full.embeds![0]!)).toBeLessThanOrEqual(LIMITS.embedsTotal);
    expect(toMessage(summary, "compact").content!.length).toBeLessThanOrEqual(LIMITS.content);
    expect(summary.line.length).toBeLessThan(400);
  });

  it("says which project moved to which status", () => {
    const summary = summarizeLinearEvent(fixtureEvent("Project.update.state"));
    expect(summary.title).toBe("Project moved to In Progress: Mobile launch");
    expect(summary.line).toBe("Project Mobile launch moved to In Progress by Grace Hopper");
    expect(summary.fields).toEqual([{ name: "Status", value: "→ In Progress", inline: true }]);
  });

  it("colours a completed project green", () => {
    const event = fixtureEvent("Project.update.state");
    if (event.kind !== "linear.project") throw new Error("not a project");
    const completed = {
      ...event,
      projectInfo: { ...event.projectInfo, state: "Completed" },
      changes: [{ field: "state" as const, to: "Completed" }],
    };
    expect(summarizeLinearEvent(completed).color).toBe(COLORS.success);
  });

  it.each([
    ["onTrack", "is on track", COLORS.success],
    ["atRisk", "is at risk", COLORS.warning],
    ["offTrack", "is off track", COLORS.failure],
  ])("colours a project update whose health is %s", (health, words, color) => {
    const event = fixtureEvent("ProjectUpdate.create");
    if (event.kind !== "linear.project_update") throw new Error("not a project update");
    const summary = summarizeLinearEvent({ ...event, projectUpdate: { ...event.projectUpdate, health } });
    expect(summary.color).toBe(color);
    expect(summary.title).toBe(`Project update: Mobile launch ${words}`);
    expect(summary.description).toContain("App Store review rejected build 1.0.3");
  });

  it("says a cycle completed, with its dates", () => {
    const summary = summarizeLinearEvent(fixtureEvent("Cycle.update"));
    expect(summary.title).toBe("[ENG] Cycle completed: Cycle 12 (2025-03-03 – 2025-03-17)");
    expect(summary.line).toBe("ENG Cycle 12 completed by Linear (2025-03-03 – 2025-03-17)");
    expect(summary.color).toBe(COLORS.success);
  });
});
