/**
 * What a command test talks to besides the bot: the fake Discord (where answers land), the fake GitHub REST
 * API and a store on a throwaway SQLite file. `close()` stops them all and removes the file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../src/store/database.js";
import type { Store } from "../../src/store/database.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { startFakeGitHub } from "../fakes/github-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";
import { TEST_DISCORD_TOKEN } from "./switchboard-harness.js";

export interface CommandBackends {
  discord: FakeDiscord;
  github: FakeGitHub;
  store: Store;
  close(): Promise<void>;
}

/** `name` goes into the temporary directory's name (`switchboard-<name>-…`). */
export async function startCommandBackends(name: string): Promise<CommandBackends> {
  const discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
  const github = await startFakeGitHub();
  const directory = mkdtempSync(join(tmpdir(), `switchboard-${name}-`));
  const store = await openStore(`sqlite:${join(directory, "switchboard.db")}`);
  return {
    discord,
    github,
    store,
    async close() {
      await store.close();
      await github.close();
      await discord.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
