/**
 * `GET /status` and `GET /api/deployments` on a running Switchboard: what they read from the store, the
 * headers that keep the page inert, and STATUS_PAGE=off.
 */
import { afterEach, describe, expect, it } from "vitest";
import { lockEnvironment } from "../../src/store/environment-lock-repository.js";
import { insertRelease } from "../../src/store/release-repository.js";
import { startTestSwitchboard } from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const CONFIG = `
environments:
  - { name: staging, repo: acme/api }
  - { name: production, repo: acme/api }
freezes:
  - { name: always, environments: [production], from: "2000-01-01T00:00:00Z", to: "2999-01-01T00:00:00Z", reason: audit }
`;

let switchboard: TestSwitchboard | undefined;
afterEach(async () => {
  await switchboard?.close();
  switchboard = undefined;
});

describe("status page", () => {
  it("shows locks, freezes and releases from the store, as HTML and as JSON", async () => {
    switchboard = await startTestSwitchboard({ config: CONFIG });
    const db = switchboard.store.db;
    await lockEnvironment(db, {
      environment: "staging",
      locked_by: "111111111111111111",
      locked_by_name: "grace",
      reason: "<b>migrating</b> the db",
      locked_at: Date.now(),
    });
    await insertRelease(db, {
      release_name: "acme/api",
      repo: "acme/api",
      version: "1.4.0",
      tag: "v1.4.0",
      target_sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
      prerelease: 0,
      notes: "## Features",
      url: "https://github.com/acme/api/releases/tag/v1.4.0",
      linear_keys: "[]",
      created_by: "111111111111111111",
      created_by_name: "ada",
      created_at: Date.now(),
    });

    const json = await fetch(`${switchboard.url}/api/deployments`);
    expect(json.status).toBe(200);
    expect(json.headers.get("cache-control")).toBe("no-store");
    const body = (await json.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      environments: [
        {
          name: "staging",
          latest: null,
          lock: { by: "grace", reason: "<b>migrating</b> the db" },
          freeze: null,
        },
        { name: "production", production: true, approvals: 1, freeze: { name: "always" } },
      ],
      deployments: [],
      releases: [{ name: "acme/api", version: "1.4.0", tag: "v1.4.0", createdBy: "ada", prerelease: false }],
      health: { inbox: { pending: 0, failed: 0 }, outbox: { pending: 0, dead: 0 } },
    });

    const page = await fetch(`${switchboard.url}/status`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("cache-control")).toBe("no-store");
    const document = await page.text();
    expect(document).toContain("&lt;b&gt;migrating&lt;/b&gt; the db");
    expect(document).toContain("Frozen: always: audit");
    expect(document).toContain('<a href="https://github.com/acme/api/releases/tag/v1.4.0"');
  });

  it("answers 404 saying how to turn it on when STATUS_PAGE=off", async () => {
    switchboard = await startTestSwitchboard({ config: CONFIG, env: { STATUS_PAGE: "off" } });
    for (const path of ["/status", "/api/deployments"]) {
      const response = await fetch(`${switchboard.url}${path}`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        status: "not found",
        message: "The status page is off: set STATUS_PAGE=on to enable it.",
      });
    }
  });
});
