import { describe, expect, it } from "vitest";
import { checkAccess } from "../../src/discord/access.js";

const RELEASERS = "400000000000000001";
const ADMINS = "400000000000000002";
const ADMINISTRATOR = String(1n << 3n);
const member = (roles: string[], permissions?: string) => ({
  id: "200000000000000001",
  username: "ada",
  roles,
  ...(permissions === undefined ? {} : { permissions }),
});

describe("checkAccess", () => {
  it("lets everyone run a command that needs no capability", () => {
    expect(checkAccess(member([]), null, {})).toEqual({ allowed: true });
  });

  it("allows a member holding a role mapped to the capability", () => {
    expect(checkAccess(member([RELEASERS]), "release", { release: [RELEASERS] })).toEqual({ allowed: true });
  });

  it("allows admins every capability", () => {
    expect(checkAccess(member([ADMINS]), "release", { release: [RELEASERS], admin: [ADMINS] })).toEqual({
      allowed: true,
    });
  });

  it("refuses a member without the role and names the roles that would allow it, admins included", () => {
    const decision = checkAccess(member(["999999999999999999"]), "release", {
      release: [RELEASERS],
      admin: [ADMINS],
    });
    expect(decision).toEqual({
      allowed: false,
      reason: `This needs the \`release\` capability: ask for the <@&${RELEASERS}> or <@&${ADMINS}> role.`,
    });
  });

  it("does not count the release role toward admin", () => {
    const decision = checkAccess(member([RELEASERS]), "admin", { release: [RELEASERS], admin: [ADMINS] });
    expect(decision.allowed).toBe(false);
  });

  it("lets server administrators in while no role is mapped, so a fresh install can be set up", () => {
    expect(checkAccess(member([], ADMINISTRATOR), "deploy", {})).toEqual({ allowed: true });
  });

  it("tells others which config key to set while no role is mapped", () => {
    const decision = checkAccess(member([], "0"), "deploy", {});
    expect(decision).toMatchObject({ allowed: false });
    expect(!decision.allowed && decision.reason).toContain("discord.roles.deploy");
  });

  it("stops the Administrator fallback once a role is mapped", () => {
    expect(checkAccess(member([], ADMINISTRATOR), "deploy", { deploy: [RELEASERS] }).allowed).toBe(false);
  });

  it("treats a malformed permissions string as no permissions", () => {
    expect(checkAccess(member([], "not-a-number"), "deploy", {}).allowed).toBe(false);
  });
});
