/**
 * Every command Switchboard offers, in the order /help lists them. Adding a command: create its file in
 * this folder exporting `command` (see command.ts) and list it here.
 */
import { command as audit } from "./audit.js";
import type { Command } from "./command.js";

export const ALL_COMMANDS: Command[] = [audit];
