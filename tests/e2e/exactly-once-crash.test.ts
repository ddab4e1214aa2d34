/**
 * Exactly once across a crash on SQLite, the default store: see tests/support/crash-scenario.ts.
 */
import { join } from "node:path";
import { describe, it } from "vitest";
import { useChildSwitchboardWorkspace } from "../support/child-switchboard-workspace.js";
import { CRASH_TEST_DISCORD_TOKEN, crashAndRedeliver } from "../support/crash-scenario.js";

const workspace = useChildSwitchboardWorkspace("switchboard-crash-", CRASH_TEST_DISCORD_TOKEN);

describe("exactly once across a crash", () => {
  it("posts every acknowledged delivery exactly once after a SIGKILL mid-stream, a restart and GitHub's redelivery", async () => {
    await crashAndRedeliver(
      workspace,
      (directory) => `sqlite:${join(directory, "switchboard.db")}`,
      "SQLite",
    );
  }, 120_000);
});
