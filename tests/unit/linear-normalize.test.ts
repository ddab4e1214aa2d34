import { describe, expect, it } from "vitest";
import type { FieldChange, LinearEvent, NormalizeResult } from "../../src/events/domain-event.js";
import { linearFixtureNames, loadLinearFixture } from "../../src/sources/linear/fixtures.js";
import { normalizeLinear } from "../../src/sources/linear/normalize.js";

const receivedAt = new Date("2025-03-04T12:00:00.000Z");
const ISSUE_ID = "8c3f1a2b-4d5e-4f6a-9b7c-2d1e0f3a4b5c";

function normalizePayload(payload: unknown, deliveryId = "delivery-1"): NormalizeResult {
  return normalizeLinear({ deliveryId, payload, receivedAt });
}

function fixturePayload(name: string): Record<string, unknown> {
  return structuredClone(loadLinearFixture(name).payload) as Record<string, unknown>;
}

function eventOf(result: NormalizeResult): LinearEvent {
  if (result.outcome !== "event") throw new Error(`expected an event, got ignored: ${result.reason}`);
  if (result.event.source !== "linear") throw new Error("expected a Linear event");
  return result.event;
}

function fixtureEvent(name: string): LinearEvent {
  return eventOf(normalizePayload(loadLinearFixture(name).payload, `delivery-${name}`));
}

function ignoredReason(result: NormalizeResult): string {
  if (result.outcome !== "ignored") throw new Error(`expected ignored, got ${result.event.name}`);
  return result.reason;
}

describe("Linear fixtures", () => {
  it("lists every fixture, sorted, and gives each its Linear-Event header", () => {
    const names = linearFixtureNames();
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(
      expect.arrayContaining([
        "Issue.create",
        "Issue.update.state",
        "Issue.update.noise",
        "Comment.create",
        "ProjectUpdate.create",
        "IssueLabel.create",
      ]),
    );
    for (const name of names) {
      const { event, payload } = loadLinearFixture(name);
      expect(event).toBe(name.split(".")[0]);
      expect(payload).toMatchObject({ type: event });
    }
  });

  it("keeps every top-level field a real Linear delivery has", () => {
    for (const name of linearFixtureNames()) {
      const payload = fixturePayload(name);
      for (const field of ["action", "actor", "createdAt", "data", "url", "type", "organizationId"]) {
        expect(payload, `${name} lacks ${field}`).toHaveProperty(field);
      }
      expect(typeof payload.webhookTimestamp).toBe("number");
      expect(payload.webhookId).toMatch(/^[0-9a-f-]{36}$/);
      expect("updatedFrom" in payload).toBe(payload.action === "update");
    }
  });

  it("names the missing fixture and the known ones when asked for an unknown fixture", () => {
    expect(() => loadLinearFixture("Issue.nope")).toThrow(/Issue\.nope.*Known fixtures: .*Issue\.create/);
  });
});

describe("normalizeLinear: issues", () => {
  it("turns Issue.create into a linear.issue event with team, project, labels, actor and item", () => {
    const event = fixtureEvent("Issue.create");
    expect(event).toMatchObject({
      source: "linear",
      kind: "linear.issue",
      name: "Issue.create",
      action: "create",
      deliveryId: "delivery-Issue.create",
      occurredAt: "2025-03-04T09:12:45.318Z",
      team: "ENG",
      project: "Mobile launch",
      labels: ["Bug"],
      changes: [],
      actor: {
        name: "Ada Lovelace",
        url: "https://linear.app/acme/profiles/ada",
        avatarUrl: expect.stringContaining("https://"),
        isBot: false,
      },
      issue: {
        id: ISSUE_ID,
        identifier: "ENG-123",
        title: "Login fails on Safari",
        url: "https://linear.app/acme/issue/ENG-123/login-fails-on-safari",
        description: expect.stringContaining("Safari 17.4"),
        state: "Todo",
        stateType: "unstarted",
        priority: 2,
        priorityLabel: "High",
        estimate: 3,
        labels: ["Bug"],
        teamKey: "ENG",
      },
    });
    expect(event.item).toEqual({
      key: `linear:issue:${ISSUE_ID}`,
      kind: "linear_issue",
      reference: "ENG-123",
      title: "Login fails on Safari",
      url: "https://linear.app/acme/issue/ENG-123/login-fails-on-safari",
      author: "Ada Lovelace",
      status: "Todo",
      labels: ["Bug"],
      container: "ENG",
    });
  });

  it.each<[string, FieldChange[]]>([
    // updatedFrom has only the previous stateId, so the previous state's name is unknown.
    ["Issue.update.state", [{ field: "state", to: "In Progress" }]],
    ["Issue.update.completed", [{ field: "state", to: "Done" }]],
    ["Issue.update.assignee", [{ field: "assignee", from: "Unassigned", to: "Ada Lovelace" }]],
    ["Issue.update.priority", [{ field: "priority", from: "Low", to: "Urgent" }]],
    ["Issue.update.title", [{ field: "title", from: "Login broken", to: "Login fails on Safari" }]],
    ["Issue.update.labels", [{ field: "labels", from: "Bug", to: "Bug, Frontend" }]],
    ["Issue.update.estimate", [{ field: "estimate", from: "3", to: "5" }]],
  ])("reports what %s changed", (name, changes) => {
    const event = fixtureEvent(name);
    expect(event).toMatchObject({
      kind: "linear.issue",
      name: "Issue.update",
      action: "update",
      team: "ENG",
    });
    expect(event.kind === "linear.issue" && event.changes).toEqual(changes);
  });

  it("keeps the item snapshot current after an update", () => {
    const event = fixtureEvent("Issue.update.labels");
    expect(event.item).toMatchObject({
      key: `linear:issue:${ISSUE_ID}`,
      status: "In Progress",
      assignee: "Ada Lovelace",
      labels: ["Bug", "Frontend"],
    });
    expect(event.labels).toEqual(["Bug", "Frontend"]);
  });

  it("ignores an update that only moved the issue in a list (sortOrder, updatedAt)", () => {
    const result = normalizePayload(loadLinearFixture("Issue.update.noise").payload);
    expect(ignoredReason(result)).toBe("Issue.update changed nothing worth reporting");
  });

  it.each([["subIssueSortOrder"], ["prioritySortOrder"], ["description"], ["cycleId"], ["dueDate"]])(
    "ignores an update that only changed %s",
    (field) => {
      const payload = fixturePayload("Issue.update.noise");
      payload.updatedFrom = { updatedAt: "2025-03-04T11:20:09.144Z", [field]: null };
      expect(ignoredReason(normalizePayload(payload))).toBe("Issue.update changed nothing worth reporting");
    },
  );

  it("lists several changes of one update in a fixed order", () => {
    const payload = fixturePayload("Issue.update.state");
    payload.updatedFrom = {
      title: "Old",
      priority: 0,
      stateId: "x",
      assigneeId: "someone-else",
      estimate: null,
    };
    const event = eventOf(normalizePayload(payload));
    expect(event.kind === "linear.issue" && event.changes).toEqual([
      { field: "state", to: "In Progress" },
      { field: "assignee", to: "Ada Lovelace" },
      { field: "priority", from: "No priority", to: "High" },
      { field: "title", from: "Old", to: "Login fails on Safari" },
      { field: "estimate", from: "None", to: "3" },
    ]);
  });

  it("says Unassigned when the assignee was removed", () => {
    const payload = fixturePayload("Issue.update.assignee");
    const data = payload.data as Record<string, unknown>;
    delete data.assignee;
    data.assigneeId = null;
    payload.updatedFrom = { assigneeId: "2c9f4b1e-8d7a-4f3c-b6e5-1a0d9c8b7f6e" };
    const event = eventOf(normalizePayload(payload));
    expect(event.kind === "linear.issue" && event.changes).toEqual([{ field: "assignee", to: "Unassigned" }]);
    expect(event.item?.assignee).toBeUndefined();
  });

  it("counts removed labels it cannot name instead of guessing", () => {
    const payload = fixturePayload("Issue.update.labels");
    payload.updatedFrom = { labelIds: ["4b3a2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d", "gone-1", "gone-2"] };
    const event = eventOf(normalizePayload(payload));
    expect(event.kind === "linear.issue" && event.changes).toEqual([
      { field: "labels", from: "Bug, 2 removed labels", to: "Bug, Frontend" },
    ]);
  });

  it("reports a project move with the new project's name", () => {
    const payload = fixturePayload("Issue.update.state");
    payload.updatedFrom = { projectId: null };
    const event = eventOf(normalizePayload(payload));
    expect(event.kind === "linear.issue" && event.changes).toEqual([
      { field: "project", from: "None", to: "Mobile launch" },
    ]);
  });

  it("turns Issue.remove into a remove event with the issue as it was", () => {
    const event = fixtureEvent("Issue.remove");
    expect(event).toMatchObject({
      kind: "linear.issue",
      name: "Issue.remove",
      action: "remove",
      changes: [],
    });
    expect(event.actor).toEqual({
      name: "Grace Hopper",
      url: "https://linear.app/acme/profiles/grace",
      isBot: false,
    });
    expect(event.item?.key).toBe(`linear:issue:${ISSUE_ID}`);
  });

  it("takes the team key from the identifier when the issue payload has no team", () => {
    const payload = fixturePayload("Issue.create");
    delete (payload.data as Record<string, unknown>).team;
    const event = eventOf(normalizePayload(payload));
    expect(event.team).toBe("ENG");
    expect(event.item?.container).toBe("ENG");
  });

  it.each([["OauthClient"], ["Integration"], ["bot"]])("marks an actor of type %s as a bot", (type) => {
    const payload = fixturePayload("Issue.create");
    payload.actor = { id: "a", name: "GitHub", type };
    expect(eventOf(normalizePayload(payload)).actor).toEqual({ name: "GitHub", isBot: true });
  });

  it("attributes a delivery without an actor to Linear, as a bot", () => {
    const payload = fixturePayload("Issue.create");
    delete payload.actor;
    expect(eventOf(normalizePayload(payload)).actor).toEqual({ name: "Linear", isBot: true });
  });
});

describe("normalizeLinear: comments", () => {
  it("turns Comment.create into a comment event on the issue's item", () => {
    const event = fixtureEvent("Comment.create");
    expect(event).toMatchObject({
      kind: "linear.comment",
      name: "Comment.create",
      action: "create",
      occurredAt: "2025-03-04T10:48:12.006Z",
      // The comment's issue has no team object: the key comes from the identifier ENG-123.
      team: "ENG",
      labels: [],
      actor: { name: "Grace Hopper", isBot: false },
      comment: {
        id: "a4f3e2d1-c0b9-4a8f-9e7d-6c5b4a3f2e1d",
        body: expect.stringContaining("Reproduced on Safari"),
        url: "https://linear.app/acme/issue/ENG-123/login-fails-on-safari#comment-a4f3e2d1",
      },
      issue: {
        id: ISSUE_ID,
        identifier: "ENG-123",
        title: "Login fails on Safari",
        url: "https://linear.app/acme/issue/ENG-123/login-fails-on-safari",
      },
    });
    expect(event.item).toMatchObject({
      key: `linear:issue:${ISSUE_ID}`,
      kind: "linear_issue",
      reference: "ENG-123",
      container: "ENG",
    });
  });

  it("finds the identifier in the comment URL when the issue payload only has id and title", () => {
    const payload = fixturePayload("Comment.create");
    const data = payload.data as Record<string, unknown>;
    data.issue = { id: ISSUE_ID, title: "Login fails on Safari" };
    const event = eventOf(normalizePayload(payload));
    expect(event).toMatchObject({ team: "ENG", issue: { identifier: "ENG-123" } });
    expect(event.item?.url).toBe("https://linear.app/acme/issue/ENG-123/login-fails-on-safari");
  });

  it("ignores a comment that is not on an issue", () => {
    const payload = fixturePayload("Comment.create");
    const data = payload.data as Record<string, unknown>;
    delete data.issue;
    data.issueId = null;
    data.projectUpdateId = "b7c6d5e4-f3a2-4b1c-9d0e-8f7a6b5c4d3e";
    expect(ignoredReason(normalizePayload(payload))).toMatch(/not an issue/);
  });

  it("ignores edited and removed comments", () => {
    for (const action of ["update", "remove"]) {
      const payload = fixturePayload("Comment.create");
      payload.action = action;
      expect(ignoredReason(normalizePayload(payload))).toBe(
        `Linear Comment.${action} deliveries are not reported`,
      );
    }
  });
});

describe("normalizeLinear: projects, project updates and cycles", () => {
  it("turns Project.create into a project event with its status", () => {
    const event = fixtureEvent("Project.create");
    expect(event).toMatchObject({
      kind: "linear.project",
      name: "Project.create",
      project: "Mobile launch",
      projectInfo: {
        id: "3e1b2c4d-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
        name: "Mobile launch",
        url: "https://linear.app/acme/project/mobile-launch-0f1a2b3c4d5e",
        state: "Planned",
      },
      changes: [],
      labels: [],
    });
  });

  it("reports a project's status change", () => {
    const event = fixtureEvent("Project.update.state");
    expect(event).toMatchObject({
      kind: "linear.project",
      action: "update",
      projectInfo: { state: "In Progress" },
      changes: [{ field: "state", to: "In Progress" }],
    });
  });

  it("reads the previous state by name from older project deliveries", () => {
    const payload = fixturePayload("Project.update.state");
    const data = payload.data as Record<string, unknown>;
    delete data.status;
    data.state = "started";
    payload.updatedFrom = { state: "planned" };
    expect(eventOf(normalizePayload(payload))).toMatchObject({
      projectInfo: { state: "Started" },
      changes: [{ field: "state", from: "Planned", to: "Started" }],
    });
  });

  it("ignores a project update that changed nothing reported", () => {
    const payload = fixturePayload("Project.update.state");
    payload.updatedFrom = { updatedAt: "2025-03-04T08:30:00.512Z", sortOrder: 12 };
    expect(ignoredReason(normalizePayload(payload))).toBe("Project.update changed nothing worth reporting");
  });

  it("turns ProjectUpdate.create into a project update event with its health", () => {
    expect(fixtureEvent("ProjectUpdate.create")).toMatchObject({
      kind: "linear.project_update",
      name: "ProjectUpdate.create",
      project: "Mobile launch",
      projectUpdate: {
        id: "b7c6d5e4-f3a2-4b1c-9d0e-8f7a6b5c4d3e",
        body: expect.stringContaining("App Store review"),
        url: "https://linear.app/acme/project/mobile-launch-0f1a2b3c4d5e/updates#project-update-b7c6d5e4",
        health: "atRisk",
      },
      projectInfo: {
        name: "Mobile launch",
        url: "https://linear.app/acme/project/mobile-launch-0f1a2b3c4d5e",
      },
    });
  });

  it("turns Cycle.create into a cycle event, with the team key read from the cycle URL", () => {
    const event = fixtureEvent("Cycle.create");
    expect(event).toMatchObject({
      kind: "linear.cycle",
      name: "Cycle.create",
      team: "ENG",
      actor: { name: "Linear", isBot: true },
      cycle: {
        id: "c9d8e7f6-a5b4-4c3d-8e2f-1a0b9c8d7e6f",
        number: 12,
        startsAt: "2025-03-03T05:00:00.000Z",
        endsAt: "2025-03-17T05:00:00.000Z",
        url: "https://linear.app/acme/team/ENG/cycle/12",
      },
    });
    expect(event.kind === "linear.cycle" && event.cycle.completedAt).toBeUndefined();
  });

  it("reports a cycle's completion", () => {
    expect(fixtureEvent("Cycle.update")).toMatchObject({
      kind: "linear.cycle",
      action: "update",
      cycle: { number: 12, completedAt: "2025-03-17T05:00:04.108Z" },
    });
  });

  it("ignores the daily cycle update that only recomputes scope history", () => {
    const payload = fixturePayload("Cycle.update");
    payload.updatedFrom = {
      updatedAt: "2025-03-16T05:00:02.441Z",
      scopeHistory: [3, 5],
      issueCountHistory: [1],
    };
    expect(ignoredReason(normalizePayload(payload))).toBe("Cycle.update changed nothing worth reporting");
  });
});

describe("normalizeLinear: deliveries it does not report", () => {
  it("ignores a model Switchboard does not report, naming it", () => {
    const result = normalizePayload(loadLinearFixture("IssueLabel.create").payload);
    expect(ignoredReason(result)).toBe("Linear IssueLabel.create deliveries are not reported");
  });

  it.each([
    ["Reaction.create"],
    ["Attachment.create"],
    ["Document.update"],
    ["Issue.restore"],
    ["Cycle.remove"],
  ])("ignores %s", (name) => {
    const [type, action] = name.split(".");
    const payload = { ...fixturePayload("Issue.create"), type, action };
    expect(ignoredReason(normalizePayload(payload))).toBe(`Linear ${name} deliveries are not reported`);
  });

  it("ignores an Issue delivery whose data lacks required fields, saying which", () => {
    const payload = fixturePayload("Issue.create");
    payload.data = { id: ISSUE_ID, title: 42 };
    const reason = ignoredReason(normalizePayload(payload));
    expect(reason).toMatch(/^Issue\.create payload does not have the expected shape: /);
    expect(reason).toContain("data.identifier");
    expect(reason).toContain("data.title");
  });

  it.each<[string, unknown]>([
    ["null", null],
    ["a string", "Issue"],
    ["an array", []],
    ["an empty object", {}],
    ["an envelope without data", { type: "Issue", action: "create", createdAt: "2025-03-04T09:12:45.318Z" }],
  ])("ignores %s as not a webhook delivery, without throwing", (_label, payload) => {
    expect(ignoredReason(normalizePayload(payload))).toMatch(/^Linear payload is not a webhook delivery: /);
  });

  it("never throws, even when reading the payload throws", () => {
    const hostile = {
      type: "Issue",
      action: "create",
      createdAt: "2025-03-04T09:12:45.318Z",
      get data(): never {
        throw new Error("boom");
      },
    };
    expect(() => normalizePayload(hostile)).not.toThrow();
    expect(normalizePayload(hostile).outcome).toBe("ignored");
  });
});
