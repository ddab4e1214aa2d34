/**
 * The delivery linear-reconcile makes up for a missed update, read back by the real Linear normalizer: it
 * must say what changed since the last delivery seen, and be ignored as noise when nothing reportable did.
 */
import { describe, expect, it } from "vitest";
import { RECONCILED_ACTOR, reconciledDelivery } from "../../src/jobs/linear-reconcile.js";
import type { LinearIssueUpdate } from "../../src/sources/linear/linear-api.js";
import { normalizeLinear } from "../../src/sources/linear/normalize.js";
import type { LinearIssueData } from "../../src/sources/linear/payloads.js";

const issue: LinearIssueUpdate = {
  id: "8c3f1a2b-4d5e-4f6a-9b7c-2d1e0f3a4b5c",
  identifier: "ENG-7",
  title: "Login fails on Safari",
  url: "https://linear.app/acme/issue/ENG-7/login-fails-on-safari",
  description: null,
  priority: 1,
  priorityLabel: "Urgent",
  state: { name: "In Progress", type: "started", color: "#f2c94c" },
  team: { key: "ENG", name: "Engineering" },
  assignee: { name: "Ada Lovelace", displayName: "ada" },
  labels: ["Bug"],
  createdAt: "2025-03-04T09:00:00.000Z",
  updatedAt: "2025-03-04T10:00:00.000Z",
};

/** The issue as the last webhook showed it. */
const seen: LinearIssueData = {
  id: issue.id,
  identifier: "ENG-7",
  title: "Login fails",
  priority: 3,
  stateId: "state-todo",
  state: { id: "state-todo", name: "Todo" },
  assignee: null,
  labels: [{ id: "label-bug", name: "Bug" }],
};

function normalize(previous: LinearIssueData | undefined, current = issue) {
  const delivery = reconciledDelivery(current, previous, Date.parse("2025-03-04T10:30:00Z"));
  return {
    deliveryId: delivery.deliveryId,
    result: normalizeLinear({
      deliveryId: delivery.deliveryId,
      payload: JSON.parse(delivery.body),
      receivedAt: new Date(),
    }),
  };
}

describe("a reconciled Linear update", () => {
  it("names the issue and its update time in the delivery id, so it is stored once", () => {
    expect(normalize(seen).deliveryId).toBe(`reconcile:${issue.id}:2025-03-04T10:00:00.000Z`);
  });

  it("reports what changed since the last delivery seen, by the reconcile actor", () => {
    const { result } = normalize(seen);
    expect(result.outcome).toBe("event");
    if (result.outcome !== "event" || result.event.kind !== "linear.issue") return;
    expect(result.event.action).toBe("update");
    expect(result.event.actor).toMatchObject({ name: RECONCILED_ACTOR, isBot: false });
    expect(result.event.team).toBe("ENG");
    expect(result.event.changes).toEqual([
      { field: "state", to: "In Progress" },
      { field: "assignee", from: "Unassigned", to: "Ada Lovelace" },
      { field: "priority", from: "Medium", to: "Urgent" },
      { field: "title", from: "Login fails", to: "Login fails on Safari" },
    ]);
  });

  it("reports the current state when no earlier delivery is known", () => {
    const { result } = normalize(undefined);
    expect(
      result.outcome === "event" && result.event.kind === "linear.issue" && result.event.changes,
    ).toEqual([{ field: "state", to: "In Progress" }]);
  });

  it("is ignored as noise when nothing reportable changed (a description edit)", () => {
    const same: LinearIssueData = {
      ...seen,
      title: issue.title,
      priority: issue.priority,
      state: { id: "s", name: "In Progress" },
      assignee: { id: "u", name: "Ada Lovelace" },
    };
    expect(normalize(same).result).toMatchObject({ outcome: "ignored" });
  });
});
