/**
 * The deployment-mode tables on a real SQLite store: the conditional writes that keep two people from both
 * winning (a lock, a confirmation) and the queries the board and rollback read.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/database.js";
import type { Store } from "../../src/store/database.js";
import {
  currentDeployment,
  findDispatchedDeployment,
  insertDeployment,
  latestDeploymentPerEnvironment,
  listDeployments,
} from "../../src/store/deployment-repository.js";
import type { NewDeployment } from "../../src/store/deployment-repository.js";
import { findLock, lockEnvironment, unlockEnvironment } from "../../src/store/environment-lock-repository.js";
import { saveReleasePreview, settleReleasePreview } from "../../src/store/release-repository.js";
import { newDeployment } from "../support/deployment-rows.js";

let directory: string;
let store: Store;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "switchboard-deploy-store-"));
  store = await openStore(`sqlite:${join(directory, "switchboard.db")}`);
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

function deployment(patch: Partial<NewDeployment>): NewDeployment {
  return newDeployment({
    ref: "v1.0.0",
    version: "1.0.0",
    requested_by: "111",
    requested_by_name: "ada",
    created_at: 1,
    updated_at: 1,
    ...patch,
  });
}

describe("environment locks", () => {
  it("lets one person hold a lock; a second locker gets the holder back", async () => {
    const first = {
      environment: "production",
      locked_by: "111",
      locked_by_name: "ada",
      reason: "migration",
      locked_at: 1,
    };
    expect(await lockEnvironment(store.db, first)).toEqual(first);
    const second = await lockEnvironment(store.db, {
      ...first,
      locked_by: "222",
      locked_by_name: "bob",
      reason: "mine",
    });
    expect(second).toEqual(first);
    expect(await unlockEnvironment(store.db, "production")).toBe(true);
    expect(await unlockEnvironment(store.db, "production")).toBe(false);
    expect(await findLock(store.db, "production")).toBeUndefined();
  });
});

describe("release previews", () => {
  it("confirms once however many times Confirm is pressed", async () => {
    await saveReleasePreview(store.db, {
      id: "p1",
      release_name: "acme/api",
      repo: "acme/api",
      branch: "main",
      version: "1.1.0",
      tag: "v1.1.0",
      target_sha: "b".repeat(40),
      base_tag: "v1.0.0",
      prerelease: 0,
      dry_run: 0,
      notes: "- feat: x",
      linear_keys: "[]",
      created_by: "111",
      created_at: 1,
      expires_at: 2,
      status: "pending",
    });
    const results = await Promise.all([
      settleReleasePreview(store.db, "p1", "confirmed"),
      settleReleasePreview(store.db, "p1", "confirmed"),
      settleReleasePreview(store.db, "p1", "cancelled"),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe("deployment queries", () => {
  it("knows what runs where, what is in flight and which dispatch a webhook belongs to", async () => {
    await insertDeployment(store.db, deployment({ sha: "1".repeat(40), version: "1.0.0" }));
    await insertDeployment(store.db, deployment({ sha: "2".repeat(40), version: "1.1.0" }));
    await insertDeployment(store.db, deployment({ sha: "3".repeat(40), state: "awaiting_approval" }));
    await insertDeployment(store.db, deployment({ environment: "staging", state: "in_progress" }));
    const dispatched = await insertDeployment(
      store.db,
      deployment({
        environment: "staging",
        method: "workflow-dispatch",
        state: "requested",
        sha: "4".repeat(40),
      }),
    );

    expect((await currentDeployment(store.db, "production"))?.version).toBe("1.1.0");
    const latest = await latestDeploymentPerEnvironment(store.db, ["production", "staging", "qa"]);
    expect(latest.get("production")?.version).toBe("1.1.0");
    expect(latest.get("staging")?.id).toBe(dispatched.id);
    expect(latest.has("qa")).toBe(false);
    expect(
      (await listDeployments(store.db, { environment: "production", limit: 10 })).map((d) => d.state),
    ).toEqual(["awaiting_approval", "success", "success"]);
    expect(
      (
        await findDispatchedDeployment(store.db, {
          repo: "acme/api",
          environment: "staging",
          sha: "4".repeat(40),
        })
      )?.id,
    ).toBe(dispatched.id);
    expect(
      await findDispatchedDeployment(store.db, {
        repo: "acme/api",
        environment: "production",
        sha: "4".repeat(40),
      }),
    ).toBeUndefined();
  });
});
