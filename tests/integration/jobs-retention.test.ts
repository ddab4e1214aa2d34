/**
 * The retention job and the /jobs command, as an admin meets them: a real Switchboard whose bot is logged in
 * to the fake Discord gateway, interactions delivered as INTERACTION_CREATE, answers read at the fake.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { listRecentAudit } from "../../src/store/audit-repository.js";
import { findJobState, listJobRuns } from "../../src/store/job-run-repository.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { autocomplete, createBotDriver } from "../support/discord-bot-driver.js";
import type { BotDriver } from "../support/discord-bot-driver.js";
import { TEST_DISCORD_TOKEN, startTestSwitchboard } from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const ADMIN_ROLE = "300000000000000030";
const DAY = 24 * 60 * 60 * 1000;

let discord: FakeDiscord;
let switchboard: TestSwitchboard;
let driver: BotDriver;

beforeAll(async () => {
  discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
  switchboard = await startTestSwitchboard({
    env: { DISCORD_TOKEN: TEST_DISCORD_TOKEN, DISCORD_API_URL: discord.url },
    config: `discord:\n  roles:\n    admin: ["${ADMIN_ROLE}"]\njobs:\n  - name: retention\n    options: { audit_days: 90 }\n`,
    // The bot role answers /jobs without running the pipeline workers, which would otherwise process the
    // pending rows this file seeds to prove that retention keeps pending work.
    role: "bot",
  });
  driver = createBotDriver(discord);
  await discord.gateway.waitForSession();
});

afterAll(async () => {
  await switchboard?.close();
  await discord?.close();
});

const admin = { roles: [ADMIN_ROLE] };

async function seed(): Promise<void> {
  const db = switchboard.store.db;
  const now = Date.now();
  await db.deleteFrom("inbox").execute();
  await db.deleteFrom("outbox").execute();
  await db.deleteFrom("audit_log").where("user_name", "=", "old").execute();
  await db.deleteFrom("job_runs").execute();
  await db.deleteFrom("pr_reminders").execute();
  await db.deleteFrom("release_previews").execute();
  await db.deleteFrom("tracked_items").execute();
  await db.deleteFrom("item_threads").execute();
  const preview = (id: string, age: number) => ({
    id,
    release_name: "acme/api",
    repo: "acme/api",
    branch: "main",
    version: "1.0.0",
    tag: "v1.0.0",
    target_sha: "a".repeat(40),
    base_tag: null,
    prerelease: 0,
    dry_run: 0,
    notes: "",
    linear_keys: "[]",
    created_by: "1",
    created_at: now - age,
    expires_at: now - age + 30 * 60_000,
    status: "pending",
  });
  await db
    .insertInto("release_previews")
    .values([preview("old-preview", 31 * DAY), preview("new-preview", DAY)])
    .execute();
  const run = (job: string, age: number) => ({
    job,
    trigger: "schedule" as const,
    started_at: now - age,
    finished_at: now - age,
    outcome: "ok" as const,
    items: 0,
    summary: "",
    error: null,
    dry_run: 0,
  });
  await db
    .insertInto("job_runs")
    .values([run("old-run", 31 * DAY), run("new-run", DAY)])
    .execute();
  await db
    .insertInto("pr_reminders")
    .values([
      { pr_key: "acme/api#1", channel_id: "300000000000000010", reminded_at: now - 31 * DAY },
      { pr_key: "acme/api#2", channel_id: "300000000000000010", reminded_at: now - DAY },
    ])
    .execute();
  const delivery = (id: string, status: "processed" | "pending", age: number) => ({
    source: "github" as const,
    delivery_id: id,
    event: "ping",
    received_at: now - age,
    status,
    event_name: null,
    detail: null,
    processed_at: null,
  });
  const stored = await db
    .insertInto("inbox")
    .values([
      delivery("old", "processed", 31 * DAY),
      delivery("stuck", "pending", 60 * DAY),
      delivery("new", "processed", DAY),
    ])
    .returning("id")
    .execute();
  await db
    .insertInto("inbox_bodies")
    .values(stored.map((row) => ({ inbox_id: row.id, body: "{}" })))
    .execute();
  const message = (status: "sent" | "dead" | "pending", age: number) => ({
    inbox_id: null,
    channel_id: "300000000000000010",
    route: "test",
    item_key: null,
    operation: "post" as const,
    payload: "{}",
    nonce: `n${status}${age}`,
    status,
    next_attempt_at: now - age,
    last_error: null,
    message_id: null,
    thread_id: null,
    reply_id: null,
    created_at: now - age,
    origin_at: now - age,
    sent_at: status === "sent" ? now - age : null,
  });
  await db
    .insertInto("outbox")
    .values([
      message("sent", 15 * DAY),
      message("sent", DAY),
      message("dead", 31 * DAY),
      message("dead", 2 * DAY),
      message("pending", 90 * DAY),
    ])
    .execute();
  await db
    .insertInto("audit_log")
    .values({
      at: now - 91 * DAY,
      user_id: "1",
      user_name: "old",
      action: "subscribe github",
      options: "{}",
      capability: "manage-subscriptions",
      outcome: "ok",
      detail: null,
      guild_id: null,
      channel_id: null,
    })
    .execute();
  // A PR with no event for 200 days and one from yesterday, each with its card; an old deployment card.
  await db
    .insertInto("tracked_items")
    .values([
      { item_key: "github:acme/api#1", snapshot: "{}", updated_at: now - 200 * DAY },
      { item_key: "github:acme/api#2", snapshot: "{}", updated_at: now - DAY },
    ])
    .execute();
  const card = (itemKey: string, age: number) => ({
    item_key: itemKey,
    channel_id: "300000000000000010",
    message_id: `m-${itemKey}`,
    thread_id: null,
    created_at: now - age,
  });
  await db
    .insertInto("item_threads")
    .values([
      card("github:acme/api#1", 200 * DAY),
      // Old, but its item had an event yesterday: its card is still edited.
      card("github:acme/api#2", 200 * DAY),
      card("deployment:1", 200 * DAY),
      card("deployment:2", DAY),
    ])
    .execute();
}

async function counts() {
  const db = switchboard.store.db;
  const inbox = await db.selectFrom("inbox").select("delivery_id").orderBy("delivery_id").execute();
  const bodies = await db.selectFrom("inbox_bodies").select("inbox_id").execute();
  const outbox = await db.selectFrom("outbox").select(["status", "created_at"]).execute();
  const oldAudit = await db.selectFrom("audit_log").select("id").where("user_name", "=", "old").execute();
  const runs = await db
    .selectFrom("job_runs")
    .select("job")
    .where("job", "like", "%-run")
    .orderBy("job")
    .execute();
  const reminders = await db.selectFrom("pr_reminders").select("pr_key").orderBy("pr_key").execute();
  const previews = await db.selectFrom("release_previews").select("id").orderBy("id").execute();
  const cards = await db.selectFrom("item_threads").select("item_key").orderBy("item_key").execute();
  return {
    inbox: inbox.map((row) => row.delivery_id),
    inboxBodies: bodies.length,
    outbox: outbox.length,
    oldAudit: oldAudit.length,
    jobRuns: runs.map((row) => row.job),
    reminders: reminders.map((row) => row.pr_key),
    previews: previews.map((row) => row.id),
    cards: cards.map((row) => row.item_key),
  };
}

describe("retention", () => {
  beforeEach(seed);

  it("reports in a dry run what it would prune and changes nothing", async () => {
    const answer = await driver.command("jobs", {
      ...admin,
      subcommand: "run",
      options: { name: "retention", "dry-run": true },
    });

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toContain(
      "Ran **retention** (dry run): Would delete 1 inbox deliveries, 1 sent messages, 1 dead letters, 1 audit entries, 1 job runs, 1 item cards",
    );
    expect(await counts()).toEqual({
      inbox: ["new", "old", "stuck"],
      inboxBodies: 3,
      outbox: 5,
      oldAudit: 1,
      jobRuns: ["new-run", "old-run"],
      reminders: ["acme/api#1", "acme/api#2"],
      previews: ["new-preview", "old-preview"],
      cards: ["deployment:1", "deployment:2", "github:acme/api#1", "github:acme/api#2"],
    });
    const [run] = await listJobRuns(switchboard.store.db, "retention", 1);
    expect(run).toMatchObject({ outcome: "ok", dry_run: 1, trigger: "manual", items: 6 });
  });

  it("prunes records past their configured ages, keeps pending work, and reclaims the space", async () => {
    const answer = await driver.command("jobs", {
      ...admin,
      subcommand: "run",
      options: { name: "retention" },
    });

    expect(answer.content).toContain(
      "Ran **retention**: Deleted 1 inbox deliveries, 1 sent messages, 1 dead letters, 1 audit entries, 1 job runs, 1 item cards",
    );
    expect(answer.content).toMatch(/ran (VACUUM|incremental_vacuum)/);
    // The stuck pending delivery and the pending message are never pruned, however old.
    expect(await counts()).toEqual({
      inbox: ["new", "stuck"],
      // A pruned delivery's body goes with it.
      inboxBodies: 2,
      outbox: 3,
      oldAudit: 0,
      jobRuns: ["new-run"],
      reminders: ["acme/api#2"],
      previews: ["new-preview"],
      cards: ["deployment:2", "github:acme/api#2"],
    });
    // The database now gives freed pages back incrementally (auto_vacuum = 2).
    expect(Number(switchboard.store.sqlite!.pragma("auto_vacuum", { simple: true }))).toBe(2);
  });
});

describe("/jobs", () => {
  it("lists each job with its schedule, next run and last outcome", async () => {
    await driver.command("jobs", {
      ...admin,
      subcommand: "run",
      options: { name: "retention", "dry-run": true },
    });
    const answer = await driver.command("jobs", { ...admin, subcommand: "list" });

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(
      /^\*\*retention\*\* `30 3 \* \* \*` · next <t:\d+:R> · last ok \(dry run\) <t:\d+:R>: Would delete/,
    );
  });

  it("pauses and resumes a job, keeping the state in the store", async () => {
    const paused = await driver.command("jobs", {
      ...admin,
      subcommand: "pause",
      options: { name: "retention" },
    });
    expect(paused.content).toContain("Paused **retention**");
    expect(await findJobState(switchboard.store.db, "retention")).toMatchObject({
      paused: 1,
      paused_by: "ada",
    });
    const listed = await driver.command("jobs", { ...admin, subcommand: "list" });
    expect(listed.content).toContain("paused by ada");

    const resumed = await driver.command("jobs", {
      ...admin,
      subcommand: "resume",
      options: { name: "retention" },
    });
    expect(resumed.content).toContain("Resumed **retention**");
    expect(await findJobState(switchboard.store.db, "retention")).toMatchObject({
      paused: 0,
      paused_by: null,
    });
  });

  it("denies members without the admin role, naming the role, and audits the denial", async () => {
    const answer = await driver.command("jobs", {
      roles: [],
      subcommand: "run",
      options: { name: "retention" },
    });

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe(`This needs the \`admin\` capability: ask for the <@&${ADMIN_ROLE}> role.`);
    const [entry] = await listRecentAudit(switchboard.store.db, 1);
    expect(entry).toMatchObject({ action: "jobs run", outcome: "denied", capability: "admin" });
  });

  it("refuses an unknown job name, listing the known ones", async () => {
    const answer = await driver.command("jobs", {
      ...admin,
      subcommand: "run",
      options: { name: "retension" },
    });

    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe(
      'There is no job named "retension": choose one of `retention`, `stale-prs`, `digest`, ' +
        "`linear-github-sync`, `linear-reconcile`, `github-redelivery`.",
    );
    const [entry] = await listRecentAudit(switchboard.store.db, 1);
    expect(entry).toMatchObject({ action: "jobs run", outcome: "refused" });
  });

  it("offers job names as the user types", async () => {
    const answer = await driver.invoke(
      autocomplete("jobs", { ...admin, subcommand: "run", options: { name: "linear" }, focused: "name" }),
    );
    expect(answer.data.choices).toEqual([
      { name: "linear-github-sync", value: "linear-github-sync" },
      { name: "linear-reconcile", value: "linear-reconcile" },
    ]);
  });
});
