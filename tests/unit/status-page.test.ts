import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseConfigFile } from "../../src/config/config-file.js";
import { html, safeHref } from "../../src/http/status-page/html-template.js";
import { STATUS_PAGE_CSP, renderStatusPage } from "../../src/http/status-page/render-status-page.js";
import {
  buildStatusSnapshot,
  deploymentDurationSeconds,
} from "../../src/http/status-page/status-snapshot.js";
import type { StatusFacts } from "../../src/http/status-page/status-snapshot.js";
import type { DeploymentRow } from "../../src/store/deployment-repository.js";
import { deploymentRow } from "../support/deployment-rows.js";
import type { ReleaseRow } from "../../src/store/release-repository.js";

const NOW = Date.parse("2026-12-24T12:00:00Z");
const MINUTE = 60_000;
const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert(1)>`;

const config = parseConfigFile(
  `
environments:
  - { name: staging, repo: acme/api }
  - { name: production, repo: acme/api }
freezes:
  - name: holidays
    environments: [production]
    from: "2026-12-20T00:00:00Z"
    to: "2027-01-02T00:00:00Z"
    reason: end-of-year freeze
`,
  "switchboard.yaml",
);

function deployment(patch: Partial<DeploymentRow> = {}): DeploymentRow {
  return deploymentRow({
    ref: "v1.4.0",
    sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
    version: "1.4.0",
    github_deployment_id: "145988746",
    requested_by: "111111111111111111",
    requested_by_name: "ada",
    created_at: NOW - 10 * MINUTE,
    updated_at: NOW - 5 * MINUTE,
    started_at: NOW - 9 * MINUTE,
    finished_at: NOW - 5 * MINUTE,
    ...patch,
  });
}

function release(patch: Partial<ReleaseRow> = {}): ReleaseRow {
  return {
    id: 1,
    release_name: "acme/api",
    repo: "acme/api",
    version: "1.4.0",
    tag: "v1.4.0",
    target_sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
    prerelease: 0,
    notes: "## Features\n- things",
    url: "https://github.com/acme/api/releases/tag/v1.4.0",
    linear_keys: "[]",
    created_by: "111111111111111111",
    created_by_name: "ada",
    created_at: NOW - 60 * MINUTE,
    ...patch,
  };
}

function facts(patch: Partial<StatusFacts> = {}): StatusFacts {
  return {
    now: NOW,
    version: "0.1.0",
    environments: config.environments,
    freezes: config.freezes,
    latest: new Map(),
    running: new Map(),
    locks: [],
    deployments: [],
    releases: [],
    inbox: { pending: 0, failed: 0 },
    outbox: { pending: 0, dead: 0 },
    lastDeliveries: {},
    deadLetters: [],
    ...patch,
  };
}

const page = (patch: Partial<StatusFacts> = {}) => renderStatusPage(buildStatusSnapshot(facts(patch)));

/** The text a reader sees: tags dropped, entities decoded (only those escapeHtml writes). */
function visibleText(document: string): string {
  return document
    .replace(/<style>[\s\S]*?<\/style>/, "")
    .replace(/<\/?(time|code|a|span)\b[^>]*>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

describe("status page: escaping", () => {
  it("shows names, reasons and descriptions from users as text, never as markup", () => {
    const hostile = deployment({
      requested_by_name: HOSTILE,
      reason: HOSTILE,
      status_description: HOSTILE,
      ref: HOSTILE,
      version: null,
    });
    const document = page({
      latest: new Map([["production", hostile]]),
      deployments: [hostile],
      locks: [
        { environment: "staging", locked_by: "1", locked_by_name: HOSTILE, reason: HOSTILE, locked_at: NOW },
      ],
      releases: [release({ release_name: HOSTILE, created_by_name: HOSTILE })],
      outbox: { pending: 0, dead: 1 },
      deadLetters: [{ id: 7, channel_id: HOSTILE, last_error: HOSTILE } as never],
    });
    expect(document).not.toContain("<script");
    expect(document).not.toContain("<img");
    expect(document).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    // Every hostile value is there for people to read.
    const shown = visibleText(document).split(HOSTILE).length - 1;
    expect(shown).toBeGreaterThanOrEqual(9);
  });

  it("escapes quotes in attribute values", () => {
    const document = page({
      environments: parseConfigFile(`environments: [{ name: prod, repo: a/b }]`, "x.yaml").environments,
      latest: new Map([["prod", deployment({ environment: "prod", sha: `x" onmouseover="alert(1)` })]]),
    });
    expect(document).toContain('title="x&quot; onmouseover=&quot;alert(1)"');
    expect(document).not.toContain('onmouseover="alert');
  });

  it("links only http(s) log and release URLs", () => {
    const scripted = deployment({ status_description: "Deployed", log_url: "javascript:alert(1)" });
    const linked = deployment({ id: 2, status_description: "Deployed", log_url: "https://ci.example/run/1" });
    const document = page({
      deployments: [scripted, linked],
      releases: [release({ url: "data:text/html,<b>x</b>" })],
    });
    expect(document).not.toContain("javascript:");
    expect(document).not.toContain("data:text");
    expect(document).toContain('<a href="https://ci.example/run/1" rel="noopener noreferrer">log</a>');
    expect(safeHref("http://example.com/a?b=1")).toBe("http://example.com/a?b=1");
    expect(safeHref("not a url")).toBeUndefined();
  });

  it("renders nothing for null, undefined and false, and joins arrays", () => {
    expect(html`[${null}${undefined}${false}${["<a>", html`<b></b>`]}${0}]`.value).toBe(
      "[&lt;a&gt;<b></b>0]",
    );
  });
});

describe("status page: empty state", () => {
  it("says what to configure when there are no environments, and that nothing happened yet", () => {
    const text = visibleText(page({ environments: [] }));
    expect(text).toContain("No environments configured: list them under environments in switchboard.yaml.");
    expect(text).toContain("No deployments yet.");
    expect(text).toContain("No releases yet.");
    expect(text).toContain("Last GitHub delivery none yet");
    expect(text).toContain("Discord outbox 0 waiting, 0 dead letters");
  });

  it("shows a configured environment that was never deployed", () => {
    const text = visibleText(page());
    expect(text).toMatch(/staging never deployed acme\/api No deployment recorded yet\./);
  });
});

describe("status page: environments", () => {
  it("shows state, version, commit, who, when and duration; a lock and an active freeze", () => {
    const latest = deployment({ id: 3, state: "in_progress", version: "1.5.0", finished_at: null });
    const running = deployment({ id: 2, version: "1.4.0", sha: "abcdef0123456789" });
    const snapshot = buildStatusSnapshot(
      facts({
        latest: new Map([["production", latest]]),
        running: new Map([["production", running]]),
        locks: [
          {
            environment: "production",
            locked_by: "1",
            locked_by_name: "grace",
            reason: "db migration",
            locked_at: NOW - 2 * MINUTE,
          },
        ],
      }),
    );
    const production = snapshot.environments.find((environment) => environment.name === "production")!;
    expect(production.freeze?.name).toBe("holidays");
    expect(production.lock).toEqual({
      by: "grace",
      reason: "db migration",
      since: "2026-12-24T11:58:00.000Z",
    });
    const text = visibleText(renderStatusPage(snapshot));
    expect(text).toContain(
      "production production in progress acme/api · needs 1 approval Version 1.5.0 Commit f95f852 " +
        "Deployed by ada When 9 min ago Duration 9 min so far Running 1.4.0 (abcdef0) since 5 min ago",
    );
    expect(text).toContain("Locked by grace 2 min ago: db migration");
    expect(text).toContain("Frozen: holidays: end-of-year freeze (until 2027-01-02 00:00 UTC)");
    // The freeze lists production only.
    expect(snapshot.environments.find((environment) => environment.name === "staging")!.freeze).toBeNull();
  });

  it("shows delivery health and the dead letters with the fix", () => {
    const text = visibleText(
      page({
        inbox: { pending: 2, failed: 1 },
        outbox: { pending: 3, dead: 1 },
        lastDeliveries: { github: NOW - 30_000 },
        deadLetters: [{ id: 9, channel_id: "123456789012345678", last_error: "Missing Access" } as never],
      }),
    );
    expect(text).toContain("Webhook inbox 2 waiting, 1 failed");
    expect(text).toContain("Discord outbox 3 waiting, 1 dead letter");
    expect(text).toContain("Last GitHub delivery 30 s ago");
    expect(text).toContain("Last Linear delivery none yet");
    expect(text).toContain("fix the cause, then run switchboard outbox retry");
    expect(text).toContain("#9 to channel 123456789012345678: Missing Access");
  });

  it("never shows a channel webhook's token quoted in a dead letter's error", () => {
    const token = "s3cr3t-T0ken_value";
    const text = visibleText(
      page({
        outbox: { pending: 0, dead: 1 },
        deadLetters: [
          {
            id: 4,
            channel_id: "123456789012345678",
            last_error: `POST https://discord.com/api/webhooks/123456789012345678/${token} failed: 404 Unknown Webhook`,
          } as never,
        ],
      }),
    );
    expect(text).toContain("webhooks/123456789012345678/[REDACTED] failed: 404 Unknown Webhook");
    expect(text).not.toContain(token);
  });
});

describe("status page: durations", () => {
  it("counts from start to finish, or to now while running", () => {
    expect(deploymentDurationSeconds(deployment(), NOW)).toBe(240);
    expect(deploymentDurationSeconds(deployment({ state: "in_progress", finished_at: null }), NOW)).toBe(540);
  });

  it("starts at creation when no status said it started", () => {
    const queued = deployment({ state: "queued", started_at: null, finished_at: null });
    expect(deploymentDurationSeconds(queued, NOW)).toBe(600);
  });

  it("ends at the last change for a finished row without a finish time, never below zero", () => {
    const replaced = deployment({ state: "inactive", finished_at: null });
    expect(deploymentDurationSeconds(replaced, NOW)).toBe(240);
    expect(deploymentDurationSeconds(deployment({ finished_at: NOW - 20 * MINUTE }), NOW)).toBe(0);
  });

  it("has none for requests that never reached GitHub", () => {
    expect(deploymentDurationSeconds(deployment({ state: "awaiting_approval" }), NOW)).toBeNull();
    expect(deploymentDurationSeconds(deployment({ state: "rejected" }), NOW)).toBeNull();
  });

  it("reads as the two largest units, marked 'so far' while running", () => {
    const rows = [
      deployment({ id: 1, started_at: NOW - 3 * 3600_000 - 5 * MINUTE, finished_at: NOW }),
      deployment({ id: 2, state: "in_progress", started_at: NOW - 125_000, finished_at: null }),
      deployment({ id: 3, state: "awaiting_approval" }),
    ];
    const text = visibleText(page({ deployments: rows }));
    expect(text).toContain("3 h 5 min");
    expect(text).toContain("2 min 5 s so far");
    expect(text).toContain("not started");
  });
});

describe("status page: document", () => {
  it("allows its own style sheet by hash and nothing else", () => {
    const document = page();
    const style = /<style>([\s\S]*?)<\/style>/.exec(document)![1]!;
    const hash = createHash("sha256").update(style).digest("base64");
    expect(STATUS_PAGE_CSP).toContain(`style-src 'sha256-${hash}'`);
    expect(STATUS_PAGE_CSP).toContain("default-src 'none'");
    expect(document).not.toMatch(/<script|<link|<img|src=/);
    expect(document).toContain('<meta http-equiv="refresh" content="15" />');
  });
});
