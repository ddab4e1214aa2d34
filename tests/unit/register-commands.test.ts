import { describe, expect, it } from "vitest";
import { describeRegistration, diffCommands, sameDefinition } from "../../src/discord/register-commands.js";

/** What Discord answers for a command registered as `{ name: "status", description: "Health" }`. */
const echoed = {
  id: "1234567890123456789",
  application_id: "100000000000000001",
  version: "1234567890123456790",
  guild_id: "300000000000000001",
  type: 1,
  name: "status",
  description: "Health",
  default_member_permissions: null,
  dm_permission: true,
  nsfw: false,
  contexts: null,
  integration_types: [0],
};

describe("comparing commands with what Discord holds", () => {
  it("treats ids, versions and the defaults Discord fills in as no difference", () => {
    expect(sameDefinition({ name: "status", description: "Health" }, echoed)).toBe(true);
  });

  it("treats option defaults (required: false, no choices) as no difference", () => {
    const ours = {
      name: "help",
      description: "Help",
      options: [{ type: 3, name: "command", description: "One command", autocomplete: true }],
    };
    const theirs = {
      ...echoed,
      name: "help",
      description: "Help",
      options: [
        { type: 3, name: "command", description: "One command", autocomplete: true, required: false },
      ],
    };
    expect(sameDefinition(ours, theirs)).toBe(true);
  });

  it("sees a changed description, option or permission", () => {
    expect(sameDefinition({ name: "status", description: "Health!" }, echoed)).toBe(false);
    expect(
      sameDefinition({ name: "status", description: "Health", default_member_permissions: "32" }, echoed),
    ).toBe(false);
    expect(
      sameDefinition(
        { name: "status", description: "Health" },
        { ...echoed, default_member_permissions: "32" },
      ),
    ).toBe(false);
    expect(
      sameDefinition(
        {
          name: "status",
          description: "Health",
          options: [{ type: 5, name: "verbose", description: "More" }],
        },
        echoed,
      ),
    ).toBe(false);
  });

  it("lists added, changed and removed commands by name", () => {
    const changes = diffCommands(
      [
        { name: "status", description: "Health" },
        { name: "help", description: "Help" },
        { name: "Create Linear issue", type: 3 },
      ],
      [
        { ...echoed, description: "Old" },
        { ...echoed, name: "legacy", description: "Gone" },
        { ...echoed, name: "Create Linear issue", type: 3, description: "" },
      ],
    );
    expect(changes).toEqual({ added: ["help"], changed: ["status"], removed: ["legacy"] });
  });

  it("says what it did, or that nothing needed writing", () => {
    expect(
      describeRegistration({
        scope: { kind: "global" },
        written: false,
        count: 3,
        changes: { added: [], changed: [], removed: [] },
      }),
    ).toBe("Commands are up to date globally (3 commands): nothing written.");
    expect(
      describeRegistration({
        scope: { kind: "guild", guildId: "300000000000000001" },
        written: true,
        count: 2,
        changes: { added: ["help"], changed: ["status"], removed: [] },
      }),
    ).toBe("Registered 2 commands in guild 300000000000000001: added help; updated status.");
  });
});
