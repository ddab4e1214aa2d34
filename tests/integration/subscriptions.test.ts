/**
 * /subscribe, /unsubscribe and /subscriptions as a Discord user meets them, and a subscription routing a real
 * signed delivery to the fake Discord.
 *
 * Interactions are built by the bot driver (payloads shaped like Discord's) and go through the real dispatcher
 * and the real responder, whose answers travel over REST to the fake Discord, where the driver reads them.
 * Only the gateway hop is skipped: Switchboard has no bot role logging in to the gateway yet. Once it has,
 * `invoke` below becomes the driver's `invokeCommand(discord, interaction)` with no other change.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { APIInteraction } from "discord-api-types/v10";
import { ApplicationCommandOptionType, ChannelType } from "discord-api-types/v10";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigFile } from "../../src/config/config-file.js";
import { buildCommandRegistry } from "../../src/discord/command-registry.js";
import { ALL_COMMANDS } from "../../src/discord/commands/all-commands.js";
import type { CommandServices } from "../../src/discord/commands/command.js";
import { createInteractionDispatcher } from "../../src/discord/dispatcher.js";
import { createLogger } from "../../src/observability/logger.js";
import { createRouteRuleSource } from "../../src/pipeline/route-rules.js";
import type { GitHubApi } from "../../src/sources/github/github-api.js";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { createLinearClient } from "../../src/sources/linear/linear-client.js";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import { listRecentAudit } from "../../src/store/audit-repository.js";
import { openStore } from "../../src/store/database.js";
import type { Store } from "../../src/store/database.js";
import { saveIdentityLink } from "../../src/store/identity-repository.js";
import { createSubscription, listAllSubscriptions } from "../../src/store/subscription-repository.js";
import { FAKE_CHANNEL_ID, FAKE_GUILD_ID } from "../fakes/discord-gateway.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { startFakeLinear } from "../fakes/linear-server.js";
import type { FakeLinear } from "../fakes/linear-server.js";
import { dispatchOverRest } from "../support/command-invoker.js";
import { autocomplete, chatInput } from "../support/discord-bot-driver.js";
import type { ChatInputOptions, InvocationResult, OptionInput } from "../support/discord-bot-driver.js";
import {
  TEST_DISCORD_TOKEN,
  TEST_GITHUB_SECRET,
  startTestSwitchboard,
} from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const MAINTAINERS = "300000000000000020";
const HERE = FAKE_CHANNEL_ID;
const DEPLOYS = "300000000000000011";
const OTHER_GUILD = "400000000000000001";
const OTHER_GUILD_CHANNEL = "400000000000000010";

const CONFIG = `
discord:
  roles:
    manage-subscriptions: ["${MAINTAINERS}"]
routes:
  - name: releases
    source: github
    match: { repos: ["acme/api"], events: ["release.*"] }
    channel: "${HERE}"
`;

let discord: FakeDiscord;
let store: Store;
let directory: string;
let github: FakeGitHubApi;
let linear: FakeLinear | undefined;
let switchboard: TestSwitchboard | undefined;

beforeEach(async () => {
  discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
  directory = mkdtempSync(join(tmpdir(), "switchboard-subscriptions-"));
  store = await openStore(`sqlite:${join(directory, "switchboard.db")}`);
  github = fakeGitHubApi(["acme/api", "acme/web"]);
});

afterEach(async () => {
  await switchboard?.close();
  switchboard = undefined;
  await linear?.close();
  linear = undefined;
  await store.close();
  await discord.close();
  rmSync(directory, { recursive: true, force: true });
});

type FakeGitHubApi = GitHubApi & { asked: string[] };

/** The GitHubApi interface over a fixed list of repositories (dependency injection, not module mocking). */
function fakeGitHubApi(repositories: string[]): FakeGitHubApi {
  const asked: string[] = [];
  const unused = () => Promise.reject(new Error("not used by subscriptions"));
  return {
    asked,
    async getRepository(fullName) {
      asked.push(fullName);
      const found = repositories.find((name) => name.toLowerCase() === fullName.toLowerCase());
      return found
        ? { fullName: found, defaultBranch: "main", private: false, url: `https://github.com/${found}` }
        : undefined;
    },
    getUser: unused,
    getPullRequest: unused,
    listOpenPullRequests: unused,
    listPullRequests: unused,
    resolveRef: unused,
    listTags: unused,
    listCommits: unused,
    compareCommits: unused,
    getReleaseByTag: unused,
    createRelease: unused,
    createDeployment: unused,
    dispatchWorkflow: unused,
    listHookDeliveries: unused,
    redeliverHookDelivery: unused,
    listWorkflowRuns: unused,
  };
}

function dispatcherFor(db: Store["db"], overrides: Partial<CommandServices> = {}) {
  const commands = buildCommandRegistry(ALL_COMMANDS);
  const services: CommandServices = {
    db,
    config: parseConfigFile(CONFIG, "test-config.yaml"),
    clock: Date.now,
    github,
    ...(linear ? { linear: createLinearClient({ apiKey: linear.apiKey, apiUrl: linear.url }) } : {}),
    listCommands: () => [...commands.values()],
    ...overrides,
  };
  const logger = createLogger({
    level: "warn",
    format: "json",
    secrets: [],
    destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
  });
  return createInteractionDispatcher({
    commands,
    services,
    logger,
    metrics: { interactions: { inc: () => {} } },
  });
}

/** Delivers an interaction the way the gateway path does, and collects the bot's answers at the fake Discord. */
async function invoke(
  interaction: APIInteraction,
  overrides: Partial<CommandServices> = {},
  db: Store["db"] = store.db,
): Promise<InvocationResult> {
  return dispatchOverRest(discord, dispatcherFor(db, overrides), interaction);
}

const maintainer = { roles: [MAINTAINERS] };
const member = { user: { id: "200000000000000002", username: "grace" }, roles: [] };

function subscribe(
  subcommand: "github" | "linear",
  options: Record<string, OptionInput>,
  common: ChatInputOptions = maintainer,
) {
  return chatInput("subscribe", { ...common, subcommand, options });
}

function channelOption(id: string, type = ChannelType.GuildText) {
  return {
    option: { type: ApplicationCommandOptionType.Channel, value: id },
    resolved: { channels: { [id]: { id, type, name: "deploys", permissions: "0" } } },
  };
}

async function auditOutcomes() {
  return (await listRecentAudit(store.db, 50)).map((entry) => `${entry.action}: ${entry.outcome}`).reverse();
}

describe("/subscribe", () => {
  it("stores a GitHub subscription for this channel and confirms it publicly, without pinging anyone", async () => {
    const answer = await invoke(
      subscribe("github", { repo: "acme/API, acme/*", events: "pull_request.*", labels: "@everyone" }),
    );

    expect(answer.ephemeral).toBe(false);
    expect(answer.content).toContain(
      `Subscribed <#${HERE}> to \`github acme/api,acme/* pull_request.* labels:@everyone\` as subscription **#1**.`,
    );
    expect(answer.content).toContain("`/unsubscribe id:1`");
    expect(answer.data.allowed_mentions).toEqual({ parse: [] });
    // The exact name is confirmed (and stored in GitHub's spelling); the glob is not looked up.
    expect(github.asked).toEqual(["acme/API"]);
    const [stored, ...others] = await listAllSubscriptions(store.db);
    expect(others).toEqual([]);
    expect(stored).toMatchObject({
      id: 1,
      guildId: FAKE_GUILD_ID,
      channelId: HERE,
      source: "github",
      createdBy: "200000000000000001",
      rule: {
        match: {
          repos: ["acme/api", "acme/*"],
          events: ["pull_request.*"],
          labels: { any: ["@everyone"], all: [], none: [] },
        },
        style: "full",
        threads: "per-item",
      },
    });
    expect(await auditOutcomes()).toEqual(["subscribe github: ok"]);
  });

  it("stores a Linear subscription for the chosen channel after the Linear API confirms the team", async () => {
    linear = await startFakeLinear({ teams: [{ key: "ENG", name: "Engineering" }] });
    const { option, resolved } = channelOption(DEPLOYS);
    const answer = await invoke(
      chatInput("subscribe", {
        ...maintainer,
        subcommand: "linear",
        options: { team: "eng", events: "Issue.*", style: "compact", channel: option },
        resolved,
      }),
    );

    expect(answer.content).toContain(`Subscribed <#${DEPLOYS}> to \`linear ENG Issue.* compact\``);
    expect(linear.requests.map((request) => request.operation)).toContain("FindTeam");
    const [stored] = await listAllSubscriptions(store.db);
    expect(stored).toMatchObject({
      channelId: DEPLOYS,
      source: "linear",
      rule: { match: { teams: ["ENG"], events: ["Issue.*"] }, style: "compact" },
    });
  });

  it("answers a user without the role privately, naming the role, and stores nothing", async () => {
    const answer = await invoke(subscribe("github", { repo: "acme/api" }, member));

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain(`<@&${MAINTAINERS}>`);
    expect(answer.data.allowed_mentions).toEqual({ parse: [] });
    expect(await listAllSubscriptions(store.db)).toEqual([]);
    expect(await auditOutcomes()).toEqual(["subscribe github: denied"]);
  });

  it("refuses a repository without an owner, saying what to type instead", async () => {
    const answer = await invoke(subscribe("github", { repo: "api", events: "pull_request.*" }));

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe(
      "`api` is not a repository: type owner/name (acme/api) or a glob such as acme/*, several separated by commas.",
    );
    expect(await listAllSubscriptions(store.db)).toEqual([]);
    expect(await auditOutcomes()).toEqual(["subscribe github: refused"]);
  });

  it("refuses a repository the GitHub API does not know, by name", async () => {
    const answer = await invoke(subscribe("github", { repo: "acme/api, acme/nope" }));

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain("acme/nope does not exist or the GitHub credentials cannot see it.");
    expect(answer.content).not.toContain("acme/api does not exist");
    expect(await listAllSubscriptions(store.db)).toEqual([]);
  });

  it("refuses a Linear team the API does not know, listing the teams it does", async () => {
    linear = await startFakeLinear({
      teams: [
        { key: "ENG", name: "Engineering" },
        { key: "OPS", name: "Operations" },
      ],
    });
    const answer = await invoke(subscribe("linear", { team: "DES" }));

    expect(answer.content).toBe(
      "Linear team DES does not exist or the Linear API key cannot see it.\nTeams it can see: ENG, OPS.",
    );
    expect(await listAllSubscriptions(store.db)).toEqual([]);
  });

  it("subscribes without checking when the API is not configured, and says which variable to set", async () => {
    const answer = await invoke(subscribe("github", { repo: "acme/api" }), { github: undefined });

    expect(answer.content).toContain("as subscription **#1**");
    expect(answer.content).toContain(
      "Note: acme/api could not be verified: the GitHub API is not configured (the operator can set GITHUB_TOKEN).",
    );
    expect(await listAllSubscriptions(store.db)).toHaveLength(1);
  });

  it("mutes the subscriber's own events through their linked GitHub login, and asks for /link without one", async () => {
    const refused = await invoke(subscribe("github", { repo: "acme/api", "mute-own": true }));
    expect(refused.ephemeral).toBe(true);
    expect(refused.content).toBe(
      "mute-own needs your GitHub login, and your Discord account is not linked to one: run /link first, then subscribe again.",
    );
    expect(await listAllSubscriptions(store.db)).toEqual([]);

    await saveIdentityLink(store.db, { discordUserId: "200000000000000001", githubLogin: "ada-l", at: 1 });
    const answer = await invoke(
      subscribe("github", { repo: "acme/api", "exclude-authors": "bots", "mute-own": true }),
    );
    expect(answer.content).toContain("-authors:bots,ada-l");
    const [stored] = await listAllSubscriptions(store.db);
    expect(stored!.rule!.match.authors).toEqual({ include: [], exclude: ["bots", "ada-l"] });
  });

  it("refuses the same subscription twice in one channel, naming the existing one", async () => {
    await invoke(subscribe("github", { repo: "acme/api", events: "push" }));
    const answer = await invoke(subscribe("github", { repo: "acme/api", events: "push" }));

    expect(answer.content).toBe(`<#${HERE}> already has this subscription: #1. /subscriptions lists them.`);
    expect(await listAllSubscriptions(store.db)).toHaveLength(1);
  });

  it("refuses per-item threads inside a thread, and accepts threads:none there", async () => {
    const { option, resolved } = channelOption(DEPLOYS, ChannelType.PublicThread);
    const refused = await invoke(
      chatInput("subscribe", {
        ...maintainer,
        subcommand: "github",
        options: { repo: "acme/api", channel: option },
        resolved,
      }),
    );
    expect(refused.content).toContain(`<#${DEPLOYS}> is a thread`);
    expect(refused.content).toContain("threads:none");

    const accepted = await invoke(
      chatInput("subscribe", {
        ...maintainer,
        subcommand: "github",
        options: { repo: "acme/api", channel: option, threads: "none" },
        resolved,
      }),
    );
    expect(accepted.content).toContain(`Subscribed <#${DEPLOYS}>`);
  });

  it("suggests Linear team keys while the user types, keeping keys typed before a comma", async () => {
    linear = await startFakeLinear({
      teams: [
        { key: "ENG", name: "Engineering" },
        { key: "OPS", name: "Operations" },
      ],
    });
    const answer = await invoke(
      autocomplete("subscribe", { subcommand: "linear", options: { team: "ENG, op" }, focused: "team" }),
    );
    expect(answer.data.choices).toEqual([{ name: "OPS: Operations", value: "ENG, OPS" }]);
  });
});

describe("/unsubscribe", () => {
  async function seed(guildId: string, channelId: string, repo: string) {
    return createSubscription(store.db, {
      guildId,
      channelId,
      source: "github",
      rule: { match: { repos: [repo], events: ["pull_request.*"] }, style: "full", threads: "per-item" },
      createdBy: "200000000000000001",
      at: 1,
    });
  }

  it("removes a subscription by its number and says what it was", async () => {
    const subscription = await seed(FAKE_GUILD_ID, DEPLOYS, "acme/api");
    const answer = await invoke(
      chatInput("unsubscribe", { ...maintainer, options: { id: `#${subscription.id}` } }),
    );

    expect(answer.ephemeral).toBe(false);
    expect(answer.content).toBe(
      `Removed subscription **#${subscription.id}** (\`github acme/api pull_request.*\` → <#${DEPLOYS}>).`,
    );
    expect(await listAllSubscriptions(store.db)).toEqual([]);
    expect(await auditOutcomes()).toEqual(["unsubscribe: ok"]);
  });

  it("answers a user without the role privately, naming the role, and removes nothing", async () => {
    const subscription = await seed(FAKE_GUILD_ID, HERE, "acme/api");
    const answer = await invoke(
      chatInput("unsubscribe", { ...member, options: { id: String(subscription.id) } }),
    );

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain(`<@&${MAINTAINERS}>`);
    expect(await listAllSubscriptions(store.db)).toHaveLength(1);
    expect(await auditOutcomes()).toEqual(["unsubscribe: denied"]);
  });

  it("refuses a value that is not a subscription number, and another server's subscription", async () => {
    const elsewhere = await seed(OTHER_GUILD, OTHER_GUILD_CHANNEL, "other/secret");

    const notANumber = await invoke(chatInput("unsubscribe", { ...maintainer, options: { id: "releases" } }));
    expect(notANumber.ephemeral).toBe(true);
    expect(notANumber.content).toContain(
      "`releases` is not a subscription number: pick one from the list, or type the number /subscriptions shows",
    );

    const foreign = await invoke(
      chatInput("unsubscribe", { ...maintainer, options: { id: String(elsewhere.id) } }),
    );
    expect(foreign.content).toBe(
      `There is no subscription #${elsewhere.id} in this server: \`/subscriptions all:True\` lists them. Routes from the config file are changed in the file.`,
    );
    expect(await listAllSubscriptions(store.db)).toHaveLength(1);
    expect(await auditOutcomes()).toEqual(["unsubscribe: refused", "unsubscribe: refused"]);
  });

  it("suggests this channel's subscriptions first, then the rest of the server's, and filters by what is typed", async () => {
    const there = await seed(FAKE_GUILD_ID, DEPLOYS, "acme/web");
    const here = await seed(FAKE_GUILD_ID, HERE, "acme/api");
    await seed(OTHER_GUILD, OTHER_GUILD_CHANNEL, "other/secret");

    const all = await invoke(autocomplete("unsubscribe", { ...member, options: { id: "" }, focused: "id" }));
    expect(all.data.choices).toEqual([
      { name: `#${here.id} github acme/api pull_request.* -> #general`, value: String(here.id) },
      { name: `#${there.id} github acme/web pull_request.* -> #${DEPLOYS}`, value: String(there.id) },
    ]);

    const filtered = await invoke(autocomplete("unsubscribe", { options: { id: "web" }, focused: "id" }));
    expect(filtered.data.choices).toEqual([
      { name: `#${there.id} github acme/web pull_request.* -> #${DEPLOYS}`, value: String(there.id) },
    ]);
  });
});

describe("/subscriptions", () => {
  beforeEach(async () => {
    await invoke(subscribe("github", { repo: "acme/api", events: "pull_request.*" }));
    const { option, resolved } = channelOption(DEPLOYS);
    await invoke(
      chatInput("subscribe", {
        ...maintainer,
        subcommand: "github",
        options: { repo: "acme/web", "exclude-authors": "bots", channel: option },
        resolved,
      }),
    );
  });

  it("lists this channel's subscriptions and the config file's routes, marked read-only; `all` adds other channels", async () => {
    const here = await invoke(chatInput("subscriptions", maintainer));
    expect(here.ephemeral).toBe(true);
    expect(here.content).toBe(
      [
        `**Subscriptions in <#${HERE}>** (remove one with \`/unsubscribe\`)`,
        `**#1** \`github acme/api pull_request.*\` → <#${HERE}> · by <@200000000000000001>`,
        "**Config file routes** (read-only: change them in the config file)",
        `🔒 \`releases\` \`github acme/api release.*\` → <#${HERE}>`,
      ].join("\n"),
    );
    expect(here.data.allowed_mentions).toEqual({ parse: [] });

    const all = await invoke(chatInput("subscriptions", { ...maintainer, options: { all: true } }));
    expect(all.content).toContain(`**#2** \`github acme/web all events -authors:bots\` → <#${DEPLOYS}>`);
    expect(all.content).toContain("**Subscriptions in this server**");
  });

  it("is open to members without the subscription role, and audits nothing", async () => {
    const before = await auditOutcomes();
    const answer = await invoke(chatInput("subscriptions", { ...member, channelId: DEPLOYS }));

    expect(answer.content).toContain(`**#2** \`github acme/web all events -authors:bots\``);
    expect(answer.content).not.toContain("acme/api pull_request");
    expect(await auditOutcomes()).toEqual(before);
  });

  it("refuses in a direct message, and points an empty channel to /subscribe", async () => {
    const direct = await invoke(chatInput("subscriptions", { dm: true }));
    expect(direct.ephemeral).toBe(true);
    expect(direct.content).toContain("run this in a server, not a direct message");

    const empty = await invoke(chatInput("subscriptions", { channelId: "300000000000000012" }));
    expect(empty.content).toContain("Nothing posts to <#300000000000000012> yet.");
    expect(empty.content).toContain("`/subscribe github repo:owner/name`");
  });
});

describe("route rules", () => {
  it("lists config routes first, then readable subscriptions; an unreadable one is warned about once, listed and removable", async () => {
    await invoke(subscribe("github", { repo: "acme/api", events: "pull_request.*" }));
    await store.db
      .insertInto("subscriptions")
      .values({
        guild_id: FAKE_GUILD_ID,
        channel_id: HERE,
        source: "github",
        rule: '{"match":{"repos":"not a list"}}',
        created_by: "200000000000000001",
        created_at: 1,
      })
      .execute();
    const logs: string[] = [];
    const logger = createLogger({
      level: "info",
      format: "json",
      secrets: [],
      destination: new Writable({
        write: (chunk: Buffer, _encoding, callback) => {
          logs.push(chunk.toString("utf8"));
          callback();
        },
      }),
    });
    const source = createRouteRuleSource(
      store.db,
      parseConfigFile(CONFIG, "test-config.yaml").routes,
      logger,
    );

    const rules = await source.listRules();
    await source.listRules();
    expect(rules.map((rule) => [rule.name, rule.origin, rule.channel])).toEqual([
      ["releases", "config", HERE],
      ["subscription-1", "subscription", HERE],
    ]);
    expect(logs.filter((line) => line.includes("Subscription #2 cannot be read"))).toHaveLength(1);

    const listing = await invoke(chatInput("subscriptions", member));
    expect(listing.content).toContain("**#2** `github (unreadable rule: match.repos:");
    await invoke(chatInput("unsubscribe", { ...maintainer, options: { id: "2" } }));
    expect((await listAllSubscriptions(store.db)).map((subscription) => subscription.id)).toEqual([1]);
  });
});

describe("a subscription made in chat routes deliveries", () => {
  function pullRequestFor(repo: string, fixture: string) {
    const { event, payload } = loadGitHubFixture(fixture);
    const copy = structuredClone(payload) as { repository: { full_name: string; name: string } };
    copy.repository.full_name = repo;
    copy.repository.name = repo.split("/")[1]!;
    return { event, payload: copy };
  }

  async function deliver(fixture: string) {
    const delivery = await signGitHubDelivery({
      secret: TEST_GITHUB_SECRET,
      ...pullRequestFor("acme/api", fixture),
    });
    expect((await switchboard!.post(delivery)).status).toBe(202);
    return delivery.deliveryId;
  }

  async function processed(deliveryId: string) {
    const row = await switchboard!.store.db
      .selectFrom("inbox")
      .select(["status", "detail"])
      .where("delivery_id", "=", deliveryId)
      .executeTakeFirst();
    return row?.status === "processed" ? row : undefined;
  }

  it("posts acme/api pull requests to the channel after /subscribe, and nothing after /unsubscribe", async () => {
    switchboard = await startTestSwitchboard({
      env: { DISCORD_TOKEN: TEST_DISCORD_TOKEN, DISCORD_API_URL: discord.url },
    });
    const db = switchboard.store.db;

    const subscribed = await invoke(
      subscribe("github", { repo: "acme/api", events: "pull_request.*", threads: "none" }),
      {},
      db,
    );
    expect(subscribed.content).toContain("as subscription **#1**");

    const first = await deliver("pull_request.opened");
    await switchboard.waitFor(() => discord.messages.some((message) => message.channelId === HERE));
    expect((await processed(first))?.detail).toBe("to subscription-1");
    const posted = discord.messages.filter((message) => message.channelId === HERE);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0]!.embeds)).toContain("acme/api");

    const removed = await invoke(chatInput("unsubscribe", { ...maintainer, options: { id: "1" } }), {}, db);
    expect(removed.content).toContain("Removed subscription **#1**");

    const second = await deliver("pull_request.closed.merged");
    await switchboard.waitFor(async () => (await processed(second)) !== undefined);
    expect((await processed(second))?.detail).toBe("no route matched");
    expect(discord.messages.filter((message) => message.channelId === HERE)).toHaveLength(1);
  });
});
