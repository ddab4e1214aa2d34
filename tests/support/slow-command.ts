/**
 * A command that takes longer than Discord's 3 seconds to answer, so the bot must defer it first and edit
 * the answer in later. Added by the tests that check the deferral, over the gateway and over HTTP.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "../../src/discord/commands/command.js";

export const slow: Command = {
  data: { name: "slow", description: "Takes longer than Discord's 3 seconds" },
  access: { default: null },
  ephemeral: true,
  async execute({ respond }) {
    await sleep(3200);
    await respond.reply({ content: "Finished the slow work." });
  },
};
