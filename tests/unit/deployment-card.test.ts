import { describe, expect, it } from "vitest";
import { deploymentLabel, renderDeploymentCard } from "../../src/discord/render/deployment-card.js";
import { COLORS } from "../../src/discord/render/message.js";
import { planDeploymentCard, renderOnCallPing } from "../../src/deploy/deployment-tracker.js";
import { shippedVersion } from "../../src/deploy/ship-notices.js";
import type { EnvironmentConfig } from "../../src/config/config-file.js";
import type { DeploymentRow } from "../../src/store/deployment-repository.js";
import { deploymentRow } from "../support/deployment-rows.js";

const STARTED = Date.parse("2026-03-02T10:00:00Z");

function deployment(overrides: Partial<DeploymentRow> = {}): DeploymentRow {
  return deploymentRow({
    id: 7,
    ref: "v1.2.3",
    sha: "0123456789abcdef0123456789abcdef01234567",
    version: "1.2.3",
    github_deployment_id: "99",
    state: "in_progress",
    requested_by: "111111111111111111",
    requested_by_name: "ada",
    approved_by: JSON.stringify(["222222222222222222"]),
    created_at: STARTED,
    updated_at: STARTED,
    started_at: STARTED,
    ...overrides,
  });
}

const fields = (card: ReturnType<typeof renderDeploymentCard>) =>
  Object.fromEntries((card.embeds?.[0]?.fields ?? []).map((field) => [field.name, field.value]));

describe("renderDeploymentCard", () => {
  it("shows what goes where, who asked and approved, and the state", () => {
    const card = renderDeploymentCard(deployment());
    const embed = card.embeds![0]!;
    expect(embed.title).toBe("Deploy 1.2.3 to production");
    expect(embed.color).toBe(COLORS.info);
    expect(embed.footer?.text).toBe("Deployment #7 · github-deployment");
    expect(fields(card)).toEqual({
      State: "🚀 In progress",
      Environment: "production",
      Repository: "acme/api",
      Version: "1.2.3",
      Commit: "`0123456`",
      "Requested by": "<@111111111111111111>",
      "Approved by": "<@222222222222222222>",
      Started: `<t:${STARTED / 1000}:f>`,
    });
    // A card never pings: the mentions above only name people.
    expect(card.allowed_mentions).toEqual({ parse: [] });
  });

  it("shows a failure in red with its reason, log link, finish time and duration", () => {
    const finished = STARTED + 125_000;
    const card = renderDeploymentCard(
      deployment({
        state: "failure",
        status_description: "Health check failed",
        log_url: "https://ci.example.com/runs/1",
        finished_at: finished,
      }),
    );
    const embed = card.embeds![0]!;
    expect(embed.color).toBe(COLORS.failure);
    expect(embed.description).toBe("Health check failed");
    expect(embed.url).toBe("https://ci.example.com/runs/1");
    expect(fields(card)).toMatchObject({
      State: "❌ Failed",
      Finished: `<t:${finished / 1000}:f>`,
      Duration: "2 min 5 s",
      Logs: "[View the deployment log](https://ci.example.com/runs/1)",
    });
  });

  it("names a deployment started outside chat by its GitHub login, escaped", () => {
    const card = renderDeploymentCard(
      deployment({
        requested_by: null,
        requested_by_name: "dependabot_bot",
        approved_by: "[]",
        state: "success",
      }),
    );
    expect(fields(card)["Requested by"]).toBe("dependabot\\_bot");
    expect(fields(card)["Approved by"]).toBeUndefined();
    expect(card.embeds![0]!.color).toBe(COLORS.success);
  });

  it("leaves out a log URL that is not a web link", () => {
    const card = renderDeploymentCard(deployment({ log_url: "javascript:alert(1)" }));
    expect(fields(card).Logs).toBeUndefined();
    expect(card.embeds![0]!.url).toBeUndefined();
  });

  it("labels a bare commit by its short sha and a branch by name", () => {
    expect(deploymentLabel({ version: null, ref: "f".repeat(40) })).toBe("fffffff");
    expect(deploymentLabel({ version: null, ref: "main" })).toBe("main");
    expect(shippedVersion({ version: "1.2.3", ref: "v1.2.3" })).toBe("v1.2.3");
    expect(shippedVersion({ version: "1.2.3", ref: "abc" })).toBe("1.2.3");
  });
});

describe("planDeploymentCard", () => {
  const environment = { name: "production", channel: "333333333333333333" } as EnvironmentConfig;

  it("upserts one card per deployment in the environment's channel, else the default channel", () => {
    const row = planDeploymentCard(deployment(), environment, "444444444444444444", STARTED)!;
    expect(row).toMatchObject({
      operation: "card",
      item_key: "deployment:7",
      channel_id: "333333333333333333",
      status: "pending",
    });
    expect(planDeploymentCard(deployment(), undefined, "444444444444444444", STARTED)!.channel_id).toBe(
      "444444444444444444",
    );
    expect(planDeploymentCard(deployment(), undefined, undefined, STARTED)).toBeUndefined();
  });
});

describe("renderOnCallPing", () => {
  it("pings the on-call role and nobody else, whatever the description says", () => {
    const ping = renderOnCallPing(
      deployment({ state: "error", status_description: "boom @everyone <@123456789012345678>" }),
      "555555555555555555",
    );
    expect(ping.content).toMatch(
      /^<@&555555555555555555> Deployment of 1\.2\.3 to production \(acme\/api\) errored: boom/,
    );
    expect(ping.allowed_mentions).toEqual({ parse: [], roles: ["555555555555555555"] });
  });
});
