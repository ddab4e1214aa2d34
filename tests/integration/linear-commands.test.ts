/**
 * /linear create | issue | mine | comment, end to end through the dispatcher, the real Linear client and
 * the fake Linear API, answering over REST to the fake Discord. See tests/support/linear-bot.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildCommandRegistry } from "../../src/discord/command-registry.js";
import { ALL_COMMANDS } from "../../src/discord/commands/all-commands.js";
import { cooldownFor } from "../../src/discord/commands/command.js";
import { command as linearCommand } from "../../src/discord/commands/linear.js";
import { listRecentAudit } from "../../src/store/audit-repository.js";
import { saveIdentityLink } from "../../src/store/identity-repository.js";
import { autocomplete, chatInput, modalSubmit } from "../support/discord-bot-driver.js";
import {
  ADA,
  CREATE_ISSUES_CONFIG,
  CREATOR_ROLE,
  GRACE,
  resetLinearBot,
  startLinearBot,
  type LinearBot,
} from "../support/linear-bot.js";

let bot: LinearBot;

beforeAll(async () => {
  bot = await startLinearBot({ config: CREATE_ISSUES_CONFIG });
});
afterAll(() => bot.close());
beforeEach(() => resetLinearBot(bot));

const linear = (
  subcommand: string,
  options: Record<string, string | number> = {},
  roles = [CREATOR_ROLE],
  user = ADA,
) => bot.invoke(chatInput("linear", { subcommand, options, roles, user }));
const created = () => bot.linear.requests.filter((r) => r.operation === "CreateIssue" && r.status === 200);
const comments = () => bot.linear.requests.filter((r) => r.operation === "CreateComment" && r.status === 200);
const latestAudit = async () => (await listRecentAudit(bot.store.db, 1))[0];

describe("the command contract", () => {
  it("accepts /linear and the context-menu command (whose name has spaces) in the registry", () => {
    const registry = buildCommandRegistry(ALL_COMMANDS);
    expect(registry.get("linear")).toBeDefined();
    expect(registry.get("Create Linear issue")?.data).toMatchObject({ type: 3 });
    expect(() =>
      buildCommandRegistry([{ ...linearCommand, data: { ...linearCommand.data, name: "Bad Name" } }]),
    ).toThrow(/lower-case/);
  });

  it("counts /linear create and /linear comment apart, and leaves /linear issue free", () => {
    expect(cooldownFor(linearCommand, { subcommand: "create", values: new Map() })).toEqual({
      key: "linear create",
      seconds: 30,
    });
    expect(cooldownFor(linearCommand, { subcommand: "issue", values: new Map() })).toBeUndefined();
  });
});

describe("/linear create", () => {
  it("opens a form, then creates the issue in the chosen team with the priority and posts its card", async () => {
    const form = await linear("create", { team: "eng", priority: 2 });
    expect(form.initial.type).toBe(9);
    expect(form.data).toMatchObject({ custom_id: "linear:create:ENG:2", title: "New Linear issue in ENG" });

    const before = created().length;
    const answer = await bot.invoke(
      modalSubmit("linear:create:ENG:2", {
        user: ADA,
        roles: [CREATOR_ROLE],
        fields: { title: "  Export   is broken ", description: "Steps to reproduce" },
      }),
    );
    expect(created()).toHaveLength(before + 1);
    const issue = bot.linear.issues.at(-1)!;
    expect(issue).toMatchObject({ title: "Export is broken", priority: 2 });
    expect(issue.description).toBe("Steps to reproduce\n\n_Created from Discord by ada._");
    expect(answer.ephemeral).toBe(false);
    expect(answer.content).toContain(
      `<@${ADA.id}> created **[${issue.identifier}](https://linear.app/acme/issue/${issue.identifier}/`,
    );
    expect(answer.data).toMatchObject({ allowed_mentions: { parse: [] } });
    expect((answer.data.embeds as Array<{ title: string }>)[0]!.title).toBe(
      `${issue.identifier} Export is broken`,
    );
    expect(await latestAudit()).toMatchObject({
      action: "linear create",
      outcome: "ok",
      capability: "create-issues",
    });
  });

  it("defaults to the team this channel's feedback goes to", async () => {
    const form = await linear("create");
    expect(form.data).toMatchObject({ custom_id: "linear:create:ENG:" });
  });

  it("refuses a member without the role, naming the role, and creates nothing", async () => {
    const before = bot.linear.requests.length;
    const answer = await linear("create", { team: "ENG" }, [], GRACE);
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain(`<@&${CREATOR_ROLE}>`);
    expect(answer.content).toContain("create-issues");
    expect(bot.linear.requests.length).toBe(before);
    expect(await latestAudit()).toMatchObject({
      user_id: GRACE.id,
      action: "linear create",
      outcome: "denied",
    });

    // Submitting a form by hand (without having been shown one) is refused the same way.
    const submitted = await bot.invoke(
      modalSubmit("linear:create:ENG:", { user: GRACE, roles: [], fields: { title: "x" } }),
    );
    expect(submitted.content).toContain(`<@&${CREATOR_ROLE}>`);
    expect(bot.linear.requests.length).toBe(before);
  });

  it("says when the team does not exist, without opening the form", async () => {
    const answer = await linear("create", { team: "NOPE" });
    expect(answer.initial.type).toBe(4);
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe("Linear has no team with the key NOPE: pick one from the list.");
  });

  it("refuses an empty title and creates nothing", async () => {
    const before = created().length;
    const answer = await bot.invoke(
      modalSubmit("linear:create:ENG:", {
        user: ADA,
        roles: [CREATOR_ROLE],
        fields: { title: "   ", description: "x" },
      }),
    );
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(/title is empty/);
    expect(created().length).toBe(before);
  });

  it("autocompletes the team from Linear", async () => {
    const answer = await bot.invoke(
      autocomplete("linear", { subcommand: "create", options: { team: "des" }, focused: "team", user: ADA }),
    );
    expect(answer.initial.type).toBe(8);
    expect(answer.data).toEqual({ choices: [{ name: "DES · Design", value: "DES" }] });
  });

  it("makes a second /linear create within the cooldown wait, with a clear message, while /linear issue still works", async () => {
    const first = await linear("create", { team: "ENG" });
    expect(first.initial.type).toBe(9);
    bot.advance(5_000);
    const second = await linear("create", { team: "ENG" });
    expect(second.ephemeral).toBe(true);
    expect(second.content).toBe("Slow down: /linear create can be used again in 25 s.");

    const issue = bot.linear.addIssue({ teamKey: "ENG", title: "Unrelated" });
    const view = await linear("issue", { key: issue.identifier });
    expect(view.content).not.toMatch(/Slow down/);
    bot.advance(25_000);
    expect((await linear("create", { team: "ENG" })).initial.type).toBe(9);
  });

  it("does not count a refused attempt against the cooldown", async () => {
    await linear("create", { team: "NOPE" });
    expect((await linear("create", { team: "ENG" })).initial.type).toBe(9);
  });

  it("names LINEAR_API_KEY when Linear refuses the key", async () => {
    bot.linear.failWith({ kind: "unauthenticated" });
    const answer = await bot.invoke(
      modalSubmit("linear:create:ENG:", { user: ADA, roles: [CREATOR_ROLE], fields: { title: "Anything" } }),
    );
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(/LINEAR_API_KEY/);
    expect(bot.logs.some((line) => line.includes("Linear refused the configured credentials"))).toBe(true);
  });

  it("asks to retry later when Linear rate-limits", async () => {
    const before = created().length;
    bot.linear.failWith({ kind: "ratelimited", retryAfterSeconds: 120 }, { operations: ["CreateIssue"] });
    const answer = await bot.invoke(
      modalSubmit("linear:create:ENG:", { user: ADA, roles: [CREATOR_ROLE], fields: { title: "Anything" } }),
    );
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(/Linear is rate limiting Switchboard right now: try again in about 2 min/);
    expect(created().length).toBe(before);
  });
});

describe("/linear issue", () => {
  it("shows the issue's card to anyone, no role needed", async () => {
    const issue = bot.linear.addIssue({
      teamKey: "ENG",
      title: "Crash on start",
      assigneeEmail: "ada@example.com",
      stateType: "started",
      priority: 1,
    });
    const answer = await linear("issue", { key: issue.identifier.toLowerCase() }, [], GRACE);
    expect(answer.ephemeral).toBe(false);
    const embed = (answer.data.embeds as Array<Record<string, unknown>>)[0]!;
    expect(embed).toMatchObject({
      title: `${issue.identifier} Crash on start`,
      footer: { text: "Linear · ENG Engineering" },
    });
    expect(embed.fields).toEqual(
      expect.arrayContaining([
        { name: "Status", value: "🟡 In Progress", inline: true },
        { name: "Priority", value: "🔴 Urgent", inline: true },
        { name: "Assignee", value: "Ada Lovelace", inline: true },
      ]),
    );
  });

  it("accepts the issue's Linear link", async () => {
    const issue = bot.linear.addIssue({ teamKey: "DES", title: "Logo" });
    const answer = await linear("issue", { key: `https://linear.app/acme/issue/${issue.identifier}/logo` });
    expect((answer.data.embeds as Array<{ title: string }>)[0]!.title).toBe(`${issue.identifier} Logo`);
  });

  it("says when there is no such issue, or the key is not a key", async () => {
    const missing = await linear("issue", { key: "ENG-9999" });
    expect(missing.ephemeral).toBe(true);
    expect(missing.content).toBe(
      "Linear has no issue ENG-9999: check the key (or whether the issue was deleted).",
    );
    const nonsense = await linear("issue", { key: "hello there" });
    expect(nonsense.content).toMatch(/is not a Linear issue key: use the team key and number, like ENG-123/);
  });

  it("names LINEAR_API_KEY when Linear refuses the key", async () => {
    bot.linear.failWith({ kind: "unauthenticated" });
    const answer = await linear("issue", { key: "ENG-1" });
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(/Linear refused LINEAR_API_KEY/);
  });
});

describe("/linear mine", () => {
  it("lists my open issues through my linked Linear email, to me alone, no role needed", async () => {
    await saveIdentityLink(bot.store.db, {
      discordUserId: GRACE.id,
      linear: { email: "ada@example.com", userId: null, name: null },
      at: Date.now(),
    });
    const open = bot.linear.addIssue({
      teamKey: "ENG",
      title: "Mine and open",
      assigneeEmail: "ada@example.com",
    });
    bot.linear.addIssue({
      teamKey: "ENG",
      title: "Mine but done",
      assigneeEmail: "ada@example.com",
      stateType: "completed",
    });
    bot.linear.addIssue({ teamKey: "ENG", title: "Not mine" });
    const answer = await linear("mine", {}, [], GRACE);
    expect(answer.ephemeral).toBe(true);
    const embed = (answer.data.embeds as Array<{ title: string; description: string }>)[0]!;
    expect(embed.title).toBe("Your open Linear issues");
    expect(embed.description).toContain(`[${open.identifier}]`);
    expect(embed.description).not.toContain("Mine but done");
    expect(embed.description).not.toContain("Not mine");
  });

  it("asks me to /link first when Switchboard does not know my Linear account", async () => {
    const answer = await linear("mine", {}, [], { id: "200000000000000077", username: "nobody" });
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(/link it with \/link/);
  });

  it("says when the linked email is not a Linear user", async () => {
    await saveIdentityLink(bot.store.db, {
      discordUserId: "200000000000000078",
      linear: { email: "gone@example.com", userId: null, name: null },
      at: Date.now(),
    });
    const answer = await linear("mine", {}, [], { id: "200000000000000078", username: "gone" });
    expect(answer.content).toMatch(/Linear has no active user with the email gone@example.com/);
  });
});

describe("/linear comment", () => {
  it("comments on the issue, saying who wrote it in Discord", async () => {
    const issue = bot.linear.addIssue({ teamKey: "ENG", title: "Flaky test" });
    const answer = await linear("comment", { key: issue.identifier, text: "Seen again on main" });
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain(`Commented on **[${issue.identifier}](`);
    expect(bot.linear.comments.at(-1)).toMatchObject({
      issueId: issue.id,
      body: "Seen again on main\n\n_— ada, from Discord_",
    });
    expect(await latestAudit()).toMatchObject({ action: "linear comment", outcome: "ok" });
  });

  it("refuses a member without the role, naming the role, and comments nothing", async () => {
    const issue = bot.linear.addIssue({ teamKey: "ENG", title: "Guarded" });
    const before = comments().length;
    const answer = await linear("comment", { key: issue.identifier, text: "hi" }, [], GRACE);
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain(`<@&${CREATOR_ROLE}>`);
    expect(comments().length).toBe(before);
    expect(await latestAudit()).toMatchObject({ action: "linear comment", outcome: "denied" });
  });

  it("says when the issue does not exist, or the comment is blank", async () => {
    const missing = await linear("comment", { key: "ENG-9999", text: "hi" });
    expect(missing.content).toBe(
      "Linear has no issue ENG-9999: check the key (or whether the issue was deleted).",
    );
    bot.advance(60_000);
    const blank = await linear("comment", { key: "ENG-1", text: "   " });
    expect(blank.content).toMatch(/comment is empty/);
    expect(await latestAudit()).toMatchObject({ action: "linear comment", outcome: "refused" });
  });
});

describe("without LINEAR_API_KEY", () => {
  it("tells the user what the operator must set", async () => {
    const unconfigured = await startLinearBot({ config: CREATE_ISSUES_CONFIG, linear: false });
    try {
      const answer = await unconfigured.invoke(
        chatInput("linear", { subcommand: "issue", options: { key: "ENG-1" } }),
      );
      expect(answer.content).toBe(
        "Linear is not connected to this Switchboard: the operator needs to set LINEAR_API_KEY.",
      );
    } finally {
      await unconfigured.close();
    }
  });
});
