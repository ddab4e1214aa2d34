/**
 * Notifications mention the linked Discord member an event asks something of, and nobody else: signed
 * deliveries go through a real Switchboard to the fake Discord, where each message's content and
 * allowed_mentions are what Discord would act on.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { loadLinearFixture } from "../../src/sources/linear/fixtures.js";
import { signGitHubDelivery, signLinearDelivery } from "../../src/sources/signed-delivery.js";
import { saveIdentityLink } from "../../src/store/identity-repository.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord, FakeMessage } from "../fakes/discord-server.js";
import {
  TEST_DISCORD_TOKEN,
  TEST_GITHUB_SECRET,
  TEST_LINEAR_SECRET,
  startBotSwitchboard,
} from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const CHANNEL = "111111111111111111";
const OCTOCAT_ON_DISCORD = "200000000000000042";
/** The review_requested fixture asks octocat to review Codertocat's PR. */
const REQUESTED_REVIEWER = "octocat";
/** The Linear fixtures' assignee. */
const ADA_LINEAR_ID = "2c9f4b1e-8d7a-4f3c-b6e5-1a0d9c8b7f6e";
const ADA_ON_DISCORD = "200000000000000043";

const COMPACT_ROUTES = `
routes:
  - name: prs
    source: github
    match: { events: ["pull_request.*"] }
    channel: "${CHANNEL}"
    style: compact
`;

let discord: FakeDiscord;
let switchboard: TestSwitchboard;

afterEach(async () => {
  await switchboard?.close();
  await discord?.close();
});

async function start(config = "") {
  discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
  switchboard = await startBotSwitchboard(discord, CHANNEL, config);
  // With DISCORD_TOKEN the bot also logs in to the fake gateway; let it finish, as it would in production,
  // so that closing never races a login in progress.
  await switchboard.waitFor(() => switchboard.gateway?.state().status === "ready");
}

function link(discordUserId: string, link: { githubLogin?: string; linearUserId?: string; email?: string }) {
  return saveIdentityLink(switchboard.store.db, {
    discordUserId,
    ...(link.githubLogin ? { githubLogin: link.githubLogin } : {}),
    ...(link.email ? { linear: { email: link.email, userId: link.linearUserId ?? null, name: null } } : {}),
    at: Date.now(),
  });
}

async function sendGitHub(fixture: string, change: (payload: Record<string, unknown>) => void = () => {}) {
  const { event, payload } = loadGitHubFixture(fixture);
  const copy = structuredClone(payload) as Record<string, unknown>;
  change(copy);
  const response = await switchboard.post(
    await signGitHubDelivery({ secret: TEST_GITHUB_SECRET, event, payload: copy }),
  );
  expect(response.status).toBe(202);
}

async function sendLinear(fixture: string, change: (payload: Record<string, unknown>) => void = () => {}) {
  const copy = structuredClone(loadLinearFixture(fixture).payload) as Record<string, unknown>;
  change(copy);
  const response = await switchboard.post(signLinearDelivery({ secret: TEST_LINEAR_SECRET, payload: copy }));
  expect(response.status).toBe(202);
}

/** Waits until `count` messages were posted, then returns them all. */
async function messages(count: number): Promise<FakeMessage[]> {
  await switchboard.waitFor(() => discord.messages.length >= count);
  return discord.messages;
}

const pullRequestOf = (payload: Record<string, unknown>) => payload.pull_request as Record<string, unknown>;

describe("mentions for a requested review", () => {
  it("mentions exactly the linked Discord member of the requested reviewer, in the item's thread", async () => {
    await start();
    await link(OCTOCAT_ON_DISCORD, { githubLogin: "OctoCat" });

    await sendGitHub("pull_request.review_requested");

    const [card, reply] = await messages(2);
    expect(card!.allowed_mentions).toEqual({ parse: [] });
    expect(card!.content).not.toContain("<@");
    expect(reply!.channelId).toBe(discord.threads[0]!.id);
    expect(reply!.content).toBe(`<@${OCTOCAT_ON_DISCORD}>`);
    expect(reply!.allowed_mentions).toEqual({ parse: [], users: [OCTOCAT_ON_DISCORD] });
    expect(JSON.stringify(reply!.embeds)).toContain(REQUESTED_REVIEWER);
  });

  it("lets a title with <@id> and @everyone ping nobody beyond the linked reviewer", async () => {
    await start(COMPACT_ROUTES);
    await link(OCTOCAT_ON_DISCORD, { githubLogin: REQUESTED_REVIEWER });

    await sendGitHub("pull_request.review_requested", (payload) => {
      pullRequestOf(payload).title = "Ping <@123456789012345678> and @everyone and <@&987654321098765432>";
    });

    const [message] = await messages(1);
    expect(message!.content.startsWith(`<@${OCTOCAT_ON_DISCORD}> `)).toBe(true);
    expect(message!.content).toContain("<@123456789012345678> and @everyone");
    expect(message!.allowed_mentions).toEqual({ parse: [], users: [OCTOCAT_ON_DISCORD] });
  });

  it("mentions nobody when the requested reviewer has no link, whatever the title says", async () => {
    await start(COMPACT_ROUTES);
    await link(OCTOCAT_ON_DISCORD, { githubLogin: "someone-else" });

    await sendGitHub("pull_request.review_requested", (payload) => {
      pullRequestOf(payload).title = "Hey <@123456789012345678> @everyone @here";
    });

    const [message] = await messages(1);
    expect(message!.content.startsWith("<@")).toBe(false);
    expect(message!.allowed_mentions).toEqual({ parse: [] });
  });

  it("does not mention a member whose login equals the slug of a requested team", async () => {
    await start(COMPACT_ROUTES);
    await link(OCTOCAT_ON_DISCORD, { githubLogin: "platform" });

    await sendGitHub("pull_request.review_requested", (payload) => {
      delete payload.requested_reviewer;
      payload.requested_team = { id: 1, slug: "platform", name: "Platform" };
    });

    const [message] = await messages(1);
    expect(message!.allowed_mentions).toEqual({ parse: [] });
  });

  it("does not mention anyone for other pull request events", async () => {
    await start(COMPACT_ROUTES);
    await link(OCTOCAT_ON_DISCORD, { githubLogin: REQUESTED_REVIEWER });
    await link(ADA_ON_DISCORD, { githubLogin: "Codertocat" });

    await sendGitHub("pull_request.opened");

    const [message] = await messages(1);
    expect(message!.allowed_mentions).toEqual({ parse: [] });
  });
});

describe("mentions for a Linear assignment", () => {
  it("mentions the new assignee's linked member (matched by Linear user id) when the assignee changes", async () => {
    await start();
    await link(ADA_ON_DISCORD, { email: "someone@old-address.dev", linearUserId: ADA_LINEAR_ID });

    await sendLinear("Issue.update.assignee");

    const posted = await messages(2);
    const mentioning = posted.filter((message) => message.content.includes("<@"));
    expect(mentioning).toHaveLength(1);
    expect(mentioning[0]!.content).toBe(`<@${ADA_ON_DISCORD}>`);
    expect(mentioning[0]!.allowed_mentions).toEqual({ parse: [], users: [ADA_ON_DISCORD] });
  });

  it("matches an unverified link by email, and mentions the assignee of a new issue", async () => {
    await start();
    await link(ADA_ON_DISCORD, { email: "ADA@acme.dev" });

    await sendLinear("Issue.create", (payload) => {
      const data = payload.data as Record<string, unknown>;
      data.assigneeId = ADA_LINEAR_ID;
      data.assignee = { id: ADA_LINEAR_ID, name: "Ada Lovelace", email: "ada@acme.dev" };
      // Grace files it for Ada: assigning yourself is not news, assigning someone else is.
      payload.actor = { id: "grace", name: "Grace Hopper", type: "user" };
    });

    const posted = await messages(2);
    const mentioning = posted.filter((message) => message.content.includes("<@"));
    expect(mentioning.map((message) => message.allowed_mentions)).toEqual([
      { parse: [], users: [ADA_ON_DISCORD] },
    ]);
  });

  it("does not mention the assignee for updates that leave the assignee alone", async () => {
    await start();
    await link(ADA_ON_DISCORD, { email: "ada@acme.dev", linearUserId: ADA_LINEAR_ID });

    await sendLinear("Issue.update.state");

    const posted = await messages(2);
    for (const message of posted) expect(message.allowed_mentions).toEqual({ parse: [] });
  });
});
