import { describe, expect, it } from "vitest";
import { pickRollbackTarget } from "../../../src/deploy/rollback.js";
import type { DeploymentRow } from "../../../src/store/deployment-repository.js";

function deployment(id: number, sha: string, state: string, finishedAt: number | null = 1): DeploymentRow {
  return { id, sha, state, ref: sha, version: null, finished_at: finishedAt } as unknown as DeploymentRow;
}

describe("pickRollbackTarget", () => {
  it("picks the last success before the current one with another commit", () => {
    const history = [
      deployment(6, "f", "failure"),
      deployment(5, "c", "success"),
      deployment(4, "c", "inactive"), // the same commit deployed twice is not a rollback
      deployment(3, "b", "inactive"),
      deployment(2, "x", "failure"),
      deployment(1, "a", "inactive"),
    ];
    expect(pickRollbackTarget(history)?.id).toBe(3);
  });

  it("skips a deployment GitHub marked inactive before it finished: it never ran", () => {
    const history = [
      deployment(4, "c", "success"),
      deployment(3, "b", "inactive", null), // abandoned while in progress, then retired by GitHub
      deployment(2, "a", "inactive"),
    ];
    expect(pickRollbackTarget(history)?.id).toBe(2);
    expect(
      pickRollbackTarget([deployment(2, "c", "success"), deployment(1, "b", "inactive", null)]),
    ).toBeUndefined();
  });

  it("has nothing to roll back to with one version or none", () => {
    expect(pickRollbackTarget([])).toBeUndefined();
    expect(
      pickRollbackTarget([deployment(2, "a", "success"), deployment(1, "a", "inactive")]),
    ).toBeUndefined();
    expect(
      pickRollbackTarget([deployment(2, "b", "failure"), deployment(1, "a", "success")]),
    ).toBeUndefined();
  });
});
