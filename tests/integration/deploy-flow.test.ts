/**
 * /deploy and /rollback as members meet them: a real Switchboard whose bot is logged in to the fake Discord
 * gateway, the real Octokit client against the fake GitHub (tags, compare, deployments, workflow
 * dispatch), and signed `deployment_status` webhooks through the real receiver for what the deploying CI
 * reports back. Answers, cards and edits are read at the fake Discord; GitHub writes at the fake GitHub.
 */
import type { APIInteraction } from "discord-api-types/v10";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import { insertDeployment, listDeployments } from "../../src/store/deployment-repository.js";
import type { DeploymentRow, NewDeployment } from "../../src/store/deployment-repository.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type {
  FakeDiscord,
  FakeEmbed,
  FakeInteractionResponse,
  FakeMessage,
} from "../fakes/discord-server.js";
import { FAKE_GITHUB_TOKEN, startFakeGitHub } from "../fakes/github-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";
import { autocomplete, button, createBotDriver } from "../support/discord-bot-driver.js";
import type { BotDriver, InvocationResult, OptionInput } from "../support/discord-bot-driver.js";
import { newDeployment } from "../support/deployment-rows.js";
import { deploymentStatusDelivery } from "../support/deployment-webhooks.js";
import {
  TEST_DISCORD_TOKEN,
  TEST_GITHUB_SECRET,
  startTestSwitchboard,
} from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

/** The repository of the webhook fixtures, so status deliveries need no rewriting. */
const REPO = "Codertocat/Hello-World";
const DEFAULT_CHANNEL = "111111111111111111";
const PRODUCTION_CHANNEL = "222222222222222222";

const DEPLOYERS = "400000000000000001";
const SENIORS = "400000000000000002";
const APPROVERS = "400000000000000003";
const ADMINS = "400000000000000004";

type Member = { user: { id: string; username: string }; roles: string[] };
/** Deploys anywhere and may approve others' deployments. */
const ada: Member = {
  user: { id: "500000000000000001", username: "ada" },
  roles: [DEPLOYERS, SENIORS, APPROVERS],
};
const bob: Member = { user: { id: "500000000000000002", username: "bob" }, roles: [APPROVERS] };
/** Deploys to environments without approval only. */
const carl: Member = { user: { id: "500000000000000003", username: "carl" }, roles: [DEPLOYERS] };
const eve: Member = { user: { id: "500000000000000004", username: "eve" }, roles: [] };
const root: Member = { user: { id: "500000000000000005", username: "root" }, roles: [ADMINS] };

const CONFIG = `
discord:
  roles:
    deploy: ["${DEPLOYERS}"]
    deploy-production: ["${SENIORS}"]
    approve: ["${APPROVERS}"]
    admin: ["${ADMINS}"]
releases:
  - repo: ${REPO}
environments:
  - { name: production, repo: ${REPO}, channel: "${PRODUCTION_CHANNEL}" }
  - { name: staging, repo: ${REPO} }
  - name: preview
    repo: ${REPO}
    method: workflow-dispatch
    workflow: deploy.yml
    inputs: { version: "{version}", commit: "{sha}", target: "{environment}", requested: "{ref}" }
  - { name: legacy, repo: ${REPO} }
  - { name: legacy-eu, repo: ${REPO}, approvals: 1 }
  - { name: critical, repo: ${REPO}, approvals: 2 }
freezes:
  - { name: sunset, environments: [legacy, legacy-eu], reason: "legacy is being retired", from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z" }
`;

let discord: FakeDiscord;
let github: FakeGitHub;
let switchboard: TestSwitchboard;
let driver: BotDriver;
/** Commit shas on main, oldest first: v1.0.0 at [0], v1.1.0 at [2], main's head at [3]. */
let shas: string[];

beforeEach(async () => {
  discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
  github = await startFakeGitHub();
  shas = github.addCommits(REPO, "main", [
    { message: "feat: first light", author: "ada" },
    { message: "fix: the flux capacitor leaks\n\nCloses ENG-7", author: "grace" },
    { message: "feat: time travel (#12)", author: "linus" },
    { message: "chore: tidy up", author: "ada" },
  ]);
  github.tag(REPO, "v1.0.0", shas[0]);
  github.tag(REPO, "v1.1.0", shas[2]);
  switchboard = await startTestSwitchboard({
    env: {
      DISCORD_TOKEN: TEST_DISCORD_TOKEN,
      DISCORD_API_URL: discord.url,
      DISCORD_DEFAULT_CHANNEL_ID: DEFAULT_CHANNEL,
      GITHUB_TOKEN: FAKE_GITHUB_TOKEN,
      GITHUB_API_URL: github.url,
    },
    config: CONFIG,
  });
  driver = createBotDriver(discord);
  await discord.gateway.waitForSession();
});

afterEach(async () => {
  await switchboard?.close();
  await discord?.close();
  await github?.close();
});

function deploy(
  member: Member,
  subcommand: string,
  options: Record<string, OptionInput> = {},
  followUps = 0,
): Promise<InvocationResult> {
  return driver.command("deploy", { ...member, subcommand, options, followUps });
}

/** `/deploy to` where an approval card follows the answer. */
async function requestApproval(member: Member, options: Record<string, OptionInput>) {
  const answer = await deploy(member, "to", options, 1);
  expect(answer.ephemeral).toBe(true);
  const card = answer.followUps[0]!;
  expect(card.ephemeral).toBe(false);
  return { answer, card };
}

/** Presses a button on the approval card, as Discord sends it: with the card's message. */
function press(card: FakeInteractionResponse, action: "approve" | "reject", member: Member, followUps = 0) {
  const customId = `deploy:${action}:${deploymentIdOf(card)}`;
  const interaction = button(customId, member) as APIInteraction & { message: Record<string, unknown> };
  interaction.message = { ...interaction.message, id: card.messageId ?? "", ...card.data };
  return driver.invoke(interaction, { followUps });
}

function deploymentIdOf(card: FakeInteractionResponse): number {
  return Number(/Deployment #(\d+)/.exec(embedOf(card.data).footer?.text ?? "")?.[1]);
}

function embedOf(data: Record<string, unknown>): FakeEmbed {
  return (data.embeds as FakeEmbed[])[0]!;
}

function field(embed: FakeEmbed, name: string): string | undefined {
  return embed.fields?.find((candidate) => candidate.name === name)?.value;
}

function customIds(data: Record<string, unknown>): string[] {
  const rows = (data.components ?? []) as Array<{ components: Array<{ custom_id: string }> }>;
  return rows.flatMap((row) => row.components.map((component) => component.custom_id));
}

const deployments = () => listDeployments(switchboard.store.db, { limit: 50 });

async function audit(action: string) {
  return switchboard.store.db
    .selectFrom("audit_log")
    .selectAll()
    .where("action", "=", action)
    .orderBy("id")
    .execute();
}

/** A deployment that ran before the test, straight into the store. */
async function seedDeployment(row: Partial<NewDeployment> & { sha: string }): Promise<DeploymentRow> {
  const at = Date.now() - 3_600_000;
  return insertDeployment(
    switchboard.store.db,
    newDeployment({
      repo: REPO,
      ref: row.sha,
      version: null,
      requested_by: carl.user.id,
      requested_by_name: carl.user.username,
      created_at: at,
      updated_at: at,
      started_at: at,
      finished_at: at + 125_000,
      ...row,
    }),
  );
}

/** What the deploying CI reports back: a signed `deployment_status` webhook for GitHub deployment `id`. */
async function reportStatus(
  deployment: { id: number; sha: string; ref: string; environment: string },
  state: string,
) {
  const { event, payload } = deploymentStatusDelivery(deployment, state);
  const response = await switchboard.post(
    await signGitHubDelivery({ secret: TEST_GITHUB_SECRET, event, payload }),
  );
  expect(response.status).toBe(202);
}

async function cardIn(channel: string, deploymentId: number): Promise<FakeMessage> {
  let card: FakeMessage | undefined;
  await switchboard.waitFor(() => {
    card = discord.messages.find(
      (message) =>
        message.channelId === channel &&
        message.embeds[0]?.footer?.text.startsWith(`Deployment #${deploymentId} `),
    );
    return card !== undefined;
  });
  return card!;
}

describe("/deploy to an environment that needs approval", () => {
  it("posts an approval card with the commits to ship; a second person approves and GitHub gets the deployment; statuses move its card to success", async () => {
    await seedDeployment({ sha: shas[0]!, ref: "v1.0.0", version: "1.0.0" });

    const { answer, card } = await requestApproval(ada, { env: "production" });

    expect(answer.content).toContain("needs an approval");
    const embed = embedOf(card.data);
    expect(embed.title).toBe("Approve deploying 1.1.0 to production?");
    expect(embed.description).toContain("Runs there now: **1.0.0**");
    expect(embed.description).toContain("2 commits to ship");
    expect(embed.description).toContain("feat: time travel \\(#12\\) · linus");
    expect(embed.description).toContain("fix: the flux capacitor leaks · grace");
    expect(embed.description).not.toContain("tidy up");
    expect(field(embed, "Requested by")).toBe(`<@${ada.user.id}>`);
    expect(field(embed, "Approvals")).toBe("0 of 1");
    expect(card.data.allowed_mentions).toEqual({ parse: [] });
    const id = deploymentIdOf(card);
    expect(customIds(card.data)).toEqual([`deploy:approve:${id}`, `deploy:reject:${id}`]);
    expect(github.deployments(REPO)).toHaveLength(0);

    const approval = await press(card, "approve", bob);

    expect(approval.initial.type).toBe(7);
    expect(embedOf(approval.data).title).toBe("Approved: deploying 1.1.0 to production");
    expect(field(embedOf(approval.data), "Approvals")).toBe(`1 of 1: <@${bob.user.id}>`);
    expect(customIds(approval.data)).toEqual([]);
    const [created] = github.deployments(REPO);
    expect(created).toMatchObject({
      ref: "v1.1.0",
      sha: shas[2],
      environment: "production",
      productionEnvironment: true,
      payload: {
        requested_by: { id: ada.user.id, name: "ada" },
        approved_by: [{ id: bob.user.id, name: "bob" }],
        switchboard_deployment_id: id,
      },
    });
    const [row] = await deployments();
    expect(row).toMatchObject({
      id,
      state: "requested",
      github_deployment_id: String(created!.id),
      approved_by: JSON.stringify([bob.user.id]),
      previous_sha: shas[0],
    });

    const cardState = async () => field((await cardIn(PRODUCTION_CHANNEL, id)).embeds[0]!, "State");
    expect(await cardState()).toContain("Requested");
    const reported = { id: created!.id, sha: shas[2]!, ref: "v1.1.0", environment: "production" };
    await reportStatus(reported, "in_progress");
    await reportStatus(reported, "success");
    await switchboard.waitFor(async () => (await cardState())?.includes("Succeeded") ?? false);
    expect((await deployments())[0]).toMatchObject({ id, state: "success" });
    expect(await audit("deploy approve")).toEqual([
      expect.objectContaining({
        user_id: bob.user.id,
        outcome: "ok",
        options: `{"custom_id":"deploy:approve:${id}"}`,
      }),
    ]);
  });

  it("refuses the requester's own approval or rejection, and changes nothing", async () => {
    const { card } = await requestApproval(ada, { env: "production", ref: "v1.1.0" });

    const approval = await press(card, "approve", ada);
    expect(approval.ephemeral).toBe(true);
    expect(approval.content).toBe("You requested this deployment: another person has to approve it.");
    const rejection = await press(card, "reject", ada);
    expect(rejection.content).toContain("another person has to approve or reject it");

    expect(github.deployments()).toHaveLength(0);
    expect(await deployments()).toEqual([
      expect.objectContaining({ state: "awaiting_approval", approved_by: "[]", github_deployment_id: null }),
    ]);
  });

  it("refuses an approver without the approve capability before the button does anything", async () => {
    const { card } = await requestApproval(ada, { env: "production" });
    const approval = await press(card, "approve", carl);
    expect(approval.content).toContain("`approve` capability");
    expect(github.deployments()).toHaveLength(0);
    expect((await deployments())[0]!.state).toBe("awaiting_approval");
  });

  it("settles the card and records the error when GitHub refuses the approved deployment", async () => {
    github.addStatus(REPO, shas[2]!, { context: "ci/build", state: "failure" });
    const { card } = await requestApproval(ada, { env: "production" });

    // The card is settled, then the approver is told why.
    const approval = await press(card, "approve", bob, 1);

    expect(approval.followUps[0]!.content).toContain("Commit status checks failed");
    expect(github.deployments()).toHaveLength(0);
    const [row] = await deployments();
    expect(row).toMatchObject({ state: "error", github_deployment_id: null });
    expect(row!.status_description).toContain("GitHub refused it");
    expect(customIds(approval.data)).toEqual([]);
    const settledCard = embedOf(approval.data);
    expect(settledCard.title).toBe("Approved, but GitHub refused to deploy 1.1.0 to production");
    expect(field(settledCard, "State")).toContain("Commit status checks failed");
    const again = await press(card, "approve", root, 1);
    expect(again.followUps.map((answer) => answer.content)).toEqual([
      "This deployment is no longer awaiting approval (it is error).",
    ]);
  });

  it("edits the card in place when another person rejects, and deploys nothing", async () => {
    const { card } = await requestApproval(ada, { env: "production" });
    const rejection = await press(card, "reject", bob);

    expect(rejection.initial.type).toBe(7);
    expect(embedOf(rejection.data).title).toBe("Rejected: 1.1.0 to production");
    expect(field(embedOf(rejection.data), "State")).toContain("Rejected by bob");
    expect(customIds(rejection.data)).toEqual([]);
    // The commit list stays on the card.
    expect(embedOf(rejection.data).description).toBe(embedOf(card.data).description);
    expect(github.deployments()).toHaveLength(0);
    expect((await deployments())[0]!.state).toBe("rejected");

    const late = await press(card, "approve", bob);
    expect(late.content).toContain("no longer awaiting approval (it is rejected)");
    expect(github.deployments()).toHaveLength(0);
  });
});

describe("approvals beyond the first", () => {
  it("keeps the buttons until enough other people approved, then names them all in the payload", async () => {
    const { answer, card } = await requestApproval(ada, { env: "critical" });
    expect(answer.content).toContain("needs 2 approvals");

    const first = await press(card, "approve", bob);
    expect(field(embedOf(first.data), "Approvals")).toBe(`1 of 2: <@${bob.user.id}>`);
    expect(customIds(first.data)).toHaveLength(2);
    expect(github.deployments()).toHaveLength(0);
    const again = await press(card, "approve", bob);
    expect(again.content).toContain("You already approved this deployment");

    const second = await press(card, "approve", root);
    expect(embedOf(second.data).title).toBe("Approved: deploying 1.1.0 to critical");
    expect(github.deployments(REPO)[0]!.payload).toMatchObject({
      approved_by: [
        { id: bob.user.id, name: "bob" },
        { id: root.user.id, name: "root" },
      ],
    });
  });

  it("of approvals, a double click and a rejection pressed at once, exactly one counts", async () => {
    const { card } = await requestApproval(ada, { env: "production" });

    const answers = await Promise.all([
      press(card, "approve", bob),
      press(card, "approve", bob),
      press(card, "approve", root),
      press(card, "reject", root),
    ]);

    const settledBy = answers.filter((answer) => answer.initial.type === 7);
    expect(settledBy).toHaveLength(1);
    for (const refused of answers.filter((answer) => answer.initial.type !== 7)) {
      expect(refused.ephemeral).toBe(true);
      expect(refused.content).toMatch(/no longer awaiting approval|at the same moment|already approved/);
    }
    const [row] = await deployments();
    expect(row!.state === "rejected" ? 0 : 1).toBe(github.deployments().length);
    expect(JSON.parse(row!.approved_by)).toHaveLength(row!.state === "rejected" ? 0 : 1);
  });

  it("does not deploy when the environment was locked while the request waited", async () => {
    const { card } = await requestApproval(ada, { env: "production" });
    await deploy(carl, "lock", { env: "production", reason: "incident in progress" });

    const approval = await press(card, "approve", bob);

    expect(approval.content).toContain("Not deployed: production is locked by carl");
    expect(github.deployments()).toHaveLength(0);
    expect((await deployments())[0]).toMatchObject({ state: "awaiting_approval", approved_by: "[]" });
  });
});

describe("/deploy to an environment without approval", () => {
  it("creates the GitHub deployment at once, pinned to the commit when the ref is not a release", async () => {
    const answer = await deploy(carl, "to", { env: "staging", ref: shas[3]!.slice(0, 7) });

    expect(answer.content).toMatch(/^Deployment #\d+ of [0-9a-f]{7} to staging sent to GitHub/);
    expect(answer.content).toContain(`<#${DEFAULT_CHANNEL}>`);
    const [created] = github.deployments(REPO);
    expect(created).toMatchObject({
      ref: shas[3],
      environment: "staging",
      productionEnvironment: false,
      payload: { requested_by: { id: carl.user.id, name: "carl" }, approved_by: [] },
    });
    const [row] = await deployments();
    await cardIn(DEFAULT_CHANNEL, row!.id);
  });

  it("dispatches the configured workflow with its inputs filled in", async () => {
    const answer = await deploy(carl, "to", { env: "preview", ref: "1.1.0" });

    expect(answer.content).toContain("workflow-dispatch");
    expect(github.dispatches(REPO)).toEqual([
      expect.objectContaining({
        workflow: "deploy.yml",
        ref: "main",
        inputs: { version: "1.1.0", commit: shas[2], target: "preview", requested: "v1.1.0" },
      }),
    ]);
    expect(github.deployments()).toHaveLength(0);
    expect((await deployments())[0]).toMatchObject({
      method: "workflow-dispatch",
      state: "requested",
      ref: "v1.1.0",
      version: "1.1.0",
      github_deployment_id: null,
    });
  });

  it("keeps one row and one card when GitHub's status webhook is handled before the deployment's id is saved", async () => {
    const reported = { id: 4242, sha: shas[3]!, ref: shas[3]!, environment: "staging" };
    // GitHub answers the create only after its in_progress status was delivered and handled.
    github.route("POST", "/repos/:owner/:repo/deployments", async () => {
      await reportStatus(reported, "in_progress");
      await switchboard.waitFor(async () => (await deployments())[0]?.state === "in_progress");
      return { status: 201, body: { id: reported.id, sha: reported.sha, url: "" } };
    });

    const answer = await deploy(carl, "to", { env: "staging", ref: shas[3]! });
    expect(answer.content).toContain("sent to GitHub");

    const rows = await deployments();
    expect(rows).toEqual([
      expect.objectContaining({
        github_deployment_id: "4242",
        state: "in_progress",
        method: "github-deployment",
      }),
    ]);
    const card = await cardIn(DEFAULT_CHANNEL, rows[0]!.id);
    await reportStatus(reported, "success");
    await switchboard.waitFor(
      async () =>
        field((await cardIn(DEFAULT_CHANNEL, rows[0]!.id)).embeds[0]!, "State")?.includes("Succeeded") ??
        false,
    );
    expect(await deployments()).toEqual([expect.objectContaining({ id: rows[0]!.id, state: "success" })]);
    // Edited in place, never set back to "Requested", and no second card for a deployment "started outside chat".
    const cards = discord.messages.filter((message) =>
      message.embeds[0]?.footer?.text.startsWith("Deployment #"),
    );
    expect(cards.map((message) => message.id)).toEqual([card.id]);
    const states = discord.edits
      .filter((edit) => edit.messageId === card.id)
      .map((edit) => field((edit.body.embeds as FakeEmbed[])[0]!, "State") ?? "");
    expect(states.length).toBeGreaterThan(0);
    expect(states.filter((state) => state.includes("Requested"))).toEqual([]);
  });

  it("does not mark a deployment errored when GitHub's answer fails after its webhooks said it is running", async () => {
    const reported = { id: 4243, sha: shas[3]!, ref: shas[3]!, environment: "staging" };
    github.route("POST", "/repos/:owner/:repo/deployments", async () => {
      await reportStatus(reported, "in_progress");
      await switchboard.waitFor(async () => (await deployments())[0]?.state === "in_progress");
      return { status: 422, body: { message: "Validation Failed" } };
    });

    const answer = await deploy(carl, "to", { env: "staging", ref: shas[3]! });

    expect(answer.content).toContain("GitHub refused");
    expect(await deployments()).toEqual([
      expect.objectContaining({ github_deployment_id: "4243", state: "in_progress" }),
    ]);
  });

  it("says when the ref does not exist, and records nothing", async () => {
    const answer = await deploy(carl, "to", { env: "staging", ref: "v9.9.9" });
    expect(answer.content).toContain("has no tag, branch or commit `v9.9.9`");
    expect(await deployments()).toEqual([]);
  });
});

describe("who may deploy", () => {
  it("refuses a member without deploy, and one without deploy-production for production, changing nothing", async () => {
    const stranger = await deploy(eve, "to", { env: "staging" });
    expect(stranger.ephemeral).toBe(true);
    expect(stranger.content).toContain("`deploy` capability");

    const junior = await deploy(carl, "to", { env: "production" });
    expect(junior.content).toContain("`deploy-production` capability");

    expect(await deployments()).toEqual([]);
    expect(github.deployments()).toHaveLength(0);
    expect(
      (await audit("deploy to")).map((entry) => [entry.user_name, entry.outcome, entry.capability]),
    ).toEqual([
      ["eve", "denied", "deploy"],
      ["carl", "denied", "deploy-production"],
    ]);
  });
});

describe("/deploy lock and unlock", () => {
  it("refuses others' deployments while locked, naming the holder and reason, and lets the holder deploy", async () => {
    const locked = await deploy(carl, "lock", { env: "staging", reason: "migrating the database" });
    expect(locked.ephemeral).toBe(false);
    expect(locked.content).toContain("locked **staging**: migrating the database");

    const refused = await deploy(ada, "to", { env: "staging" });
    expect(refused.content).toContain("staging is locked by carl");
    expect(refused.content).toContain("migrating the database");
    expect(await deployments()).toEqual([]);

    const stolen = await deploy(ada, "lock", { env: "staging", reason: "mine now" });
    expect(stolen.content).toContain("already locked by carl");
    const notTheirs = await deploy(ada, "unlock", { env: "staging" });
    expect(notTheirs.content).toContain("Only they or an admin may unlock it");

    await deploy(carl, "to", { env: "staging" });
    expect(github.deployments(REPO)).toHaveLength(1);

    const unlocked = await deploy(root, "unlock", { env: "staging" });
    expect(unlocked.content).toContain("unlocked **staging** (locked by");
    const after = await deploy(ada, "to", { env: "staging" });
    expect(after.content).toContain("sent to GitHub");
    expect((await audit("deploy lock")).map((entry) => entry.outcome)).toEqual(["ok", "refused"]);
    expect((await audit("deploy unlock")).map((entry) => [entry.user_name, entry.outcome])).toEqual([
      ["ada", "refused"],
      ["root", "ok"],
    ]);
  });
});

describe("freezes", () => {
  it("refuses a deployment during a freeze, and an override by anyone but an admin", async () => {
    const frozen = await deploy(carl, "to", { env: "legacy" });
    expect(frozen.content).toContain("legacy is frozen: sunset: legacy is being retired");

    const notAdmin = await deploy(carl, "to", { env: "legacy", "override-reason": "please" });
    expect(notAdmin.content).toContain("Only an admin may override a freeze");
    expect(await deployments()).toEqual([]);
    expect(github.deployments()).toHaveLength(0);
  });

  it("lets an admin override with a reason, which is audited and travels with the deployment", async () => {
    const answer = await deploy(root, "to", { env: "legacy", "override-reason": "security fix for CVE-1" });

    expect(answer.content).toContain("sent to GitHub");
    expect(answer.content).toContain('Audited: freeze "sunset" overridden: security fix for CVE-1');
    const [created] = github.deployments(REPO);
    expect(created!.payload).toMatchObject({ reason: 'freeze "sunset" overridden: security fix for CVE-1' });
    expect(await audit("deploy freeze-override")).toEqual([
      expect.objectContaining({
        user_id: root.user.id,
        capability: "admin",
        detail: 'freeze "sunset" overridden: security fix for CVE-1',
      }),
    ]);
  });

  it("deploys an admin's override through the freeze once another person approves it", async () => {
    const { card } = await requestApproval(root, { env: "legacy-eu", "override-reason": "security fix" });

    const approval = await press(card, "approve", bob);

    expect(approval.content).not.toContain("Not deployed");
    const [created] = github.deployments(REPO);
    expect(created!.payload).toMatchObject({
      reason: 'freeze "sunset" overridden: security fix',
      approved_by: [{ id: bob.user.id, name: "bob" }],
    });
    expect((await deployments())[0]).toMatchObject({ state: "requested" });
  });
});

describe("/rollback", () => {
  it("asks to redeploy the last successful version before the current one, through the same approval", async () => {
    await seedDeployment({ sha: shas[0]!, ref: "v1.0.0", version: "1.0.0", state: "inactive" });
    // A failed attempt is no rollback target, nor one GitHub retired before it finished, nor another repository's.
    await seedDeployment({ sha: shas[1]!, state: "failure" });
    await seedDeployment({ sha: shas[1]!, state: "inactive", finished_at: null });
    await seedDeployment({ repo: "acme/other", sha: "f".repeat(40), state: "inactive" });
    await seedDeployment({ sha: shas[2]!, ref: "v1.1.0", version: "1.1.0" });

    const answer = await driver.command("rollback", { ...ada, options: { env: "production" }, followUps: 1 });

    const card = answer.followUps[0]!;
    const embed = embedOf(card.data);
    expect(embed.title).toBe("Approve deploying 1.0.0 to production?");
    expect(field(embed, "Reason")).toBe("rollback to v1.0.0");
    expect(embed.description).toContain("Runs there now: **1.1.0**");
    expect(embed.description).toContain("2 commits to take out (rollback)");

    await press(card, "approve", bob);
    expect(github.deployments(REPO)).toEqual([
      expect.objectContaining({
        ref: "v1.0.0",
        payload: expect.objectContaining({ reason: "rollback to v1.0.0" }),
      }),
    ]);
  });

  it("says when there is nothing to roll back to", async () => {
    await seedDeployment({ sha: shas[2]!, ref: "v1.1.0", version: "1.1.0" });
    const answer = await driver.command("rollback", { ...ada, options: { env: "production" } });
    expect(answer.content).toContain("no earlier successful version to roll back to");
    expect(github.deployments()).toHaveLength(0);
  });
});

describe("/deploy status and history", () => {
  it("shows each environment's version, commit, who deployed it, when, state and duration, with locks and freezes", async () => {
    await seedDeployment({ sha: shas[0]!, ref: "v1.0.0", version: "1.0.0", state: "inactive" });
    await seedDeployment({ sha: shas[2]!, ref: "v1.1.0", version: "1.1.0" });
    await seedDeployment({
      environment: "staging",
      sha: shas[3]!,
      state: "failure",
      requested_by: ada.user.id,
    });
    await deploy(carl, "lock", { env: "staging", reason: "investigating" });

    const board = await deploy(eve, "status");

    expect(board.ephemeral).toBe(false);
    const embed = embedOf(board.data);
    const production = field(embed, "production (production)")!;
    expect(production).toContain("✅ Succeeded · **1.1.0** `" + shas[2]!.slice(0, 7) + "`");
    expect(production).toContain(`by <@${carl.user.id}>`);
    expect(production).toContain("took 2 min 5 s");
    const staging = field(embed, "staging 🔒")!;
    expect(staging).toContain("❌ Failed");
    expect(staging).toContain(`🔒 Locked by <@${carl.user.id}>`);
    expect(field(embed, "legacy ❄️")).toContain("Frozen: sunset: legacy is being retired");
    expect(field(embed, "preview")).toContain("Nothing deployed through Switchboard yet");

    const history = await deploy(eve, "history", { env: "production" });
    const lines = embedOf(history.data).description!.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain("Succeeded · **1.1.0**");
    expect(lines[1]).toContain("Replaced by a newer deployment · **1.0.0**");
  });
});

describe("autocomplete", () => {
  it("suggests configured environments, and for the ref the release tags (newest first) and recent commits", async () => {
    const environments = await driver.invoke(
      autocomplete("deploy", { ...ada, subcommand: "to", options: { env: "st" }, focused: "env" }),
    );
    expect(environments.data.choices).toEqual([{ name: `staging (${REPO})`, value: "staging" }]);

    const refs = await driver.invoke(
      autocomplete("deploy", {
        ...ada,
        subcommand: "to",
        options: { env: "production", ref: "" },
        focused: "ref",
      }),
    );
    const choices = refs.data.choices as Array<{ name: string; value: string }>;
    expect(choices.slice(0, 2)).toEqual([
      { name: "v1.1.0 (release)", value: "v1.1.0" },
      { name: "v1.0.0 (release)", value: "v1.0.0" },
    ]);
    expect(choices).toContainEqual({ name: `${shas[3]!.slice(0, 7)} chore: tidy up`, value: shas[3] });
  });
});
