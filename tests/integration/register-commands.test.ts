/**
 * `switchboard register-commands`, run as the operator runs it (the built CLI in a child process) against the
 * fake Discord: it compares with what Discord holds and writes only when something differs.
 */
import { REST } from "@discordjs/rest";
import { Routes } from "discord-api-types/v10";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ALL_COMMANDS } from "../../src/discord/commands/all-commands.js";
import { FAKE_GUILD_ID } from "../fakes/discord-gateway.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { ensureBuilt, runCli } from "../support/child-switchboard.js";

const TOKEN = "register-commands-token.Zm9v.YmFy";
const NAMES = ALL_COMMANDS.map((command) => command.data.name);
let discord: FakeDiscord;

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

beforeEach(async () => {
  discord = await startFakeDiscord({ token: TOKEN });
});

afterEach(async () => {
  await discord.close();
});

function register(env: Record<string, string | undefined> = {}) {
  return runCli(["register-commands"], {
    DISCORD_TOKEN: TOKEN,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_API_URL: discord.url,
    ...env,
  });
}

describe("switchboard register-commands", () => {
  it("registers every command in DISCORD_GUILD_ID once, and writes nothing when run again", async () => {
    const first = await register({ DISCORD_GUILD_ID: FAKE_GUILD_ID });

    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Registered ${NAMES.length} commands in guild ${FAKE_GUILD_ID}: added `);
    expect(discord.registeredCommands(FAKE_GUILD_ID).map((command) => command.name)).toEqual(NAMES);
    expect(discord.registeredCommands()).toEqual([]);
    expect(discord.commandWrites).toHaveLength(1);

    const second = await register({ DISCORD_GUILD_ID: FAKE_GUILD_ID });

    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`Commands are up to date in guild ${FAKE_GUILD_ID}`);
    expect(second.stdout).toContain("nothing written");
    expect(discord.commandWrites).toHaveLength(1);
  });

  it("registers globally without DISCORD_GUILD_ID", async () => {
    const first = await register();
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Registered ${NAMES.length} commands globally`);
    expect(discord.registeredCommands().map((command) => command.name)).toEqual(NAMES);
    expect(discord.commandWrites).toEqual([expect.not.objectContaining({ guildId: expect.anything() })]);

    const second = await register();
    expect(second.stdout).toContain("Commands are up to date globally");
    expect(discord.commandWrites).toHaveLength(1);
  });

  it("rewrites the list when Discord holds an outdated command or one that no longer exists, saying which", async () => {
    const rest = new REST({ api: discord.url }).setToken(TOKEN);
    const outdated = ALL_COMMANDS.map((command) =>
      command.data.name === "status"
        ? { ...command.data, description: "An older description" }
        : command.data,
    );
    await rest.put(Routes.applicationCommands(discord.applicationId), {
      body: [...outdated, { name: "deploy-legacy", description: "Removed long ago" }],
    });

    const run = await register();

    expect(run.code).toBe(0);
    expect(run.stdout).toContain("updated status; removed deploy-legacy");
    expect(discord.registeredCommands().map((command) => command.name)).toEqual(NAMES);
    expect(discord.registeredCommands().find((command) => command.name === "status")!.description).toBe(
      "Switchboard's health: version, uptime, gateway, latest deliveries and outbox",
    );
  });

  it("names DISCORD_TOKEN and DISCORD_APPLICATION_ID when they are missing", async () => {
    const run = await register({ DISCORD_TOKEN: undefined, DISCORD_APPLICATION_ID: undefined });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("DISCORD_TOKEN");
    expect(run.stderr).toContain("DISCORD_APPLICATION_ID");
    expect(discord.commandWrites).toEqual([]);
  });

  it("says the token was refused when Discord answers 401", async () => {
    const run = await register({ DISCORD_TOKEN: "not-the-bot-token.AAAA.bbbb" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Discord refused DISCORD_TOKEN (401)");
    expect(run.stderr).not.toContain("not-the-bot-token");
  });
});
