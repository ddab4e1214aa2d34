import { describe, expect, it } from "vitest";
import { parseConfigFile } from "../../src/config/config-file.js";
import type { EnvironmentConfig } from "../../src/config/config-file.js";
import { workflowInputs } from "../../src/deploy/deploy-service.js";
import type { DeployRange } from "../../src/deploy/deploy-service.js";
import {
  COMMITS_SHOWN,
  describeChanges,
  renderApprovalCard,
} from "../../src/discord/render/deploy-approval-card.js";
import { renderDeployBoard, renderDeployHistory } from "../../src/discord/render/deploy-board.js";
import { LIMITS, embedLength } from "../../src/discord/render/message.js";
import type { GitHubCommit } from "../../src/sources/github/github-api.js";
import type { DeploymentRow } from "../../src/store/deployment-repository.js";
import { deploymentRow } from "../support/deployment-rows.js";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const ADA = "500000000000000001";
const SHA = "abcdef1234567890abcdef1234567890abcdef12";
const OLD_SHA = "1234567890abcdef1234567890abcdef12345678";

const config = parseConfigFile(
  `
environments:
  - { name: production, repo: acme/api }
  - { name: staging, repo: acme/api }
  - name: preview
    repo: acme/api
    method: workflow-dispatch
    workflow: deploy.yml
    inputs: { tag: "{ref}", at: "{sha}", version: "v{version}", where: "{environment}", fixed: "yes {unknown}" }
`,
  "test.yaml",
);
const [production, staging, preview] = config.environments as [
  EnvironmentConfig,
  EnvironmentConfig,
  EnvironmentConfig,
];

function deployment(row: Partial<DeploymentRow> = {}): DeploymentRow {
  return deploymentRow({
    id: 7,
    sha: SHA,
    github_deployment_id: "99",
    announced_state: "success",
    requested_by: ADA,
    requested_by_name: "ada",
    created_at: NOW - 600_000,
    updated_at: NOW - 400_000,
    started_at: NOW - 590_000,
    finished_at: NOW - 465_000,
    ...row,
  });
}

function commit(n: number, message = `feat: change number ${n}`): GitHubCommit {
  return {
    sha: n.toString(16).padStart(4, "0").padEnd(40, "0"),
    message,
    author: `dev${n}`,
    authorName: `Dev ${n}`,
    url: `https://github.com/acme/api/commit/${n}`,
    parents: 1,
  };
}

describe("the deploy board", () => {
  it("shows version, commit, who, when, state and duration per environment, with locks and freezes", () => {
    const message = renderDeployBoard(
      [
        { environment: production, latest: deployment(), running: deployment() },
        {
          environment: staging,
          latest: deployment({
            id: 8,
            environment: "staging",
            state: "in_progress",
            version: null,
            ref: "main",
            finished_at: null,
          }),
          running: deployment({ id: 5, environment: "staging", version: "1.1.0", ref: "v1.1.0" }),
          lock: {
            environment: "staging",
            locked_by: ADA,
            locked_by_name: "ada",
            reason: "migrating *everything*",
            locked_at: NOW - 60_000,
          },
          freeze: "weekend (sat, sun 00:00-24:00 UTC)",
        },
        { environment: preview },
      ],
      NOW,
    );

    expect(message.allowed_mentions).toEqual({ parse: [] });
    const fields = message.embeds![0]!.fields!;
    expect(fields.map((field) => field.name)).toEqual([
      "production (production)",
      "staging 🔒 ❄️",
      "preview",
    ]);
    expect(fields[0]!.value).toBe(
      `✅ Succeeded · **1.2.0** \`abcdef1\`\nby <@${ADA}> <t:${(NOW - 465_000) / 1000}:R> · took 2 min 5 s`,
    );
    expect(fields[1]!.value.split("\n")).toEqual([
      "🚀 In progress · **main** `abcdef1`",
      `by <@${ADA}> <t:${(NOW - 590_000) / 1000}:R> · running for 9 min 50 s`,
      "Still running: **1.1.0** `abcdef1`",
      `🔒 Locked by <@${ADA}> <t:${(NOW - 60_000) / 1000}:R>: migrating \\*everything\\*`,
      "❄️ Frozen: weekend (sat, sun 00:00-24:00 UTC)",
    ]);
    expect(fields[2]!.value).toBe("Nothing deployed through Switchboard yet · acme/api");
  });

  it("says how to configure environments when there are none", () => {
    expect(renderDeployBoard([], NOW).content).toContain("under `environments` in the config file");
  });

  it("lists history newest first, one whole line per deployment, within Discord's limits", () => {
    const rows = Array.from({ length: 200 }, (_, n) =>
      deployment({ id: 200 - n, reason: n === 0 ? "rollback to v1.1.0" : null }),
    );
    const message = renderDeployHistory(production, rows, NOW);
    const description = message.embeds![0]!.description!;
    expect(description.length).toBeLessThanOrEqual(LIMITS.embedDescription);
    const lines = description.split("\n");
    expect(lines[0]).toMatch(
      /^`#200` ✅ Succeeded · \*\*1\.2\.0\*\* `abcdef1` by <@\d+> <t:\d+:R> · took 2 min 5 s · rollback to v1\.1\.0$/,
    );
    expect(lines.every((line) => line.endsWith("2 min 5 s") || line.endsWith("v1.1.0"))).toBe(true);
    expect(renderDeployHistory(production, [], NOW).content).toContain(
      "Nothing has been deployed to production",
    );
  });
});

describe("the approval card", () => {
  const previous = deployment({ id: 3, sha: OLD_SHA, version: "1.1.0", ref: "v1.1.0" });

  it("lists the commits to ship newest first, trimmed to what Discord allows", () => {
    const commits = Array.from({ length: 40 }, (_, n) =>
      commit(n + 1, `feat: ${"very long subject ".repeat(20)}${n + 1}`),
    );
    const range: DeployRange = {
      kind: "compared",
      previous,
      comparison: { status: "ahead", aheadBy: 40, behindBy: 0, commits },
      removed: [],
    };
    const changes = describeChanges(range, "acme/api");
    const lines = changes.split("\n");
    expect(lines[0]).toBe("Runs there now: **1.1.0** `1234567`");
    expect(lines[2]).toBe("**40 commits to ship:**");
    expect(lines[3]).toContain("`0028000`"); // commit 40, the newest
    expect(lines).toHaveLength(3 + COMMITS_SHOWN + 1);
    expect(lines.at(-1)).toBe(`…and ${40 - COMMITS_SHOWN} more commits`);

    const card = renderApprovalCard({
      deployment: deployment({ state: "awaiting_approval", previous_sha: OLD_SHA }),
      environment: production,
      changes,
    });
    const embed = card.embeds![0]!;
    expect(embed.description!.length).toBeLessThanOrEqual(LIMITS.embedDescription);
    expect(embedLength(embed)).toBeLessThanOrEqual(LIMITS.embedsTotal);
    expect(card.components[0]!.components.map((button) => "custom_id" in button && button.custom_id)).toEqual(
      ["deploy:approve:7", "deploy:reject:7"],
    );
  });

  it("names what a rollback takes out, and says when nothing is recorded as running", () => {
    const range: DeployRange = {
      kind: "compared",
      previous,
      comparison: { status: "behind", aheadBy: 0, behindBy: 1, commits: [] },
      removed: [commit(9, "fix: [the thing](https://evil.example) @everyone")],
    };
    const text = describeChanges(range, "acme/api");
    expect(text).toContain("**1 commit to take out (rollback):**");
    expect(text).toContain("fix: \\[the thing\\]\\(https://evil.example\\) @everyone · dev9");
    expect(describeChanges({ kind: "first" }, "acme/api")).toContain("first deployment through Switchboard");
  });
});

describe("workflow inputs", () => {
  it("fills in ref, sha, version and environment, and leaves anything else as written", () => {
    expect(workflowInputs(preview, { ref: "v1.2.0", sha: SHA, version: "1.2.0" })).toEqual({
      tag: "v1.2.0",
      at: SHA,
      version: "v1.2.0",
      where: "preview",
      fixed: "yes {unknown}",
    });
    expect(workflowInputs(preview, { ref: "main", sha: SHA, version: null }).version).toBe("v");
  });
});
