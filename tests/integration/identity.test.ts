/**
 * /link as a Discord member meets it: linking a GitHub login and a Linear email (checked against the fake
 * GitHub REST API and the fake Linear GraphQL API through the real clients), showing and removing links,
 * and what happens when an API refuses or is not configured. Answers are read at the fake Discord (see
 * tests/support/command-invoker.ts for the one hop that is skipped).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGitHubApi } from "../../src/sources/github/github-client.js";
import { createLinearClient } from "../../src/sources/linear/linear-client.js";
import type { Store } from "../../src/store/database.js";
import { findIdentityLink, saveIdentityLink } from "../../src/store/identity-repository.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";
import { startFakeLinear } from "../fakes/linear-server.js";
import type { FakeLinear } from "../fakes/linear-server.js";
import { startCommandBackends } from "../support/command-backends.js";
import type { CommandBackends } from "../support/command-backends.js";
import { createCommandInvoker } from "../support/command-invoker.js";
import type { CommandInvoker } from "../support/command-invoker.js";
import { chatInput } from "../support/discord-bot-driver.js";
import type { OptionInput } from "../support/discord-bot-driver.js";

const ADA = { id: "200000000000000001", username: "ada" };
const GRACE = { id: "200000000000000002", username: "grace" };

let backends: CommandBackends;
let discord: FakeDiscord;
let github: FakeGitHub;
let linear: FakeLinear;
let store: Store;
let bot: CommandInvoker;

beforeEach(async () => {
  backends = await startCommandBackends("identity");
  ({ discord, github, store } = backends);
  github.addUser("Octocat", { name: "The Octocat" });
  github.addUser("grace-h");
  github.addUser("acme", { type: "Organization" });
  linear = await startFakeLinear({
    users: [
      { name: "Ada Lovelace", email: "ada@acme.dev" },
      { name: "Grace Hopper", email: "grace@acme.dev" },
    ],
  });
  bot = createCommandInvoker({
    discord,
    db: store.db,
    services: {
      github: createGitHubApi({ GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url }),
      linear: createLinearClient({ apiKey: linear.apiKey, apiUrl: linear.url }),
    },
  });
});

afterEach(async () => {
  await linear.close();
  await backends.close();
});

/** Every member here is ordinary: no roles. */
function link(options: Record<string, OptionInput> = {}, user = ADA) {
  return bot.invoke(chatInput("link", { user, roles: [], options }));
}

const linkOf = (user: { id: string }) => findIdentityLink(store.db, user.id);

describe("/link", () => {
  it("says how to link, ephemerally, when the member has no links yet", async () => {
    const answer = await link();
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain("You have no links yet.");
    expect(answer.content).toContain("/link github:<login> linear:<email>");
    expect(answer.content).toContain("Linking is self-service and only affects you.");
  });

  it("links a GitHub login in GitHub's spelling and a Linear email resolved to the Linear user", async () => {
    const answer = await link({ github: "octocat", linear: "Ada@Acme.dev" });

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain("Linked.");
    expect(answer.content).toContain("• GitHub: **Octocat**");
    expect(answer.content).toContain("• Linear: **Ada Lovelace** `ada@acme.dev`");
    expect(answer.content).not.toContain("not checked");
    const ada = linear.users.find((user) => user.email === "ada@acme.dev")!;
    expect(await linkOf(ADA)).toMatchObject({
      github_login: "Octocat",
      linear_email: "ada@acme.dev",
      linear_user_id: ada.id,
      linear_name: "Ada Lovelace",
    });
  });

  it("shows the member's own links afterwards, and keeps one side when the other is changed", async () => {
    await link({ github: "octocat", linear: "ada@acme.dev" });
    await link({ github: "grace-h" });

    const answer = await link();
    expect(answer.content).toContain(
      "Your links:\n• GitHub: **grace-h**\n• Linear: **Ada Lovelace** `ada@acme.dev`",
    );
  });

  it("accepts @login and profile URLs", async () => {
    await link({ github: "@octocat" });
    expect((await linkOf(ADA))?.github_login).toBe("Octocat");
    await link({ github: "https://github.com/grace-h" });
    expect((await linkOf(ADA))?.github_login).toBe("grace-h");
  });

  it("refuses a malformed github: value without asking GitHub, and stores nothing", async () => {
    const answer = await link({ github: "not a login <@200000000000000002> @everyone" });
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe(
      "`not a login <@200000000000000002> @everyone` is not a GitHub login: logins are 1 to 39 letters, digits or single hyphens, e.g. octocat.",
    );
    expect(answer.data.allowed_mentions).toEqual({ parse: [] });
    expect(github.requests).toEqual([]);
    expect(await linkOf(ADA)).toBeUndefined();
  });

  it("refuses a GitHub login that does not exist, or is an organization", async () => {
    expect((await link({ github: "no-such-user" })).content).toBe(
      "GitHub has no user named no-such-user: check the spelling.",
    );
    expect((await link({ github: "acme" })).content).toBe(
      "acme is a GitHub organization, not a person: give your own login.",
    );
    expect(await linkOf(ADA)).toBeUndefined();
  });

  it("refuses a malformed email and an email Linear does not know, storing neither side", async () => {
    expect((await link({ github: "octocat", linear: "ada-at-acme" })).content).toBe(
      "`ada-at-acme` is not an email address: give the one you sign in to Linear with.",
    );
    expect((await link({ github: "octocat", linear: "nobody@acme.dev" })).content).toBe(
      "Linear has no active user with the email `nobody@acme.dev`: check the spelling.",
    );
    expect(await linkOf(ADA)).toBeUndefined();
  });

  it("refuses a GitHub login or Linear email another member holds, naming them without pinging", async () => {
    await link({ github: "octocat", linear: "ada@acme.dev" }, ADA);

    const login = await link({ github: "OCTOCAT" }, GRACE);
    expect(login.content).toBe(
      `GitHub login Octocat is already linked to <@${ADA.id}>: they can free it with /link remove:github.`,
    );
    expect(login.data.allowed_mentions).toEqual({ parse: [] });
    const email = await link({ linear: "ada@acme.dev" }, GRACE);
    expect(email.content).toContain(`is already linked to <@${ADA.id}>`);
    expect(await linkOf(GRACE)).toBeUndefined();
  });

  it("stores unchecked values and says so when neither API is configured", async () => {
    const answer = await bot.invoke(
      chatInput("link", { user: ADA, roles: [], options: { github: "whoever", linear: "ada@acme.dev" } }),
      { github: undefined, linear: undefined },
    );
    expect(answer.content).toContain("The GitHub login was not checked");
    expect(answer.content).toContain("GITHUB_TOKEN");
    expect(answer.content).toContain("The Linear email was not checked");
    expect(await linkOf(ADA)).toMatchObject({
      github_login: "whoever",
      linear_email: "ada@acme.dev",
      linear_user_id: null,
      linear_name: null,
    });
  });

  it("names GITHUB_TOKEN when GitHub refuses the token (401), and asks to retry when rate limited", async () => {
    github.fail({ kind: "unauthorized" });
    const refused = await link({ github: "octocat" });
    expect(refused.ephemeral).toBe(true);
    expect(refused.content).toContain("GitHub refused the credentials in GITHUB_TOKEN (401 Bad credentials)");

    github.fail({ kind: "rate-limit", resetInSeconds: 120 });
    expect((await link({ github: "octocat" })).content).toMatch(
      /^GitHub is rate limiting Switchboard right now: try again in about 2 min\.$/,
    );
    expect(await linkOf(ADA)).toBeUndefined();
  });

  it("asks to retry later when Linear rate limits the email lookup", async () => {
    linear.failWith({ kind: "ratelimited", retryAfterSeconds: 30 });
    const answer = await link({ linear: "ada@acme.dev" });
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(/^Linear is rate limiting Switchboard right now: try again /);
    expect(await linkOf(ADA)).toBeUndefined();
  });
});

describe("/link remove", () => {
  it("forgets one side, then the rest, of the caller's own link only", async () => {
    await saveIdentityLink(store.db, {
      discordUserId: GRACE.id,
      githubLogin: "grace-h",
      linear: { email: "grace@acme.dev", userId: null, name: null },
      at: 1,
    });
    await link({ github: "octocat", linear: "ada@acme.dev" });

    expect((await link({ remove: "github" })).content).toBe(
      "Removed your GitHub link: notifications no longer mention you for it.",
    );
    expect(await linkOf(ADA)).toMatchObject({ github_login: null, linear_email: "ada@acme.dev" });
    await link({ remove: "linear" });
    expect(await linkOf(ADA)).toBeUndefined();
    expect((await link({ remove: "all" })).content).toBe("You had no links: nothing to remove.");
    // Grace's link is untouched by anything Ada ran.
    expect(await linkOf(GRACE)).toMatchObject({ github_login: "grace-h", linear_email: "grace@acme.dev" });
  });

  it("removes everything at once with remove:all", async () => {
    await link({ github: "octocat", linear: "ada@acme.dev" });
    expect((await link({ remove: "all" })).content).toContain("Removed your links");
    expect(await linkOf(ADA)).toBeUndefined();
  });

  it("refuses to link and remove in one go", async () => {
    const answer = await link({ github: "octocat", remove: "github" });
    expect(answer.content).toBe("Link or remove, not both at once: run /link twice.");
    expect(await linkOf(ADA)).toBeUndefined();
  });
});

describe("access", () => {
  it("is self-service: an ordinary member links even when every capability is mapped to roles", async () => {
    const gated = createCommandInvoker({
      discord,
      db: store.db,
      config: `discord:\n  roles:\n    admin: ["300000000000000001"]\n    manage-subscriptions: ["300000000000000002"]\n`,
    });
    const answer = await gated.invoke(
      chatInput("link", { user: GRACE, roles: [], options: { github: "grace-h" } }),
    );
    expect(answer.content).toContain("Linked.");
    expect(await linkOf(GRACE)).toMatchObject({ github_login: "grace-h" });
  });
});
