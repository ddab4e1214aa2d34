/**
 * Exactly once across a crash, the scenario the e2e tests run on SQLite and on PostgreSQL: the real server,
 * as a child process, is SIGKILLed in the middle of a stream of 500 signed GitHub deliveries, with webhook
 * requests and Discord posts in flight. It is started again on the same database, every delivery that did not
 * get a 2xx is redelivered (same X-GitHub-Delivery, as GitHub's "Redeliver" does), and the fake Discord must
 * end up holding exactly one message per delivery.
 */
import { join } from "node:path";
import { expect } from "vitest";
import type { SignedDelivery } from "../../src/sources/signed-delivery.js";
import { startChildSwitchboard } from "./child-switchboard.js";
import type { ChildEnv, ChildSwitchboard } from "./child-switchboard.js";
import type { ChildSwitchboardWorkspace } from "./child-switchboard-workspace.js";
import {
  acknowledged,
  buildNumberedDeliveries,
  deliveryNumber,
  messagesPerDelivery,
  postDelivery,
  waitUntil,
  writeSingleChannelConfig,
} from "./numbered-deliveries.js";
import type { Outcome } from "./numbered-deliveries.js";

const CHANNEL = "222222222222222222";
const TOTAL = 500;
/** SIGKILL once this many deliveries were acknowledged; the senders keep going, as GitHub would. */
const KILL_AFTER_ACKS = 200;
const SENDERS = 16;
const GITHUB_SECRET = "crash-test-github-secret-5f1d0c";
/** The bot token the workspace's fake Discord accepts. */
export const CRASH_TEST_DISCORD_TOKEN = "crash-test-discord-token.Zm9v.YmFyYmF6cXV4";

/**
 * Send `indexes` with `SENDERS` requests in flight; `onAnswer` sees each outcome as it comes. A delivery's
 * request never hangs the stream: a dead server refuses or resets it quickly.
 */
async function send(
  base: () => string,
  deliveries: SignedDelivery[],
  indexes: number[],
  outcomes: Map<number, Outcome>,
  onAnswer: (outcome: Outcome, inFlight: number) => void = () => {},
): Promise<void> {
  let next = 0;
  let inFlight = 0;
  const sender = async () => {
    while (next < indexes.length) {
      const index = indexes[next++]!;
      inFlight++;
      outcomes.set(index, await postDelivery(base(), deliveries[index]!));
      inFlight--;
      onAnswer(outcomes.get(index)!, inFlight);
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
}

async function outboxPending(child: ChildSwitchboard): Promise<number> {
  const response = await fetch(`${child.url}/readyz`);
  const body = (await response.json()) as { checks: Array<{ name: string; detail?: { pending?: number } }> };
  return body.checks.find((check) => check.name === "outbox")?.detail?.pending ?? Number.NaN;
}

/**
 * Runs the scenario in `workspace` (its folder, fake Discord and children) on the store `databaseUrl` gives
 * for that folder; `store` names it in the summary line.
 */
export async function crashAndRedeliver(
  workspace: ChildSwitchboardWorkspace,
  databaseUrl: (directory: string) => string,
  store: string,
): Promise<void> {
  const { directory, discord, children } = workspace;
  const configFile = join(directory, "switchboard.yaml");
  writeSingleChannelConfig(configFile, CHANNEL);
  const env: ChildEnv = {
    DATABASE_URL: databaseUrl(directory),
    GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
    DISCORD_TOKEN: CRASH_TEST_DISCORD_TOKEN,
    DISCORD_API_URL: discord.url,
    CONFIG_FILE: configFile,
    LOG_LEVEL: "warn",
    OUTBOX_RETRY_BASE_MS: "50",
    OUTBOX_RETRY_MAX_MS: "500",
  };
  const deliveries = await buildNumberedDeliveries(GITHUB_SECRET, TOTAL);

  // First life: acknowledge deliveries until the kill, with requests in flight at that moment.
  const first = await startChildSwitchboard({ env });
  children.push(first);
  const firstOutcomes = new Map<number, Outcome>();
  let acks = 0;
  let killed: Promise<unknown> | undefined;
  let messagesAtKill = 0;
  let inFlightAtKill = 0;
  await send(
    () => first.url,
    deliveries,
    deliveries.map((_, index) => index),
    firstOutcomes,
    (outcome, inFlight) => {
      if (acknowledged(outcome) && ++acks === KILL_AFTER_ACKS) {
        messagesAtKill = discord.messages.length;
        inFlightAtKill = inFlight;
        killed = first.kill("SIGKILL");
      }
    },
  );
  expect(await killed).toEqual({ code: null, signal: "SIGKILL" });

  const ackedBeforeKill = [...firstOutcomes.entries()].filter(([, outcome]) => acknowledged(outcome));
  const unacknowledged = deliveries
    .map((_, index) => index)
    .filter((i) => !acknowledged(firstOutcomes.get(i)));
  // The kill really came mid-stream: some deliveries were acknowledged, some were not, and Discord had
  // not yet heard about all of the acknowledged ones.
  expect(ackedBeforeKill.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
  expect(unacknowledged.length).toBeGreaterThan(0);
  expect(messagesAtKill).toBeLessThan(ackedBeforeKill.length);

  // Second life on the same database; GitHub redelivers everything that did not get a 2xx.
  const second = await startChildSwitchboard({ env });
  children.push(second);
  const resendOutcomes = new Map<number, Outcome>();
  await send(() => second.url, deliveries, unacknowledged, resendOutcomes);
  const resendStatuses = [...resendOutcomes.values()].map((outcome) =>
    "status" in outcome ? outcome.status : 0,
  );
  // 202: never stored before the crash. 200: stored, but the answer died with the process.
  expect(resendStatuses.every((status) => status === 202 || status === 200)).toBe(true);

  // Drained: every delivery has reached Discord and nothing is left in the outbox.
  await waitUntil(async () => {
    const seen = new Set(discord.messages.map(deliveryNumber));
    return seen.size >= TOTAL && (await outboxPending(second)) === 0;
  }, 60_000);
  // A graceful stop finishes whatever is in flight, so nothing can arrive after the count below.
  expect(await second.stop()).toEqual({ code: 0, signal: null });

  for (const message of discord.messages) {
    expect(message.channelId).toBe(CHANNEL);
    expect(deliveryNumber(message)).toBeDefined();
  }
  const perDelivery = messagesPerDelivery(discord.messages);
  const twice = [...perDelivery.entries()].filter(([, count]) => count > 1).map(([n]) => n);
  expect(twice).toEqual([]);
  for (let n = 1; n <= TOTAL; n++) expect(perDelivery.get(n), `delivery ${n}`).toBe(1);
  expect(discord.messages).toHaveLength(TOTAL);

  // The crash and the restart printed no credential either.
  const printed = [first, second].map((child) => child.stdout() + child.stderr()).join("\n");
  for (const secret of [CRASH_TEST_DISCORD_TOKEN, GITHUB_SECRET]) expect(printed).not.toContain(secret);

  console.info(
    `crash test (${store}): ${ackedBeforeKill.length} of ${TOTAL} acknowledged before SIGKILL ` +
      `(${inFlightAtKill} requests in flight, ${messagesAtKill} messages at Discord then); ` +
      `${unacknowledged.length} redelivered after restart ` +
      `(${resendStatuses.filter((s) => s === 202).length} answered 202, ` +
      `${resendStatuses.filter((s) => s === 200).length} answered 200 as already stored); ` +
      `${discord.messages.length} messages at Discord, ${twice.length} duplicated`,
  );
}
