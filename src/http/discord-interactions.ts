/**
 * `POST /discord/interactions`: Discord's HTTP interactions, for deployments that take interactions as
 * webhooks instead of (or beside) the gateway. The raw bytes are verified before anything is parsed:
 * an Ed25519 signature over `X-Signature-Timestamp` + body with the application's public key. Discord
 * itself probes the endpoint with bad signatures when the URL is saved and expects 401 for them.
 *
 * A verified interaction goes to the same dispatcher as gateway interactions. The first answer becomes the
 * HTTP response; later ones (the edit after a deferral, follow-ups) go through the interaction webhook over
 * REST. Discord waits 3 s for the HTTP answer, so a handler still busy after DEFER_AFTER_MS gets a deferral
 * sent for it, whatever the dispatcher did.
 */
import { createPublicKey, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { REST } from "@discordjs/rest";
import type { APIInteraction, APIInteractionResponse } from "discord-api-types/v10";
import { InteractionResponseType, InteractionType, MessageFlags } from "discord-api-types/v10";
import type { Request, RequestHandler, Response } from "express";
import type { InteractionDispatcher } from "../discord/dispatcher.js";
import { createResponder } from "../discord/responder.js";
import type { Logger } from "../observability/logger.js";

/** Discord's documented window; anything older is a replay. */
export const MAX_TIMESTAMP_AGE_SECONDS = 5 * 60;
/** Past the dispatcher's own 2 s auto-defer, still inside Discord's 3 s. */
export const DEFER_AFTER_MS = 2500;
/** Discord interaction payloads are small; resolved data for a large message stays far below this. */
export const INTERACTIONS_BODY_LIMIT_BYTES = 1024 * 1024;

/** SPKI DER header of an Ed25519 public key: the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export function ed25519PublicKey(hex: string): KeyObject {
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, "hex")]),
    format: "der",
    type: "spki",
  });
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Verifies Discord's signature headers over the raw body; `nowSeconds` is the current Unix time. */
export function verifyDiscordSignature(
  key: KeyObject,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: Buffer,
  nowSeconds: number,
): SignatureCheck {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) {
    return { ok: false, reason: "missing X-Signature-Ed25519 or X-Signature-Timestamp" };
  }
  if (!/^[0-9a-f]{128}$/i.test(signature)) return { ok: false, reason: "malformed signature" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed timestamp" };
  if (Math.abs(nowSeconds - Number(timestamp)) > MAX_TIMESTAMP_AGE_SECONDS) {
    return { ok: false, reason: "timestamp outside the 5-minute window" };
  }
  const signed = Buffer.concat([Buffer.from(timestamp, "utf8"), body]);
  const valid = verify(null, signed, key, Buffer.from(signature, "hex"));
  return valid ? { ok: true } : { ok: false, reason: "signature does not match" };
}

export function createDiscordInteractionsHandler(options: {
  /** DISCORD_PUBLIC_KEY: 64 hex characters. */
  publicKey: string;
  dispatcher: InteractionDispatcher;
  /** For answers after the first (interaction webhook; needs no bot token). */
  rest: REST;
  logger: Logger;
  clock?: () => number;
  deferAfterMs?: number;
}): RequestHandler {
  const key = ed25519PublicKey(options.publicKey);
  const clock = options.clock ?? Date.now;
  const deferAfterMs = options.deferAfterMs ?? DEFER_AFTER_MS;

  return async (req: Request, res: Response) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifyDiscordSignature(
      key,
      {
        signature: req.header("x-signature-ed25519"),
        timestamp: req.header("x-signature-timestamp"),
      },
      body,
      Math.floor(clock() / 1000),
    );
    if (!check.ok) {
      options.logger.warn({ reason: check.reason }, "Discord interaction rejected");
      res.status(401).json({ status: "rejected", message: `Invalid request signature: ${check.reason}.` });
      return;
    }
    let interaction: APIInteraction;
    try {
      interaction = JSON.parse(body.toString("utf8")) as APIInteraction;
    } catch {
      res.status(400).json({ status: "rejected", message: "The body is not JSON." });
      return;
    }
    if (interaction.type === InteractionType.Ping) {
      res.json({ type: InteractionResponseType.Pong });
      return;
    }
    await answer(interaction, res);
  };

  async function answer(interaction: APIInteraction, res: Response): Promise<void> {
    const logger = options.logger.child({ interaction: interaction.id });
    let resolveSent!: () => void;
    const sent = new Promise<void>((resolve) => (resolveSent = resolve));
    const sendInitial = async (response: APIInteractionResponse) => {
      if (res.headersSent) throw new Error("The interaction was already answered over HTTP");
      // Resolves once the answer is written, so a REST edit that follows cannot overtake it.
      await new Promise<void>((resolve) => {
        res.once("finish", resolve);
        res.once("close", resolve);
        res.status(200).json(response);
      });
      resolveSent();
    };
    const respond = createResponder({ interaction, rest: options.rest, sendInitial });
    const deferTimer = setTimeout(() => {
      respond.defer({ ephemeral: true }).catch((error: unknown) => {
        logger.warn({ err: error }, "Could not defer the interaction over HTTP");
      });
    }, deferAfterMs);
    const work = options.dispatcher
      .dispatch(interaction, respond)
      .catch((error: unknown) => logger.error({ err: error }, "Interaction could not be answered"))
      .finally(() => clearTimeout(deferTimer));
    await Promise.race([sent, work]);
    if (!res.headersSent) {
      // The dispatcher always answers; should it ever not, Discord must still hear something.
      logger.error("Interaction finished without an answer");
      res.status(200).json({
        type: InteractionResponseType.ChannelMessageWithSource,
        data: {
          content: `Something went wrong on our side. Reference: \`${interaction.id}\`.`,
          flags: MessageFlags.Ephemeral,
        },
      });
    }
  }
}
