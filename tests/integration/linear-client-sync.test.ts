import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/errors.js";
import type { LinearApi } from "../../src/sources/linear/linear-api.js";
import { createLinearClient } from "../../src/sources/linear/linear-client.js";
import { startFakeLinear, type FakeLinear } from "../fakes/linear-server.js";

let linear: FakeLinear;
let client: Required<LinearApi>;

beforeAll(async () => {
  linear = await startFakeLinear();
  client = createLinearClient({ apiKey: linear.apiKey, apiUrl: linear.url }) as Required<LinearApi>;
});
afterAll(() => linear.close());

describe("Linear client: state moves, attachments and updates since a cursor", () => {
  it("moves an issue to a state named without regard to case, and says when the team has no such state", async () => {
    const issue = linear.addIssue({ teamKey: "ENG", title: "Ship it" });
    expect(await client.moveIssueToState(issue.identifier, "done")).toBe(true);
    expect(issue.state.name).toBe("Done");
    const movesBefore = linear.requests.filter((r) => r.operation === "UpdateIssueState").length;
    expect(await client.moveIssueToState(issue.id, "Done")).toBe(true);
    expect(linear.requests.filter((r) => r.operation === "UpdateIssueState").length).toBe(movesBefore);
    expect(await client.moveIssueToState(issue.identifier, "Deployed to Mars")).toBe(false);
    expect(issue.state.name).toBe("Done");
  });

  it("is a NotFoundError to move an issue that does not exist", async () => {
    await expect(client.moveIssueToState("ENG-9999", "Done")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("attaches a URL once and lists the attached URLs", async () => {
    const issue = linear.addIssue({ teamKey: "ENG", title: "Link me" });
    expect(await client.listAttachmentUrls(issue.identifier)).toEqual([]);
    const pr = "https://github.com/acme/api/pull/7";
    await client.attachUrl(issue.identifier, pr, "acme/api#7 Fix login");
    await client.attachUrl(issue.identifier, pr, "acme/api#7 Fix login");
    expect(await client.listAttachmentUrls(issue.id)).toEqual([pr]);
    expect(issue.attachments).toEqual([{ url: pr, title: "acme/api#7 Fix login" }]);
  });

  it("lists issues updated after a cursor, oldest first, at most the limit", async () => {
    const cursor = linear.now();
    const first = linear.addIssue({ teamKey: "ENG", title: "First" });
    const second = linear.addIssue({ teamKey: "DES", title: "Second" });
    linear.updateIssue(first.identifier, { stateType: "started" });
    const updated = await client.listIssuesUpdatedSince(cursor);
    expect(updated.map((issue) => [issue.identifier, issue.state.name])).toEqual([
      [second.identifier, "Todo"],
      [first.identifier, "In Progress"],
    ]);
    expect((await client.listIssuesUpdatedSince(cursor, 1)).map((issue) => issue.identifier)).toEqual([
      second.identifier,
    ]);
    expect(await client.listIssuesUpdatedSince(updated.at(-1)!.updatedAt)).toEqual([]);
  });

  it("lists issues completed after a time, by completion and not by later edits, and not once reopened", async () => {
    const cursor = linear.now();
    const done = linear.addIssue({ teamKey: "ENG", title: "Done today" });
    const reopened = linear.addIssue({ teamKey: "ENG", title: "Reopened" });
    const earlier = linear.addIssue({ teamKey: "ENG", title: "Done before", stateType: "completed" });
    earlier.completedAt = new Date(Date.parse(cursor) - 60_000).toISOString();
    await client.moveIssueToState(done.identifier, "Done");
    await client.moveIssueToState(reopened.identifier, "Done");
    await client.moveIssueToState(reopened.identifier, "In Progress");
    linear.updateIssue(earlier.identifier, { title: "Done before, renamed after" });

    const completed = await client.listIssuesCompletedSince(cursor);

    expect(completed.map((issue) => [issue.identifier, issue.state.type])).toEqual([
      [done.identifier, "completed"],
    ]);
  });
});
