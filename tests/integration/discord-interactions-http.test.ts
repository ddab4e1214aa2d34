/**
 * `POST /discord/interactions` as Discord calls it: signed with the application's Ed25519 key (a real key
 * pair generated here), answered in the HTTP response, with later answers sent over REST to the fake.
 */
import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_COMMANDS } from "../../src/discord/commands/all-commands.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import {
  chatInput,
  generateInteractionKeys,
  invokeOverHttp,
  ping,
  postInteraction,
  signInteraction,
} from "../support/discord-bot-driver.js";
import { startTestSwitchboard } from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";
import { slow } from "../support/slow-command.js";

const keys = generateInteractionKeys();
let discord: FakeDiscord;
let switchboard: TestSwitchboard;
let endpoint: string;

beforeAll(async () => {
  discord = await startFakeDiscord();
  // An HTTP-interactions-only deployment: web role, public key, no bot token and no gateway.
  switchboard = await startTestSwitchboard({
    role: "web",
    env: { DISCORD_PUBLIC_KEY: keys.publicKeyHex, DISCORD_API_URL: discord.url },
    commands: [...ALL_COMMANDS, slow],
  });
  endpoint = `${switchboard.url}/discord/interactions`;
});

afterAll(async () => {
  await switchboard?.close();
  await discord?.close();
});

describe("verifying requests", () => {
  it("answers Discord's PING with a PONG", async () => {
    const response = await postInteraction(endpoint, ping(), keys.privateKey);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual({ type: 1 });
  });

  it("answers 401 to a request signed with another key", async () => {
    const other = generateKeyPairSync("ed25519").privateKey;
    const response = await postInteraction(endpoint, ping(), other);
    expect(response.status).toBe(401);
  });

  it("answers 401 when the body was changed after signing", async () => {
    const body = JSON.stringify(ping());
    const headers = signInteraction(body, keys.privateKey);
    const response = await fetch(endpoint, { method: "POST", headers, body: body.replace("1", "2") });
    expect(response.status).toBe(401);
  });

  it("answers 401 without the signature headers", async () => {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ping()),
    });
    expect(response.status).toBe(401);
  });

  it("answers 401 to a correctly signed request older than five minutes (a replay)", async () => {
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const response = await postInteraction(endpoint, ping(), keys.privateKey, { timestamp: sixMinutesAgo });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { message: string }).message).toContain("5-minute");
  });

  it("answers 404 where DISCORD_PUBLIC_KEY is not set", async () => {
    const plain = await startTestSwitchboard({ role: "web" });
    try {
      const response = await postInteraction(`${plain.url}/discord/interactions`, ping(), keys.privateKey);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { message: string }).message).toContain("DISCORD_PUBLIC_KEY");
    } finally {
      await plain.close();
    }
  });
});

describe("commands over HTTP", () => {
  it("answers a command in the HTTP response itself", async () => {
    const answer = await invokeOverHttp(endpoint, discord, chatInput("help"), keys.privateKey);

    expect(answer.httpStatus).toBe(200);
    expect(answer.initial).toMatchObject({ via: "http", type: 4, ephemeral: true });
    expect(JSON.stringify(answer.data)).toContain("Switchboard commands");
    // Nothing went over REST: the HTTP response was the whole answer.
    expect(answer.responses).toHaveLength(1);
  });

  it("answers an unknown command ephemerally in the HTTP response", async () => {
    const answer = await invokeOverHttp(endpoint, discord, chatInput("teleport"), keys.privateKey);
    expect(answer.initial).toMatchObject({ via: "http", type: 4, ephemeral: true });
    expect(answer.content).toContain("not known");
  });

  it("defers a slow command in the HTTP response within 3 s, then edits the answer in over REST", async () => {
    const started = Date.now();
    const answer = await invokeOverHttp(endpoint, discord, chatInput("slow"), keys.privateKey);

    expect(answer.initial).toMatchObject({ via: "http", type: 5, ephemeral: true });
    expect(answer.initial.at - started).toBeLessThan(3000);
    expect(answer.responses.map((response) => `${response.kind} via ${response.via}`)).toEqual([
      "callback via http",
      "edit-original via rest",
    ]);
    expect(answer.content).toBe("Finished the slow work.");
  });
});
