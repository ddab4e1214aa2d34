/**
 * The linear-reconcile job against the fake Linear and the fake Discord: an issue update whose webhook never
 * arrived becomes one notification saying it was reconciled; updates the webhook did deliver are left alone.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RECONCILED_ACTOR } from "../../src/jobs/linear-reconcile.js";
import { loadLinearFixture } from "../../src/sources/linear/fixtures.js";
import { signLinearDelivery } from "../../src/sources/signed-delivery.js";
import { findJobState, saveJobState } from "../../src/store/job-run-repository.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { startFakeLinear } from "../fakes/linear-server.js";
import type { FakeIssue, FakeLinear } from "../fakes/linear-server.js";
import {
  TEST_DISCORD_TOKEN,
  TEST_LINEAR_SECRET,
  startTestSwitchboard,
} from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const CHANNEL = "300000000000000050";

let discord: FakeDiscord;
let linear: FakeLinear;
let switchboard: TestSwitchboard;

/** Switchboard against the fakes, with the job's options as YAML flow mapping entries. */
function startWithReconcile(options: string): Promise<TestSwitchboard> {
  return startTestSwitchboard({
    env: {
      DISCORD_TOKEN: TEST_DISCORD_TOKEN,
      DISCORD_API_URL: discord.url,
      DISCORD_DEFAULT_CHANNEL_ID: CHANNEL,
      LINEAR_API_KEY: linear.apiKey,
      LINEAR_API_URL: linear.url,
    },
    config: `jobs:\n  - name: linear-reconcile\n    options: { ${options} }\n`,
  });
}

/** What Linear would have sent for this issue's latest update, as a signed delivery. */
function webhookFor(issue: FakeIssue) {
  const fixture = loadLinearFixture("Issue.update.state");
  const payload = fixture.payload as { createdAt: string; data: Record<string, unknown> };
  return signLinearDelivery({
    secret: TEST_LINEAR_SECRET,
    payload: {
      ...payload,
      createdAt: issue.updatedAt,
      data: {
        ...payload.data,
        id: issue.id,
        identifier: issue.identifier,
        title: issue.title,
        updatedAt: issue.updatedAt,
      },
    },
  });
}

const allPosts = () => discord.messages.map((message) => JSON.stringify(message));
const reconciledPosts = (issue: FakeIssue) =>
  allPosts().filter((text) => text.includes(issue.identifier) && text.includes(RECONCILED_ACTOR));
/** Messages in the channel itself (item cards), not in threads. */
const postedText = () =>
  discord.messages
    .filter((message) => message.channelId === CHANNEL)
    .map((message) => JSON.stringify(message));

describe("linear-reconcile", () => {
  beforeEach(async () => {
    discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
    linear = await startFakeLinear();
    switchboard = await startWithReconcile("grace_minutes: 0");
    await discord.gateway.waitForSession();
  });

  afterEach(async () => {
    await switchboard.close();
    await linear.close();
    await discord.close();
  });

  async function seedOneSeenOneMissed(): Promise<{ seen: FakeIssue; missed: FakeIssue }> {
    const seen = linear.addIssue({ teamKey: "ENG", title: "Delivered by webhook" });
    linear.updateIssue(seen.id, { stateType: "started" });
    const answer = await switchboard.post(webhookFor(seen));
    expect(answer.status).toBe(202);
    await switchboard.waitFor(() => postedText().some((text) => text.includes(seen.identifier)));
    const missed = linear.addIssue({ teamKey: "ENG", title: "Webhook lost" });
    linear.updateIssue(missed.id, { stateType: "completed" });
    // The fake keeps update times strictly increasing, so after a quick burst of changes they can run a few
    // milliseconds ahead of the clock; the job (grace 0) takes only updates that are not in its future.
    await switchboard.waitFor(() => Date.now() > Date.parse(missed.updatedAt));
    return { seen, missed };
  }

  it("reports in a dry run which updates it would reconcile, and records and posts nothing", async () => {
    const { missed } = await seedOneSeenOneMissed();

    const report = await switchboard.scheduler!.run("linear-reconcile", { dryRun: true });

    expect(report).toMatchObject({
      outcome: "ok",
      items: 1,
      summary: `Would turn 1 missed Linear update into events: ${missed.identifier}.`,
    });
    const synthetic = await switchboard.store.db
      .selectFrom("inbox")
      .selectAll()
      .where("delivery_id", "like", "reconcile:%")
      .execute();
    expect(synthetic).toEqual([]);
    expect((await findJobState(switchboard.store.db, "linear-reconcile"))?.cursor ?? null).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(postedText().filter((text) => text.includes(missed.identifier))).toEqual([]);
  });

  it("posts a missed update once, saying it was reconciled, and moves its cursor", async () => {
    const { seen, missed } = await seedOneSeenOneMissed();

    const report = await switchboard.scheduler!.run("linear-reconcile");
    expect(report).toMatchObject({
      outcome: "ok",
      items: 1,
      summary: `Turned 1 missed Linear update into events: ${missed.identifier}.`,
    });
    // The item card in the channel, and the event in its thread, told as reconciled.
    await switchboard.waitFor(() => reconciledPosts(missed).length > 0);
    expect(reconciledPosts(missed)).toHaveLength(1);
    expect(reconciledPosts(missed)[0]).toContain("Issue moved to Done");
    expect(postedText().filter((text) => text.includes(seen.identifier))).toHaveLength(1);
    expect(allPosts().filter((text) => text.includes(RECONCILED_ACTOR))).toHaveLength(1);
    expect((await findJobState(switchboard.store.db, "linear-reconcile"))?.cursor).toBe(missed.updatedAt);

    const again = await switchboard.scheduler!.run("linear-reconcile");
    expect(again).toMatchObject({ outcome: "ok", items: 0 });

    // Even read again from an older cursor (a restored backup, a lost job_state row), it is not posted twice.
    await saveJobState(switchboard.store.db, "linear-reconcile", {
      cursor: new Date(Date.parse(missed.createdAt) - 60_000).toISOString(),
      updated_at: Date.now(),
    });
    const replayed = await switchboard.scheduler!.run("linear-reconcile");
    expect(replayed).toMatchObject({ outcome: "ok", items: 0 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reconciledPosts(missed)).toHaveLength(1);
  });

  it("misses none of several issues a bulk edit gave one update time, across a run's limit", async () => {
    await switchboard.close();
    switchboard = await startWithReconcile("grace_minutes: 0, max_issues: 2");
    const bulk = ["One", "Two", "Three"].map((title) => linear.addIssue({ teamKey: "ENG", title }));
    const at = new Date(Date.now() - 60_000).toISOString();
    for (const issue of bulk) {
      linear.updateIssue(issue.id, { stateType: "started" });
      issue.updatedAt = at;
    }
    const later = linear.addIssue({ teamKey: "ENG", title: "Later" });
    linear.updateIssue(later.id, { stateType: "started" });
    later.updatedAt = new Date(Date.now() - 30_000).toISOString();

    const runs = [];
    for (let run = 0; run < 3; run++) runs.push(await switchboard.scheduler!.run("linear-reconcile"));

    // The limit is 2, but a run does not stop between issues of one time: the next run would skip the rest.
    expect(runs.map((report) => report.items)).toEqual([3, 1, 0]);
    const reconciled = await switchboard.store.db
      .selectFrom("inbox")
      .select("delivery_id")
      .where("delivery_id", "like", "reconcile:%")
      .execute();
    expect(reconciled.map((row) => row.delivery_id).sort()).toEqual(
      [...bulk, later].map((issue) => `reconcile:${issue.id}:${issue.updatedAt}`).sort(),
    );
  });
});
