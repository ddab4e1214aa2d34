import { describe, expect, it } from "vitest";
import { advance, fromGitHubState, isFinished } from "../../../src/deploy/deployment-state.js";

describe("deployment state machine", () => {
  it("maps GitHub's states, pending being queued", () => {
    expect(fromGitHubState("pending")).toBe("queued");
    expect(fromGitHubState("IN_PROGRESS")).toBe("in_progress");
    expect(fromGitHubState("waiting")).toBeUndefined();
  });

  it("moves forward through queued, in progress and a result", () => {
    expect(advance("requested", "queued")).toBe("queued");
    expect(advance("queued", "in_progress")).toBe("in_progress");
    expect(advance("in_progress", "success")).toBe("success");
    expect(advance("requested", "failure")).toBe("failure");
  });

  it("ignores repeated and stale statuses", () => {
    expect(advance("success", "success")).toBeUndefined();
    expect(advance("in_progress", "queued")).toBeUndefined();
    expect(advance("success", "in_progress")).toBeUndefined();
    expect(advance("failure", "success")).toBeUndefined();
  });

  it("lets only a newer deployment retire a success, and keeps approvals out of GitHub's hands", () => {
    expect(advance("success", "inactive")).toBe("inactive");
    expect(advance("failure", "inactive")).toBeUndefined();
    expect(advance("awaiting_approval", "success")).toBeUndefined();
    expect(advance("awaiting_approval", "requested")).toBe("requested");
    expect(advance("rejected", "requested")).toBeUndefined();
    expect(isFinished("success")).toBe(true);
    expect(isFinished("in_progress")).toBe(false);
  });
});
