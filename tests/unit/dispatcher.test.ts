import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigFile } from "../../src/config/config-file.js";
import { buildCommandRegistry } from "../../src/discord/command-registry.js";
import type { Command } from "../../src/discord/commands/command.js";
import { createInteractionDispatcher } from "../../src/discord/dispatcher.js";
import type { InteractionReply, InteractionResponder } from "../../src/discord/interaction.js";
import { UserError } from "../../src/errors.js";
import { createLogger } from "../../src/observability/logger.js";
import { openStore } from "../../src/store/database.js";
import type { Store } from "../../src/store/database.js";
import { autocomplete, button, chatInput, modalSubmit } from "../support/discord-bot-driver.js";

const RELEASERS = "400000000000000001";

/** Records answers the way the fake Discord would see them, minus the transport. */
function recordingResponder() {
  const answers: Array<{ kind: string; message?: InteractionReply; ephemeral?: boolean; choices?: unknown }> =
    [];
  let acknowledged = false;
  const responder: InteractionResponder = {
    get acknowledged() {
      return acknowledged;
    },
    async defer({ ephemeral }) {
      acknowledged = true;
      answers.push({ kind: "defer", ephemeral });
    },
    async reply(message, { ephemeral } = {}) {
      acknowledged = true;
      answers.push({ kind: "reply", message, ...(ephemeral === undefined ? {} : { ephemeral }) });
    },
    async followUp(message) {
      answers.push({ kind: "followUp", message });
      return undefined;
    },
    async updateMessage(message) {
      acknowledged = true;
      answers.push({ kind: "update", message });
    },
    async showModal() {
      acknowledged = true;
      answers.push({ kind: "modal" });
    },
    async autocomplete(choices) {
      acknowledged = true;
      answers.push({ kind: "autocomplete", choices });
    },
  };
  return { responder, answers };
}

const seen: string[] = [];
const release: Command = {
  data: { name: "release", description: "Cut a release" },
  access: { default: "release" },
  async execute({ options, respond }) {
    const version = String(options.values.get("version"));
    if (version === "v1.0.0") throw new UserError("Tag v1.0.0 already exists: choose another version.");
    if (version === "v9.9.9") throw new Error("POST https://api.example/x?token=abc failed: 500");
    await respond.reply({ content: `Releasing ${version}` });
  },
  async autocomplete() {
    return Array.from({ length: 40 }, (_, n) => ({ name: `v1.${n}.0`, value: `v1.${n}.0` }));
  },
  async component({ customId, respond }) {
    seen.push(customId);
    await respond.updateMessage({ content: `clicked ${customId}` });
  },
  async modal({ fields, respond }) {
    await respond.reply({ content: `notes: ${fields.get("notes")}` });
  },
};
const silent: Command = {
  data: { name: "silent", description: "Forgets to answer" },
  access: { default: null },
  async execute() {},
};

let store: Store;
let logs: string[];
let counted: Array<{ command: string; outcome: string }>;

beforeEach(async () => {
  store = await openStore("sqlite::memory:");
  logs = [];
  counted = [];
});
afterEach(async () => {
  await store.close();
});

function dispatcher() {
  const commands = buildCommandRegistry([release, silent]);
  return createInteractionDispatcher({
    commands,
    services: {
      db: store.db,
      config: parseConfigFile(`discord:\n  roles:\n    release: ["${RELEASERS}"]\n`, "test.yaml"),
      clock: () => 1_700_000_000_000,
      listCommands: () => [...commands.values()],
    },
    logger: createLogger({
      level: "debug",
      format: "json",
      secrets: [],
      destination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          logs.push(chunk.toString("utf8"));
          callback();
        },
      }),
    }),
    metrics: { interactions: { inc: (labels) => counted.push(labels) } },
  });
}

describe("the interaction dispatcher", () => {
  it("answers a refused request (UserError) with its own message, ephemerally, and audits it as refused", async () => {
    const { responder, answers } = recordingResponder();
    await dispatcher().dispatch(
      chatInput("release", { options: { version: "v1.0.0" }, roles: [RELEASERS] }),
      responder,
    );

    expect(answers).toEqual([
      expect.objectContaining({
        kind: "reply",
        ephemeral: true,
        message: expect.objectContaining({ content: "Tag v1.0.0 already exists: choose another version." }),
      }),
    ]);
    const audit = await store.db.selectFrom("audit_log").selectAll().execute();
    expect(audit).toEqual([expect.objectContaining({ action: "release", outcome: "refused" })]);
    expect(counted).toEqual([{ command: "release", outcome: "refused" }]);
  });

  it("audits a privileged command that succeeded", async () => {
    const { responder, answers } = recordingResponder();
    await dispatcher().dispatch(
      chatInput("release", { options: { version: "v2.0.0" }, roles: [RELEASERS] }),
      responder,
    );
    expect(answers[0]).toMatchObject({ kind: "reply", message: { content: "Releasing v2.0.0" } });
    const audit = await store.db.selectFrom("audit_log").selectAll().execute();
    expect(audit).toEqual([
      expect.objectContaining({ action: "release", outcome: "ok", options: '{"version":"v2.0.0"}' }),
    ]);
  });

  it("tells the user and the audit log where the operator finds an unexpected failure, not its text", async () => {
    const { responder, answers } = recordingResponder();
    const interaction = chatInput("release", { options: { version: "v9.9.9" }, roles: [RELEASERS] });
    await dispatcher().dispatch(interaction, responder);

    expect(answers[0]?.message?.content).toContain(interaction.id);
    const [audit] = await store.db.selectFrom("audit_log").selectAll().execute();
    expect(audit).toMatchObject({ action: "release", outcome: "error" });
    expect(audit!.detail).toBe(`unexpected failure: the logs have it under interaction ${interaction.id}`);
    expect(logs.join("")).toContain("POST https://api.example/x");
  });

  it("answers autocomplete with at most Discord's 25 choices", async () => {
    const { responder, answers } = recordingResponder();
    await dispatcher().dispatch(
      autocomplete("release", { options: { version: "v1" }, focused: "version" }),
      responder,
    );
    expect(answers).toHaveLength(1);
    expect((answers[0]!.choices as unknown[]).length).toBe(25);
  });

  it("answers autocomplete for an unknown command with no choices rather than leaving it hanging", async () => {
    const { responder, answers } = recordingResponder();
    await dispatcher().dispatch(autocomplete("gone", { options: { q: "x" }, focused: "q" }), responder);
    expect(answers).toEqual([{ kind: "autocomplete", choices: [] }]);
  });

  it("routes a button to its command by the custom_id prefix, after the access check", async () => {
    const { responder, answers } = recordingResponder();
    await dispatcher().dispatch(button("release:confirm:v2.0.0", { roles: [RELEASERS] }), responder);
    expect(seen).toContain("release:confirm:v2.0.0");
    expect(answers).toEqual([{ kind: "update", message: { content: "clicked release:confirm:v2.0.0" } }]);

    const denied = recordingResponder();
    await dispatcher().dispatch(button("release:confirm:v3.0.0", { roles: [] }), denied.responder);
    expect(denied.answers[0]).toMatchObject({ kind: "reply", ephemeral: true });
    expect(seen).not.toContain("release:confirm:v3.0.0");
  });

  it("checks a button against the capability of its action, the custom_id's second segment", async () => {
    const approvers = "400000000000000002";
    const deploy: Command = {
      data: { name: "deploy", description: "Deploy" },
      access: { default: "deploy", subcommands: { approve: "approve" } },
      async execute() {},
      async component({ customId, options, respond }) {
        await respond.updateMessage({ content: `${options.subcommand} ${customId}` });
      },
    };
    const commands = buildCommandRegistry([deploy]);
    const config = parseConfigFile(
      `discord:\n  roles:\n    deploy: ["${RELEASERS}"]\n    approve: ["${approvers}"]\n`,
      "test.yaml",
    );
    const withDeploy = createInteractionDispatcher({
      commands,
      services: { db: store.db, config, clock: () => 1, listCommands: () => [...commands.values()] },
      logger: createLogger({ level: "silent", format: "json", secrets: [] }),
      metrics: { interactions: { inc: () => {} } },
    });

    // Deployers may not approve: the button needs `approve`, not the command's default `deploy`.
    const deployer = recordingResponder();
    await withDeploy.dispatch(button("deploy:approve:42", { roles: [RELEASERS] }), deployer.responder);
    expect(deployer.answers).toEqual([
      expect.objectContaining({
        kind: "reply",
        ephemeral: true,
        message: expect.objectContaining({ content: expect.stringContaining("`approve`") }),
      }),
    ]);

    const approver = recordingResponder();
    await withDeploy.dispatch(button("deploy:approve:42", { roles: [approvers] }), approver.responder);
    expect(approver.answers).toEqual([{ kind: "update", message: { content: "approve deploy:approve:42" } }]);
    // The audit log says which deployment was approved: the button's custom_id stands in for options.
    const audit = await store.db.selectFrom("audit_log").select(["action", "outcome", "options"]).execute();
    const options = '{"custom_id":"deploy:approve:42"}';
    expect(audit).toEqual([
      { action: "deploy approve", outcome: "denied", options },
      { action: "deploy approve", outcome: "ok", options },
    ]);
  });

  it("hands a modal's text inputs to the command by custom_id", async () => {
    const { responder, answers } = recordingResponder();
    await dispatcher().dispatch(
      modalSubmit("release:notes", { fields: { notes: "Fixes the flux capacitor" }, roles: [RELEASERS] }),
      responder,
    );
    expect(answers[0]).toMatchObject({ message: { content: "notes: Fixes the flux capacitor" } });
  });

  it("still answers, and logs the bug, when a command returns without answering", async () => {
    const { responder, answers } = recordingResponder();
    const interaction = chatInput("silent");
    await dispatcher().dispatch(interaction, responder);
    expect(answers).toEqual([{ kind: "reply", message: { content: "Done." }, ephemeral: true }]);
    expect(logs.join("")).toContain(`"interaction":"${interaction.id}"`);
    expect(logs.join("")).toContain("Command finished without answering");
  });
});
