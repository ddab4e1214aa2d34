import { describe, expect, it } from "vitest";
import type { ItemSnapshot } from "../../src/events/domain-event.js";
import { mergeItemSnapshot } from "../../src/pipeline/item-tracker.js";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { normalizeGitHub } from "../../src/sources/github/normalize.js";
import { loadLinearFixture } from "../../src/sources/linear/fixtures.js";
import { normalizeLinear } from "../../src/sources/linear/normalize.js";
import { pullRequestSnapshot } from "../support/item-snapshots.js";

const RECEIVED_AT = new Date("2025-03-04T12:00:00.000Z");

const pr = pullRequestSnapshot;

/** The item snapshot and event name of a real GitHub or Linear delivery. */
function githubItem(name: string): { item: ItemSnapshot; eventName: string } {
  const fixture = loadGitHubFixture(name);
  const result = normalizeGitHub({
    event: fixture.event,
    deliveryId: name,
    payload: fixture.payload,
    receivedAt: RECEIVED_AT,
  });
  if (result.outcome !== "event" || !result.event.item) throw new Error(`${name} has no item`);
  return { item: result.event.item, eventName: result.event.name };
}

function linearItem(name: string): { item: ItemSnapshot; eventName: string } {
  const result = normalizeLinear({
    deliveryId: name,
    payload: loadLinearFixture(name).payload,
    receivedAt: RECEIVED_AT,
  });
  if (result.outcome !== "event" || !result.event.item) throw new Error(`${name} has no item`);
  return { item: result.event.item, eventName: result.event.name };
}

/** Replays real deliveries about one item in order, as the inbox worker does. */
function replay(...steps: Array<{ item: ItemSnapshot; eventName: string }>): ItemSnapshot | undefined {
  return steps.reduce<ItemSnapshot | undefined>(
    (snapshot, step) => mergeItemSnapshot(snapshot, step.item, step.eventName),
    undefined,
  );
}

describe("mergeItemSnapshot", () => {
  it("takes the first snapshot of an item as it is", () => {
    const first = pr({ labels: ["bug"] });
    expect(mergeItemSnapshot(undefined, first, "pull_request.opened")).toEqual(first);
  });

  it("keeps an approval when a later label event reports the pull request as merely open", () => {
    const merged = mergeItemSnapshot(
      pr({ status: "approved" }),
      pr({ status: "open", labels: ["bug"] }),
      "pull_request.labeled",
    );
    expect(merged.status).toBe("approved");
    expect(merged.labels).toEqual(["bug"]);
  });

  it("keeps an approval across real review and label deliveries", () => {
    const snapshot = replay(
      githubItem("pull_request.opened"),
      githubItem("pull_request_review.submitted.approved"),
      githubItem("pull_request.labeled"),
    );
    expect(snapshot?.status).toBe("approved");
    expect(snapshot?.labels).toEqual(["bug"]);
  });

  it("keeps requested changes across a comment on the pull request", () => {
    const merged = mergeItemSnapshot(
      pr({ status: "changes_requested" }),
      pr({ status: "open" }),
      "issue_comment.created",
    );
    expect(merged.status).toBe("changes_requested");
  });

  it.each(["pull_request.reopened", "pull_request.ready_for_review", "pull_request.synchronize"])(
    "resets a review verdict to open on %s",
    (eventName) => {
      expect(mergeItemSnapshot(pr({ status: "approved" }), pr({ status: "open" }), eventName).status).toBe(
        "open",
      );
    },
  );

  it("shows a closed pull request as open again once it is reopened", () => {
    const snapshot = replay(githubItem("pull_request.closed.unmerged"), githubItem("pull_request.reopened"));
    expect(snapshot?.status).toBe("open");
  });

  it("lets a new verdict, a merge or a close replace an approval", () => {
    const approved = pr({ status: "approved" });
    expect(
      mergeItemSnapshot(approved, pr({ status: "changes_requested" }), "pull_request_review.submitted")
        .status,
    ).toBe("changes_requested");
    expect(mergeItemSnapshot(approved, pr({ status: "merged" }), "pull_request.closed").status).toBe(
      "merged",
    );
    expect(
      mergeItemSnapshot(approved, pr({ status: "draft" }), "pull_request.converted_to_draft").status,
    ).toBe("draft");
  });

  it("clears the labels when the last one is removed", () => {
    const merged = mergeItemSnapshot(pr({ labels: ["bug"] }), pr({ labels: [] }), "pull_request.unlabeled");
    expect(merged.labels).toEqual([]);
    expect(replay(githubItem("pull_request.labeled"), githubItem("pull_request.unlabeled"))?.labels).toEqual(
      [],
    );
  });

  it("clears the labels when a Linear update removes every label", () => {
    const linear = (labels: string[]): ItemSnapshot => ({
      key: "linear:issue:1",
      kind: "linear_issue",
      reference: "ENG-123",
      title: "Login fails on Safari",
      url: "https://linear.app/acme/issue/ENG-123",
      status: "In Progress",
      labels,
      container: "ENG",
    });
    expect(mergeItemSnapshot(linear(["Bug"]), linear([]), "Issue.update").labels).toEqual([]);
  });

  it("drops the assignee when an event shows the item unassigned", () => {
    const merged = mergeItemSnapshot(pr({ assignee: "hubot" }), pr(), "pull_request.review_requested");
    expect(merged.assignee).toBeUndefined();
  });

  it("keeps the previous status, labels and assignee when a Linear comment (which carries none) arrives", () => {
    const snapshot = replay(linearItem("Issue.update.labels"), linearItem("Comment.create"));
    const before = linearItem("Issue.update.labels").item;
    expect(linearItem("Comment.create").item.status).toBe("");
    expect(before.assignee).toBe("Ada Lovelace");
    expect(snapshot).toMatchObject({
      key: before.key,
      status: before.status,
      assignee: "Ada Lovelace",
      labels: ["Bug", "Frontend"],
      container: "ENG",
      title: before.title,
    });
  });

  it("takes new facts (title, assignee) from the latest event", () => {
    const merged = mergeItemSnapshot(
      pr({ title: "Old title" }),
      pr({ title: "New title", assignee: "hubot" }),
      "pull_request.review_requested",
    );
    expect(merged.title).toBe("New title");
    expect(merged.assignee).toBe("hubot");
  });
});
