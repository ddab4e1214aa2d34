import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ed25519PublicKey, verifyDiscordSignature } from "../../src/http/discord-interactions.js";

const { publicKey, privateKey } = generateKeyPairSync("ed25519");
const hex = publicKey.export({ format: "der", type: "spki" }).subarray(12).toString("hex");
const key = ed25519PublicKey(hex);
const NOW = 1_700_000_000;
const body = Buffer.from('{"type":1}');
const signed = (timestamp: number, payload = body) =>
  sign(null, Buffer.concat([Buffer.from(String(timestamp)), payload]), privateKey).toString("hex");

describe("verifyDiscordSignature", () => {
  it("accepts Discord's signature over timestamp + raw body with the 64-hex public key", () => {
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    const check = verifyDiscordSignature(key, { signature: signed(NOW), timestamp: String(NOW) }, body, NOW);
    expect(check).toEqual({ ok: true });
  });

  it("refuses a signature over other bytes or another timestamp", () => {
    const other = Buffer.from('{"type":2}');
    expect(
      verifyDiscordSignature(key, { signature: signed(NOW), timestamp: String(NOW) }, other, NOW).ok,
    ).toBe(false);
    expect(
      verifyDiscordSignature(key, { signature: signed(NOW), timestamp: String(NOW + 1) }, body, NOW).ok,
    ).toBe(false);
  });

  it("refuses timestamps more than five minutes away, even when correctly signed", () => {
    const stale = NOW - 301;
    expect(
      verifyDiscordSignature(key, { signature: signed(stale), timestamp: String(stale) }, body, NOW),
    ).toEqual({ ok: false, reason: "timestamp outside the 5-minute window" });
    const edge = NOW - 300;
    expect(
      verifyDiscordSignature(key, { signature: signed(edge), timestamp: String(edge) }, body, NOW).ok,
    ).toBe(true);
  });

  it("refuses missing or malformed headers without throwing", () => {
    expect(verifyDiscordSignature(key, { signature: undefined, timestamp: String(NOW) }, body, NOW).ok).toBe(
      false,
    );
    expect(verifyDiscordSignature(key, { signature: "zz", timestamp: String(NOW) }, body, NOW).ok).toBe(
      false,
    );
    expect(verifyDiscordSignature(key, { signature: signed(NOW), timestamp: "soon" }, body, NOW).ok).toBe(
      false,
    );
  });
});
