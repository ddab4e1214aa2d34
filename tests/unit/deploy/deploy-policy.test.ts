import { describe, expect, it } from "vitest";
import { parseConfigFile } from "../../../src/config/config-file.js";
import type { EnvironmentConfig, FreezeConfig } from "../../../src/config/config-file.js";
import {
  activeFreeze,
  checkApprover,
  checkDeployAllowed,
  requiredDeployCapability,
} from "../../../src/deploy/deploy-policy.js";
import type { DeploymentRow } from "../../../src/store/deployment-repository.js";

const config = parseConfigFile(
  `
environments:
  - { name: staging, repo: acme/api }
  - { name: production, repo: acme/api }
  - { name: canary, repo: acme/api, approvals: 2 }
freezes:
  - name: holidays
    environments: [production]
    from: "2026-12-20T00:00:00Z"
    to: "2027-01-02T00:00:00Z"
    reason: end-of-year freeze
  - name: friday-evening
    days: [fri]
    start: "16:00"
    end: "24:00"
    timezone: Europe/Berlin
`,
  "switchboard.yaml",
);
const [staging, production, canary] = config.environments as [
  EnvironmentConfig,
  EnvironmentConfig,
  EnvironmentConfig,
];
const freezes: FreezeConfig[] = config.freezes;

describe("environment defaults", () => {
  it("production needs one approval and deploy-production; others none and deploy", () => {
    expect(production.approvals).toBe(1);
    expect(staging.approvals).toBe(0);
    expect(canary.approvals).toBe(2);
    expect(requiredDeployCapability(production)).toBe("deploy-production");
    expect(requiredDeployCapability(staging)).toBe("deploy");
    expect(requiredDeployCapability(canary)).toBe("deploy-production");
  });
});

describe("activeFreeze", () => {
  it("covers a period for the listed environments only, end exclusive", () => {
    const during = Date.parse("2026-12-24T12:00:00Z");
    expect(activeFreeze(freezes, "production", during)?.name).toBe("holidays");
    expect(activeFreeze(freezes, "staging", during)).toBeUndefined();
    expect(activeFreeze(freezes, "production", Date.parse("2027-01-02T00:00:00Z"))).toBeUndefined();
  });

  it("reads weekly windows in their time zone", () => {
    // Friday 2026-11-27 15:30 UTC is 16:30 in Berlin (UTC+1): frozen everywhere.
    expect(activeFreeze(freezes, "staging", Date.parse("2026-11-27T15:30:00Z"))?.name).toBe("friday-evening");
    // 14:30 UTC is 15:30 in Berlin: not yet.
    expect(activeFreeze(freezes, "staging", Date.parse("2026-11-27T14:30:00Z"))).toBeUndefined();
    // Saturday 00:30 Berlin: the window ended at midnight.
    expect(activeFreeze(freezes, "staging", Date.parse("2026-11-27T23:30:00Z"))).toBeUndefined();
  });
});

describe("checkDeployAllowed", () => {
  const lock = {
    environment: "production",
    locked_by: "111111111111111111",
    locked_by_name: "ada",
    reason: "migrating the database",
    locked_at: 0,
  };

  it("refuses others while locked, naming the holder and reason; the holder may deploy", () => {
    const refused = checkDeployAllowed({
      environment: production,
      requesterId: "222222222222222222",
      lock,
      requesterIsAdmin: false,
    });
    expect(refused).toMatchObject({ allowed: false });
    expect(!refused.allowed && refused.reason).toContain("locked by ada");
    expect(!refused.allowed && refused.reason).toContain("migrating the database");
    expect(
      checkDeployAllowed({
        environment: production,
        requesterId: lock.locked_by,
        lock,
        requesterIsAdmin: false,
      }),
    ).toEqual({ allowed: true });
  });

  it("refuses during a freeze; only an admin with a reason overrides, and the override is reported", () => {
    const freeze = freezes[0];
    const base = { environment: production, requesterId: "2", freeze };
    expect(checkDeployAllowed({ ...base, requesterIsAdmin: true })).toMatchObject({ allowed: false });
    expect(checkDeployAllowed({ ...base, requesterIsAdmin: false, overrideReason: "hotfix" })).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("Only an admin") as string,
    });
    expect(checkDeployAllowed({ ...base, requesterIsAdmin: true, overrideReason: "  " })).toMatchObject({
      allowed: false,
    });
    expect(
      checkDeployAllowed({ ...base, requesterIsAdmin: true, overrideReason: "security hotfix" }),
    ).toEqual({
      allowed: true,
      overridden: 'freeze "holidays" overridden: security hotfix',
    });
  });
});

describe("checkApprover", () => {
  const deployment = {
    id: 1,
    state: "awaiting_approval",
    requested_by: "111",
    approved_by: "[]",
  } as unknown as DeploymentRow;

  it("refuses the requester and a second approval by the same person", () => {
    expect(checkApprover({ deployment, approverId: "111", approvalsNeeded: 1 })).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("another person") as string,
    });
    const once = { ...deployment, approved_by: '["222"]' };
    expect(checkApprover({ deployment: once, approverId: "222", approvalsNeeded: 2 })).toMatchObject({
      allowed: false,
    });
  });

  it("is complete when enough distinct people approved", () => {
    expect(checkApprover({ deployment, approverId: "222", approvalsNeeded: 1 })).toEqual({
      allowed: true,
      complete: true,
    });
    expect(checkApprover({ deployment, approverId: "222", approvalsNeeded: 2 })).toEqual({
      allowed: true,
      complete: false,
    });
    const once = { ...deployment, approved_by: '["222"]' };
    expect(checkApprover({ deployment: once, approverId: "333", approvalsNeeded: 2 })).toEqual({
      allowed: true,
      complete: true,
    });
  });

  it("refuses once the deployment left awaiting approval", () => {
    expect(
      checkApprover({
        deployment: { ...deployment, state: "rejected" },
        approverId: "222",
        approvalsNeeded: 1,
      }),
    ).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("rejected") as string,
    });
  });
});

describe("config validation", () => {
  it("names the problem in environments, releases and freezes", () => {
    let message = "";
    try {
      parseConfigFile(
        `
environments:
  - { name: prod, repo: acme/api, method: workflow-dispatch }
  - { name: qa, repo: acme/api, release: nope }
freezes:
  - { name: f, environments: [missing], from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z" }
  - { name: g, days: [fri] }
`,
        "bad.yaml",
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('environment "prod": method workflow-dispatch needs the workflow file');
    expect(message).toContain('freeze "f": needs both from and to, with from before to');
    expect(message).toContain('freeze "g": needs start and end times');
  });
});
