/**
 * Deployment tracking end to end: signed `deployment` and `deployment_status` webhooks through the real
 * receiver, the inbox and outbox workers, the fake Discord (cards, edits, on-call pings), and for shipped
 * issues the fake GitHub (compare) and the fake Linear (comments, state moves).
 */
import { afterEach, describe, expect, it } from "vitest";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import { insertDeployment, listDeployments } from "../../src/store/deployment-repository.js";
import type { DeploymentRow } from "../../src/store/deployment-repository.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import { newDeployment } from "../support/deployment-rows.js";
import { deploymentDelivery, deploymentStatusDelivery } from "../support/deployment-webhooks.js";
import type { DeploymentShape } from "../support/deployment-webhooks.js";
import type { FakeDiscord, FakeEmbed, FakeMessage } from "../fakes/discord-server.js";
import { FAKE_GITHUB_TOKEN, startFakeGitHub } from "../fakes/github-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";
import { FAKE_LINEAR_API_KEY, startFakeLinear } from "../fakes/linear-server.js";
import type { FakeLinear } from "../fakes/linear-server.js";
import {
  TEST_DISCORD_TOKEN,
  TEST_GITHUB_SECRET,
  startTestSwitchboard,
} from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const REPO = "Codertocat/Hello-World";
const DEFAULT_CHANNEL = "111111111111111111";
const DEPLOY_CHANNEL = "222222222222222222";
const ON_CALL_ROLE = "333333333333333333";
const REQUESTER = "444444444444444444";
const APPROVER = "555555555555555555";
const SHA_A = "a".repeat(40);
const SHA_B = "b".repeat(40);

let discord: FakeDiscord;
let github: FakeGitHub | undefined;
let linear: FakeLinear | undefined;
let switchboard: TestSwitchboard;

afterEach(async () => {
  await switchboard?.close();
  await discord?.close();
  await github?.close();
  await linear?.close();
  github = undefined;
  linear = undefined;
});

async function start(config: string, withApis = false): Promise<void> {
  discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
  if (withApis) {
    github = await startFakeGitHub();
    linear = await startFakeLinear();
  }
  switchboard = await startTestSwitchboard({
    env: {
      DISCORD_TOKEN: TEST_DISCORD_TOKEN,
      DISCORD_API_URL: discord.url,
      DISCORD_DEFAULT_CHANNEL_ID: DEFAULT_CHANNEL,
      ...(github ? { GITHUB_TOKEN: FAKE_GITHUB_TOKEN, GITHUB_API_URL: github.url } : {}),
      ...(linear ? { LINEAR_API_KEY: FAKE_LINEAR_API_KEY, LINEAR_API_URL: linear.url } : {}),
    },
    config,
  });
}

const environments = (...lines: string[]) => ["environments:", ...lines, ""].join("\n");

async function sendDeployment(shape: DeploymentShape): Promise<void> {
  const { event, payload } = deploymentDelivery(shape);
  await post(event, payload);
}

async function sendStatus(
  shape: DeploymentShape,
  state: string,
  status: { description?: string; logUrl?: string } = {},
): Promise<void> {
  const { event, payload } = deploymentStatusDelivery(shape, state, status);
  await post(event, payload);
}

/** Posts a delivery (a fresh delivery id each time, as GitHub's redelivery of a new status would) and waits for its effects. */
async function post(event: string, payload: unknown): Promise<void> {
  const response = await switchboard.post(
    await signGitHubDelivery({ secret: TEST_GITHUB_SECRET, event, payload }),
  );
  expect(response.status).toBe(202);
  await settled();
}

/** Every delivery handled and every message sent. */
async function settled(): Promise<void> {
  const db = switchboard.store.db;
  await switchboard.waitFor(async () => {
    const inbox = await db.selectFrom("inbox").select("id").where("status", "=", "pending").execute();
    const outbox = await db.selectFrom("outbox").select("id").where("status", "=", "pending").execute();
    return inbox.length === 0 && outbox.length === 0;
  });
}

const inChannel = (channel: string) => discord.messages.filter((message) => message.channelId === channel);
const cards = (channel: string) =>
  inChannel(channel).filter((message) => isDeploymentCard(message.embeds[0]));
const isDeploymentCard = (embed: FakeEmbed | undefined) =>
  embed?.footer?.text.startsWith("Deployment #") ?? false;
const field = (message: FakeMessage, name: string) =>
  message.embeds[0]?.fields?.find((candidate) => candidate.name === name)?.value;
const deployments = () => listDeployments(switchboard.store.db, { limit: 50 });

describe("deployment cards", () => {
  it("posts one card for a deployment started outside chat and edits it through queued, in progress and success", async () => {
    await start(environments(`  - { name: production, repo: ${REPO}, channel: "${DEPLOY_CHANNEL}" }`));
    const deployment = { id: 9001, creator: "octo-deployer" };

    await sendDeployment(deployment);
    expect(cards(DEPLOY_CHANNEL)).toHaveLength(1);
    expect(field(cards(DEPLOY_CHANNEL)[0]!, "State")).toContain("Requested");

    for (const state of ["queued", "in_progress", "success"]) await sendStatus(deployment, state);
    expect(cards(DEPLOY_CHANNEL)).toHaveLength(1);
    const card = cards(DEPLOY_CHANNEL)[0]!;
    expect(discord.edits.filter((edit) => edit.messageId === card.id)).toHaveLength(3);
    expect(field(card, "State")).toContain("Succeeded");
    expect(field(card, "Requested by")).toBe("octo-deployer");
    expect(field(card, "Environment")).toBe("production");
    expect(field(card, "Commit")).toBe("`aaaaaaa`");
    expect(card.embeds[0]!.color).toBe(0x22c55e);
    // No thread and no replies: the card alone tells the story.
    expect(discord.threads).toHaveLength(0);

    const [row] = await deployments();
    expect(row).toMatchObject({ method: "external", requested_by_name: "octo-deployer", state: "success" });
    expect(row!.finished_at).not.toBeNull();
  });

  it("announces a success delivered twice once, and posts no plain message beside the card in its channel", async () => {
    await start(environments(`  - { name: production, repo: ${REPO} }`));
    const deployment = { id: 9002 };
    await sendDeployment(deployment);
    await sendStatus(deployment, "in_progress");
    await sendStatus(deployment, "success");
    await sendStatus(deployment, "success");
    // A stale status arriving after the success changes nothing either.
    await sendStatus(deployment, "in_progress");

    expect(discord.messages).toHaveLength(1);
    expect(cards(DEFAULT_CHANNEL)).toHaveLength(1);
    expect(discord.edits).toHaveLength(2);
    expect(field(cards(DEFAULT_CHANNEL)[0]!, "State")).toContain("Succeeded");
    const notices = await switchboard.store.db.selectFrom("ship_notices").selectAll().execute();
    expect(notices).toHaveLength(1);
    // The dashboard counts each state change once, too.
    const metrics = await (await fetch(new URL("/metrics", switchboard.url))).text();
    expect(metrics).toContain(
      'switchboard_deployment_transitions_total{environment="production",state="success"} 1',
    );
    expect(metrics).toContain(
      'switchboard_deployment_transitions_total{environment="production",state="in_progress"} 1',
    );
  });

  it("still posts deployment events as plain messages to routed channels other than the card's", async () => {
    await start(
      [
        "routes:",
        `  - { name: deploys, source: github, channel: "${DEFAULT_CHANNEL}", threads: none }`,
        environments(`  - { name: production, repo: ${REPO}, channel: "${DEPLOY_CHANNEL}" }`),
      ].join("\n"),
    );
    const deployment = { id: 9003 };
    await sendDeployment(deployment);
    await sendStatus(deployment, "success");
    expect(cards(DEPLOY_CHANNEL)).toHaveLength(1);
    expect(inChannel(DEFAULT_CHANNEL)).toHaveLength(2);
    expect(cards(DEFAULT_CHANNEL)).toHaveLength(0);
  });

  it("pings the on-call role exactly once when a deployment fails, and only that role", async () => {
    await start(environments(`  - { name: production, repo: ${REPO}, on_call_role: "${ON_CALL_ROLE}" }`));
    const deployment = { id: 9004 };
    await sendDeployment(deployment);
    await sendStatus(deployment, "in_progress");
    await sendStatus(deployment, "failure", {
      description: "Health check failed @everyone",
      logUrl: "https://ci.example.com/runs/42",
    });
    await sendStatus(deployment, "failure");
    await sendStatus(deployment, "error");

    const pings = discord.messages.filter((message) => message.content.includes(`<@&${ON_CALL_ROLE}>`));
    expect(pings).toHaveLength(1);
    expect(pings[0]!.allowed_mentions).toEqual({ parse: [], roles: [ON_CALL_ROLE] });
    expect(pings[0]!.content).toContain("Health check failed");
    expect(pings[0]!.content).toContain("https://ci.example.com/runs/42");
    const card = cards(DEFAULT_CHANNEL)[0]!;
    expect(field(card, "State")).toContain("Failed");
    expect(card.embeds[0]!.color).toBe(0xef4444);
    expect(field(card, "Logs")).toContain("https://ci.example.com/runs/42");
    // The ping comes after the card shows the failure.
    expect(discord.messages.indexOf(pings[0]!)).toBeGreaterThan(discord.messages.indexOf(card));
  });

  it("tracks deployments to environments missing from the config in the default channel", async () => {
    await start("");
    const deployment = { id: 9005, environment: "preview-42" };
    await sendDeployment(deployment);
    await sendStatus(deployment, "success");
    expect(cards(DEFAULT_CHANNEL)).toHaveLength(1);
    expect(field(cards(DEFAULT_CHANNEL)[0]!, "Environment")).toBe("preview-42");
    expect((await deployments())[0]).toMatchObject({ environment: "preview-42", state: "success" });
    // Linear hears only of configured environments: a preview per pull request does not "ship" issues.
    expect(await switchboard.store.db.selectFrom("ship_notices").selectAll().execute()).toHaveLength(0);
  });

  it("moves a deployment requested from chat, showing who asked and approved, without a second row", async () => {
    await start(environments(`  - { name: production, repo: ${REPO} }`));
    const now = Date.now();
    await insertDeployment(
      switchboard.store.db,
      chatDeployment({ github_deployment_id: "9006", created_at: now }),
    );
    const deployment = { id: 9006 };
    await sendDeployment(deployment);
    await sendStatus(deployment, "in_progress");
    await sendStatus(deployment, "success");

    const rows = await deployments();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      method: "github-deployment",
      state: "success",
      announced_state: "success",
    });
    const card = cards(DEFAULT_CHANNEL)[0]!;
    expect(cards(DEFAULT_CHANNEL)).toHaveLength(1);
    expect(field(card, "Requested by")).toBe(`<@${REQUESTER}>`);
    expect(field(card, "Approved by")).toBe(`<@${APPROVER}>`);
    expect(field(card, "Version")).toBe("1.4.0");
    // Mentions in a card never ping.
    expect(card.allowed_mentions).toEqual({ parse: [] });
  });

  it("matches each of two requests of the same commit to its own GitHub deployment by the payload's id", async () => {
    await start(environments(`  - { name: production, repo: ${REPO} }`));
    const first = await insertDeployment(switchboard.store.db, chatDeployment({ requested_by_name: "ada" }));
    const second = await insertDeployment(switchboard.store.db, chatDeployment({ requested_by_name: "bob" }));
    // GitHub's webhook for the second request arrives first, before either id was saved.
    await sendDeployment({ id: 9101, payload: { switchboard_deployment_id: second.id } });
    await sendDeployment({ id: 9100, payload: { switchboard_deployment_id: first.id } });
    await sendStatus({ id: 9101 }, "failure");

    const rows = await deployments();
    expect(rows).toHaveLength(2);
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(first.id)).toMatchObject({ github_deployment_id: "9100", state: "requested" });
    expect(byId.get(second.id)).toMatchObject({ github_deployment_id: "9101", state: "failure" });
  });

  it("matches a workflow dispatch to the deployment its workflow created", async () => {
    await start(
      environments(
        `  - { name: production, repo: ${REPO}, method: workflow-dispatch, workflow: deploy.yml }`,
      ),
    );
    await insertDeployment(
      switchboard.store.db,
      chatDeployment({ method: "workflow-dispatch", github_deployment_id: null, sha: SHA_B }),
    );
    const deployment = { id: 9007, sha: SHA_B };
    await sendDeployment(deployment);
    await sendStatus(deployment, "success");
    const rows = await deployments();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      method: "workflow-dispatch",
      github_deployment_id: "9007",
      state: "success",
    });
  });

  it("marks the previous success replaced when a newer deployment succeeds, once whatever GitHub also sends", async () => {
    await start(environments(`  - { name: production, repo: ${REPO} }`));
    const first = { id: 9010, sha: SHA_A };
    const second = { id: 9011, sha: SHA_B };
    await sendDeployment(first);
    await sendStatus(first, "success");
    await sendDeployment(second);
    await sendStatus(second, "success");
    const editsBefore = discord.edits.length;
    // GitHub marks the replaced deployment inactive itself too: nothing more to announce.
    await sendStatus(first, "inactive");
    expect(discord.edits).toHaveLength(editsBefore);

    const [newer, older] = await deployments();
    expect(newer).toMatchObject({ state: "success", previous_sha: SHA_A });
    expect(older).toMatchObject({ state: "inactive" });
    const olderCard = cards(DEFAULT_CHANNEL).find((card) =>
      card.embeds[0]!.footer!.text.startsWith(`Deployment #${older!.id} `),
    );
    expect(field(olderCard!, "State")).toContain("Replaced");
    expect(cards(DEFAULT_CHANNEL)).toHaveLength(2);
  });
});

describe("replaced deployments", () => {
  it("announces the replacement once when GitHub's inactive status comes before the newer success", async () => {
    await start(environments(`  - { name: production, repo: ${REPO} }`));
    const first = { id: 9012, sha: SHA_A };
    const second = { id: 9013, sha: SHA_B };
    await sendDeployment(first);
    await sendStatus(first, "success");
    await sendDeployment(second);
    await sendStatus(first, "inactive");
    await sendStatus(second, "success");

    const [newer, older] = await deployments();
    expect(newer).toMatchObject({ state: "success", previous_sha: SHA_A });
    expect(older).toMatchObject({ state: "inactive" });
    const olderCard = cards(DEFAULT_CHANNEL).find((card) =>
      card.embeds[0]!.footer!.text.startsWith(`Deployment #${older!.id} `),
    )!;
    expect(field(olderCard, "State")).toContain("Replaced");
    // Created, then success, then replaced: one edit each.
    expect(discord.edits.filter((edit) => edit.messageId === olderCard.id)).toHaveLength(2);
  });
});

describe("deployment cards when Discord fails", () => {
  it("posts the card once when Discord created it but its answer was lost", async () => {
    await start(environments(`  - { name: production, repo: ${REPO} }`));
    let dropped = false;
    discord.setFaults((request) => {
      if (
        dropped ||
        request.method !== "POST" ||
        !request.path.endsWith(`/channels/${DEFAULT_CHANNEL}/messages`)
      )
        return undefined;
      dropped = true;
      return { kind: "drop-after-commit" };
    });
    const deployment = { id: 9030 };
    await sendDeployment(deployment);
    await sendStatus(deployment, "success");
    expect(dropped).toBe(true);
    expect(discord.messages).toHaveLength(1);
    expect(field(discord.messages[0]!, "State")).toContain("Succeeded");
  });

  it("posts a fresh card when the old one was deleted, and edits that one afterwards", async () => {
    await start(environments(`  - { name: production, repo: ${REPO} }`));
    const deployment = { id: 9031 };
    await sendDeployment(deployment);
    const deleted = discord.messages[0]!;
    discord.setFaults((request) =>
      request.method === "PATCH" && request.path.includes(deleted.id)
        ? { kind: "error", status: 404, code: 10008, message: "Unknown Message" }
        : undefined,
    );
    await sendStatus(deployment, "in_progress");
    await sendStatus(deployment, "success");
    expect(cards(DEFAULT_CHANNEL)).toHaveLength(2);
    const fresh = cards(DEFAULT_CHANNEL)[1]!;
    expect(field(fresh, "State")).toContain("Succeeded");
    expect(discord.edits.filter((edit) => edit.messageId === fresh.id)).toHaveLength(1);
  });
});

describe("ship notices", () => {
  it("comments on and moves each Linear issue named in the shipped range, once", async () => {
    await start(environments(`  - { name: production, repo: ${REPO}, linear_state: Done }`), true);
    const first = linear!.addIssue({ teamKey: "ENG", title: "Login page", stateType: "started" });
    const second = linear!.addIssue({ teamKey: "ENG", title: "Crash on save", stateType: "started" });
    const untouched = linear!.addIssue({ teamKey: "ENG", title: "Shipped before", stateType: "started" });
    const [base] = github!.addCommits(REPO, "main", [
      { message: `feat: earlier work\n\nRefs ${untouched.identifier}` },
    ]);
    const shas = github!.addCommits(REPO, "main", [
      { message: `feat: login page (${first.identifier})` },
      { message: `fix: crash on save\n\nFixes ${second.identifier}, see also ${first.identifier}` },
      { message: "chore: ENG-99999 names no issue" },
    ]);
    const head = shas[shas.length - 1]!;

    const previous = { id: 9020, sha: base! };
    await sendDeployment(previous);
    await sendStatus(previous, "success");
    const current = { id: 9021, sha: head, ref: "main" };
    await sendDeployment(current);
    await sendStatus(current, "success", { logUrl: "https://ci.example.com/runs/7" });
    // The same success again owes nothing more.
    await sendStatus(current, "success");

    await switchboard.waitFor(async () => {
      const notices = await switchboard.store.db.selectFrom("ship_notices").select("status").execute();
      return notices.length === 2 && notices.every((notice) => notice.status === "done");
    });
    const commentsOn = (issueId: string) => linear!.comments.filter((comment) => comment.issueId === issueId);
    expect(commentsOn(first.id)).toHaveLength(1);
    expect(commentsOn(second.id)).toHaveLength(1);
    expect(commentsOn(untouched.id)).toHaveLength(0);
    expect(commentsOn(first.id)[0]!.body).toBe(
      "Shipped to **production** in main (https://ci.example.com/runs/7)",
    );
    expect(first.state.name).toBe("Done");
    expect(second.state.name).toBe("Done");
    expect(untouched.state.name).toBe("In Progress");
  });
});

describe("ship notices after a deployment in between", () => {
  it("tells only the issues shipped since what ran last, not those of a deployment that succeeded meanwhile", async () => {
    await start(environments(`  - { name: production, repo: ${REPO}, linear_state: Done }`), true);
    const earlier = linear!.addIssue({ teamKey: "ENG", title: "Shipped in between", stateType: "started" });
    const later = linear!.addIssue({ teamKey: "ENG", title: "Ships now", stateType: "started" });
    const [base, middle, head] = github!.addCommits(REPO, "main", [
      { message: "feat: the start" },
      { message: `feat: in between (${earlier.identifier})` },
      { message: `fix: now (${later.identifier})` },
    ]);
    const first = { id: 9030, sha: base! };
    await sendDeployment(first);
    await sendStatus(first, "success");
    // `middle` is on its way when a deployment of `head` is requested from chat, while `base` still runs.
    const between = { id: 9031, sha: middle! };
    await sendDeployment(between);
    await insertDeployment(
      switchboard.store.db,
      chatDeployment({
        github_deployment_id: "9032",
        sha: head!,
        previous_sha: base!,
        ref: "main",
        version: null,
      }),
    );
    await sendStatus(between, "success");
    const chat = { id: 9032, sha: head!, ref: "main" };
    await sendStatus(chat, "success");

    await switchboard.waitFor(async () => {
      const notices = await switchboard.store.db.selectFrom("ship_notices").select("status").execute();
      return notices.length === 3 && notices.every((notice) => notice.status === "done");
    });
    const commentsOn = (issueId: string) => linear!.comments.filter((comment) => comment.issueId === issueId);
    expect(commentsOn(earlier.id).map((comment) => comment.body)).toEqual([
      "Shipped to **production** in main",
    ]);
    expect(commentsOn(later.id).map((comment) => comment.body)).toEqual([
      "Shipped to **production** in main",
    ]);
  });
});

function chatDeployment(overrides: Partial<DeploymentRow>): Parameters<typeof insertDeployment>[1] {
  const now = Date.now();
  return newDeployment({
    repo: REPO,
    ref: "v1.4.0",
    sha: SHA_A,
    version: "1.4.0",
    state: "requested",
    requested_by: REQUESTER,
    requested_by_name: "ada",
    approved_by: JSON.stringify([APPROVER]),
    created_at: now,
    updated_at: now,
    ...overrides,
  });
}
