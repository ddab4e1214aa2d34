/**
 * The github-redelivery job against the fake GitHub: which failed deliveries it asks GitHub to redeliver
 * (never one already in the inbox, one that succeeded, or one tried too often), and its configuration errors.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recordDelivery } from "../../src/store/inbox-repository.js";
import { startFakeGitHub } from "../fakes/github-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";
import { startTestSwitchboard } from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const HOUR = 60 * 60 * 1000;
const HOOK = { repo: "acme/api", hookId: 7 };
const CONFIG = `jobs:\n  - name: github-redelivery\n    options:\n      hooks: [{ repo: acme/api, hook_id: 7 }]\n`;

let github: FakeGitHub;
let switchboard: TestSwitchboard | undefined;

function seedDeliveries(): void {
  const ago = (hours: number) => new Date(Date.now() - hours * HOUR).toISOString();
  github.addRepo("acme/api");
  // Delivered fine.
  github.addHookDelivery(HOOK, { guid: "guid-ok", event: "push", deliveredAt: ago(5) });
  // Failed while Switchboard was down: the one to redeliver.
  github.addHookDelivery(HOOK, {
    guid: "guid-lost",
    event: "pull_request",
    action: "opened",
    statusCode: 502,
    deliveredAt: ago(4),
  });
  // Answered late (GitHub gave up after 10 s) but stored: not lost.
  github.addHookDelivery(HOOK, { guid: "guid-stored", event: "push", statusCode: 0, deliveredAt: ago(3) });
  // Refused four times (the original and three redeliveries): left alone.
  for (const hours of [2.5, 2.4, 2.3, 2.2]) {
    github.addHookDelivery(HOOK, {
      guid: "guid-hopeless",
      event: "push",
      statusCode: 401,
      deliveredAt: ago(hours),
      redelivery: hours !== 2.5,
    });
  }
  // Failed, then redelivered successfully by hand.
  github.addHookDelivery(HOOK, { guid: "guid-fixed", event: "issues", statusCode: 503, deliveredAt: ago(2) });
  github.addHookDelivery(HOOK, {
    guid: "guid-fixed",
    event: "issues",
    deliveredAt: ago(1),
    redelivery: true,
  });
}

describe("github-redelivery", () => {
  beforeEach(async () => {
    github = await startFakeGitHub();
    seedDeliveries();
  });

  afterEach(async () => {
    await switchboard?.close();
    switchboard = undefined;
    await github.close();
  });

  async function start(config = CONFIG): Promise<TestSwitchboard> {
    switchboard = await startTestSwitchboard({
      env: { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url },
      config,
    });
    await recordDelivery(switchboard.store.db, {
      source: "github",
      deliveryId: "guid-stored",
      event: "push",
      body: "{}",
      receivedAt: Date.now(),
    });
    return switchboard;
  }

  it("reports in a dry run which deliveries it would redeliver, and asks GitHub for nothing", async () => {
    const running = await start();

    const report = await running.scheduler!.run("github-redelivery", { dryRun: true });

    expect(report).toMatchObject({
      outcome: "ok",
      items: 1,
      summary: "Would redeliver 1 failed delivery: pull_request.opened guid-lost.",
    });
    expect(github.redeliveries()).toEqual([]);
  });

  it("asks GitHub to redeliver each failed delivery missing from the inbox, once", async () => {
    const running = await start();

    const report = await running.scheduler!.run("github-redelivery");
    expect(report).toMatchObject({
      outcome: "ok",
      items: 1,
      summary: "Asked GitHub to redeliver 1 failed delivery: pull_request.opened guid-lost.",
    });
    expect(github.redeliveries().map((redelivery) => redelivery.created.guid)).toEqual(["guid-lost"]);

    // GitHub's log now shows the successful redelivery: nothing more to do.
    const again = await running.scheduler!.run("github-redelivery");
    expect(again).toMatchObject({ outcome: "ok", items: 0 });
    expect(github.redeliveries()).toHaveLength(1);
  });

  it("refuses GitHub App hooks at start-up, saying why and what to do instead", async () => {
    await expect(
      start(`jobs:\n  - name: github-redelivery\n    options:\n      hooks: [{ app: true }]\n`),
    ).rejects.toThrow(/GitHub App webhooks cannot be redelivered by Switchboard: .*JWT/);
  });

  it("fails a run with a clear reason when no hook is listed", async () => {
    const running = await start(`jobs:\n  - name: github-redelivery\n`);
    const report = await running.scheduler!.run("github-redelivery");
    expect(report.outcome).toBe("error");
    expect(report.error).toMatch(/No webhooks to check: list them under options\.hooks/);
  });
});
