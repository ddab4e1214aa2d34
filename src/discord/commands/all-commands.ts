/**
 * Every command Switchboard offers, in the order /help lists them. Adding a command: create its file in
 * this folder exporting `command` (see command.ts) and list it here.
 */
import { command as audit } from "./audit.js";
import type { Command } from "./command.js";
import { command as createLinearIssue } from "./create-linear-issue.js";
import { command as deploy } from "./deploy.js";
import { command as github } from "./github.js";
import { command as help } from "./help.js";
import { command as jobs } from "./jobs.js";
import { command as linear } from "./linear.js";
import { command as link } from "./link.js";
import { command as release } from "./release.js";
import { command as rollback } from "./rollback.js";
import { command as status } from "./status.js";
import { command as subscribe } from "./subscribe.js";
import { command as subscriptions } from "./subscriptions.js";
import { command as unsubscribe } from "./unsubscribe.js";

export const ALL_COMMANDS: Command[] = [
  subscribe,
  unsubscribe,
  subscriptions,
  github,
  linear,
  createLinearIssue,
  link,
  release,
  deploy,
  rollback,
  audit,
  jobs,
  status,
  help,
];
