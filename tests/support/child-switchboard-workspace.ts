/**
 * What every end-to-end test file that runs Switchboard as child processes needs: the build in dist/, a
 * temporary directory, a fake Discord, and afterwards every child killed and both torn down, even when a
 * test failed half-way.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { ensureBuilt } from "./child-switchboard.js";
import type { ChildSwitchboard } from "./child-switchboard.js";

export interface ChildSwitchboardWorkspace {
  /** Temporary directory for the config file and database; removed after the file's tests. */
  directory: string;
  discord: FakeDiscord;
  /** Push every child started here: afterAll SIGKILLs them. */
  children: ChildSwitchboard[];
}

/**
 * Registers beforeAll/afterAll in the calling test file. The fields are set once beforeAll has run: read them
 * inside tests, not at module level.
 */
export function useChildSwitchboardWorkspace(
  prefix: string,
  discordToken: string,
): ChildSwitchboardWorkspace {
  const workspace = { children: [] as ChildSwitchboard[] } as ChildSwitchboardWorkspace;

  beforeAll(async () => {
    await ensureBuilt();
    workspace.directory = mkdtempSync(join(tmpdir(), prefix));
    workspace.discord = await startFakeDiscord({ token: discordToken });
  }, 120_000);

  afterAll(async () => {
    for (const child of workspace.children) await child.kill("SIGKILL");
    await workspace.discord?.close();
    if (workspace.directory) rmSync(workspace.directory, { recursive: true, force: true });
  });

  return workspace;
}
