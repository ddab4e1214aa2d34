/**
 * The outbox against a Discord that fails: rate limits (per route and global), 500s, Cloudflare 502s,
 * requests that hang past DISCORD_TIMEOUT_MS, connection resets, and posts that Discord created but whose
 * answer was lost. Whatever fails, every message must appear exactly once and in order, an item's card,
 * thread and replies must not be duplicated, and the waits between attempts must be the ones Discord asked
 * for (retry_after) or a growing, jittered backoff.
 *
 * Timing is checked only where requests cannot time out (DISCORD_TIMEOUT_MS of seconds): on a busy machine
 * the fake, which shares this process, may read a request after a 300 ms client timeout already gave up on
 * it, and its clock would then blame the wrong attempt.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord, FakeMessage, Fault, FaultRequest } from "../fakes/discord-server.js";
import {
  TEST_DISCORD_TOKEN,
  TEST_GITHUB_SECRET,
  startTestSwitchboard,
} from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const CHANNEL = "333333333333333333";
const OTHER_CHANNEL = "444444444444444444";
const SHORT_TIMEOUT_MS = 300;
/** Long enough that no request in the timing tests is given up on, however busy the machine. */
const PATIENT_TIMEOUT_MS = 5000;
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 4 * RETRY_BASE_MS;

/** One of each failure the outbox must survive; the chaos tests cycle through them on every third request. */
const FAULTS: Fault[] = [
  { kind: "429", retryAfterSeconds: 0.15 },
  { kind: "500" },
  { kind: "drop-after-commit" },
  { kind: "502" },
  { kind: "hang" },
  { kind: "reset" },
  { kind: "429", retryAfterSeconds: 0.2, global: true },
  { kind: "drop-after-commit" },
];

interface SeenRequest extends FaultRequest {
  /** performance.now() when the fake had read the whole request. */
  at: number;
  fault?: Fault;
}

let discord: FakeDiscord;
let switchboard: TestSwitchboard;

afterEach(async () => {
  await switchboard?.close();
  await discord?.close();
});

async function start(config: string, timeoutMs = SHORT_TIMEOUT_MS): Promise<void> {
  discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
  switchboard = await startTestSwitchboard({
    env: {
      DISCORD_TOKEN: TEST_DISCORD_TOKEN,
      DISCORD_API_URL: discord.url,
      DISCORD_TIMEOUT_MS: String(timeoutMs),
      OUTBOX_RETRY_BASE_MS: String(RETRY_BASE_MS),
      OUTBOX_RETRY_MAX_MS: String(RETRY_MAX_MS),
      LOG_LEVEL: "warn",
    },
    config,
  });
}

const route = (name: string, channel: string, threads: "none" | "per-item", events = "") =>
  `  - { name: ${name}, source: github, channel: "${channel}", threads: ${threads}${events} }\n`;

/**
 * Decide the fault of each request to a channel (`k` counts those requests from 1; the gateway's requests
 * are left alone), and record when each arrived.
 */
function injectFaults(pick: (request: FaultRequest, k: number) => Fault | undefined): SeenRequest[] {
  const seen: SeenRequest[] = [];
  discord.setFaults((request) => {
    if (!request.path.includes("/channels/")) return undefined;
    const fault = pick(request, seen.length + 1);
    seen.push({ ...request, at: performance.now(), ...(fault ? { fault } : {}) });
    return fault;
  });
  return seen;
}

/** A third of the requests fail, cycling through FAULTS. */
function failEveryThirdRequest(): SeenRequest[] {
  return injectFaults((_, k) => (k % 3 === 0 ? FAULTS[(k / 3 - 1) % FAULTS.length] : undefined));
}

function faultName(fault: Fault): string {
  return fault.kind === "429" && fault.global ? "429 global" : fault.kind;
}

/** The fixture fields these tests rewrite: a comment's body, a pull request's number and title. */
interface EditablePayload {
  number?: number;
  comment: { body: string };
  pull_request: { number: number; title: string; html_url: string };
}

async function send(fixture: string, edit: (payload: EditablePayload) => void = () => {}) {
  const { event, payload } = loadGitHubFixture(fixture);
  const body = structuredClone(payload) as EditablePayload;
  edit(body);
  const response = await switchboard.post(
    await signGitHubDelivery({ secret: TEST_GITHUB_SECRET, event, payload: body }),
  );
  expect(response.status).toBe(202);
}

const sendComment = (n: number) =>
  send("issue_comment.created", (payload) => (payload.comment.body = `delivery ${n}`));

async function outbox(): Promise<{ pending: number; dead: number }> {
  const response = await fetch(`${switchboard.url}/readyz`);
  const body = (await response.json()) as {
    checks: Array<{ name: string; detail?: { pending: number; dead: number } }>;
  };
  return body.checks.find((check) => check.name === "outbox")!.detail!;
}

function title(message: FakeMessage): string {
  return message.embeds[0]?.title ?? "";
}

function deliveriesIn(channel: string): string[] {
  return discord.messages
    .filter((message) => message.channelId === channel)
    .map((message) => message.embeds[0]?.description ?? "");
}

const numbered = (count: number) => Array.from({ length: count }, (_, i) => `delivery ${i + 1}`);

/** `retryInMs` of every "will retry" warning, in order. */
function loggedRetryDelays(): number[] {
  return switchboard.logs
    .map((line) => JSON.parse(line) as { msg?: string; retryInMs?: number })
    .filter((line) => line.msg === "Message delivery failed; will retry")
    .map((line) => line.retryInMs!);
}

describe("delivering through a failing Discord", () => {
  it("posts every message exactly once and in order when a third of the requests fail", async () => {
    await start(`routes:\n${route("comments", CHANNEL, "none")}`);
    const seen = failEveryThirdRequest();
    const total = 30;
    for (let n = 1; n <= total; n++) await sendComment(n);
    await switchboard.waitFor(
      async () => discord.messages.length >= total && (await outbox()).pending === 0,
      25_000,
    );

    expect(deliveriesIn(CHANNEL)).toEqual(numbered(total));
    expect(discord.messages).toHaveLength(total);
    expect(await outbox()).toMatchObject({ pending: 0, dead: 0 });
    // Every kind of failure really happened, on a third of the requests; posts whose answer was lost
    // (drop-after-commit) were found again by their nonce, and hung requests timed out.
    const faulted = seen.filter((request) => request.fault);
    expect(new Set(faulted.map((request) => faultName(request.fault!)))).toEqual(
      new Set(["429", "429 global", "500", "502", "hang", "reset", "drop-after-commit"]),
    );
    expect(faulted.length).toBe(Math.floor(seen.length / 3));
    expect(
      switchboard.logs.some((line) => line.includes(`did not answer within ${SHORT_TIMEOUT_MS} ms`)),
    ).toBe(true);
  }, 30_000);

  it("gives each pull request one card and one thread, and every event one reply, when a third of the requests fail", async () => {
    await start(`routes:\n${route("prs", CHANNEL, "per-item")}`);
    const seen = failEveryThirdRequest();
    const pullRequests = [11, 12, 13];
    const events = [
      ["pull_request.opened", "opened"],
      ["pull_request.labeled", "labeled"],
      ["pull_request_review.submitted.approved", "approved"],
      ["pull_request.closed.merged", "merged"],
    ] as const;
    // Interleaved, as on a busy repository: every PR's first event, then every PR's second, ...
    for (const [fixture] of events) {
      for (const number of pullRequests) {
        await send(fixture, (payload) => {
          payload.pull_request.number = number;
          if (payload.number !== undefined) payload.number = number;
          payload.pull_request.title = `Change ${number}`;
          payload.pull_request.html_url = `https://github.com/Codertocat/Hello-World/pull/${number}`;
        });
      }
    }
    const expected = pullRequests.length * (1 + events.length);
    await switchboard.waitFor(
      async () => discord.messages.length >= expected && (await outbox()).pending === 0,
      25_000,
    );

    const cards = discord.messages.filter((message) => message.channelId === CHANNEL);
    expect(cards.map(title).sort()).toEqual(pullRequests.map((n) => `#${n} Change ${n}`));
    expect(discord.threads.map((thread) => thread.id).sort()).toEqual(cards.map((card) => card.id).sort());
    expect(discord.threads.every((thread) => thread.channelId === CHANNEL)).toBe(true);
    for (const card of cards) {
      const number = /^#(\d+)/.exec(title(card))![1];
      const replies = discord.messages.filter((message) => message.channelId === card.id);
      expect(replies.map(title)).toEqual(
        events.map(
          ([, verb]) => `[Codertocat/Hello-World] Pull request ${verb}: #${number} Change ${number}`,
        ),
      );
      // The card was edited in place as events arrived, and shows where the PR ended up.
      expect(JSON.stringify(card.embeds)).toContain("Merged");
    }
    expect(discord.messages).toHaveLength(expected);
    expect(await outbox()).toMatchObject({ pending: 0, dead: 0 });

    // Failures hit every step of an item: creating the card, starting the thread, editing, replying.
    const faultedSteps = new Set(seen.filter((request) => request.fault).map(step));
    expect(faultedSteps).toEqual(new Set(["card", "thread", "edit", "reply"]));
  }, 30_000);

  it("waits out a 429 on one channel's route without holding up the other channels", async () => {
    await start(
      `routes:\n${route("a", CHANNEL, "none")}${route("b", OTHER_CHANNEL, "none")}`,
      PATIENT_TIMEOUT_MS,
    );
    const retryAfterSeconds = 1.5;
    let limitedOnce = false;
    const seen = injectFaults((request) => {
      if (limitedOnce || !request.path.includes(`/channels/${CHANNEL}/`)) return undefined;
      limitedOnce = true;
      return { kind: "429", retryAfterSeconds };
    });
    const total = 5;
    for (let n = 1; n <= total; n++) await sendComment(n);
    await switchboard.waitFor(() => discord.messages.length === 2 * total);

    // The limited route waited retry_after before its next request...
    const limited = seen.filter((request) => request.path.includes(`/channels/${CHANNEL}/`));
    expect(limited[0]!.fault).toMatchObject({ kind: "429" });
    expect(limited[1]!.at - limited[0]!.at).toBeGreaterThanOrEqual(retryAfterSeconds * 1000);
    // ...while the other channel's whole queue went out; then the limited channel's, each in order.
    expect(discord.messages.map((message) => message.channelId)).toEqual([
      ...Array(total).fill(OTHER_CHANNEL),
      ...Array(total).fill(CHANNEL),
    ]);
    expect(deliveriesIn(CHANNEL)).toEqual(numbered(total));
    expect(deliveriesIn(OTHER_CHANNEL)).toEqual(numbered(total));
  });

  it("holds every channel for a global 429's retry_after", async () => {
    // Comments go to one channel, new issues to another, so the second channel gets work only later.
    await start(
      "routes:\n" +
        route("comments", CHANNEL, "none", ', match: { events: ["issue_comment.*"] }') +
        route("issues", OTHER_CHANNEL, "none", ', match: { events: ["issues.*"] }'),
      PATIENT_TIMEOUT_MS,
    );
    const retryAfterSeconds = 0.5;
    const seen = injectFaults((_, k) =>
      k === 1 ? { kind: "429", retryAfterSeconds, global: true } : undefined,
    );
    await sendComment(1);
    await switchboard.waitFor(() => seen.length === 1);
    // The bot is now globally limited: a post to a channel that was never limited waits too.
    await send("issues.opened");
    await switchboard.waitFor(() => discord.messages.length === 2);

    const [limited, ...after] = seen;
    expect(limited!.fault).toMatchObject({ global: true });
    for (const request of after) {
      expect(request.at - limited!.at).toBeGreaterThanOrEqual(retryAfterSeconds * 1000);
    }
    expect(after.some((request) => request.path.includes(`/channels/${OTHER_CHANNEL}/`))).toBe(true);
    expect(deliveriesIn(CHANNEL)).toEqual(["delivery 1"]);
    expect(discord.messages.filter((message) => message.channelId === OTHER_CHANNEL)).toHaveLength(1);
  });

  it("backs off with growing, jittered delays after 5xx answers, resets and lost answers", async () => {
    await start(`routes:\n${route("comments", CHANNEL, "none")}`, PATIENT_TIMEOUT_MS);
    // The first message fails four times in a row, each time differently; the next four fail once each.
    const firstMessage: Fault[] = [
      { kind: "500" },
      { kind: "502" },
      { kind: "reset" },
      { kind: "drop-after-commit" },
    ];
    const seen = injectFaults((_, k) =>
      k <= firstMessage.length ? firstMessage[k - 1] : k % 2 === 0 ? { kind: "500" } : undefined,
    );
    const total = 5;
    for (let n = 1; n <= total; n++) await sendComment(n);
    await switchboard.waitFor(
      async () => discord.messages.length === total && (await outbox()).pending === 0,
    );
    expect(deliveriesIn(CHANNEL)).toEqual(numbered(total));

    // Equal jitter: attempt a waits between e/2 and e, e = base * 2^(a-1) capped at the maximum.
    const ceiling = (attempt: number) => Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempt - 1));
    const delays = loggedRetryDelays();
    expect(delays).toHaveLength(firstMessage.length + (total - 1));
    delays.slice(0, firstMessage.length).forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(ceiling(i + 1) / 2);
      expect(delay).toBeLessThanOrEqual(ceiling(i + 1));
    });
    // The fake saw those waits: each retry came no sooner than the delay's lower bound.
    for (let k = 1; k <= firstMessage.length; k++) {
      expect(seen[k]!.at - seen[k - 1]!.at, `retry ${k}`).toBeGreaterThanOrEqual(ceiling(k) / 2 - 2);
    }
    // Messages failing once each waited a first-attempt delay, not all the same one: the jitter.
    const firstRetries = delays.slice(firstMessage.length);
    for (const delay of firstRetries) {
      expect(delay).toBeGreaterThanOrEqual(ceiling(1) / 2);
      expect(delay).toBeLessThanOrEqual(ceiling(1));
    }
    expect(new Set(firstRetries).size).toBeGreaterThan(1);
  });

  it("keeps one card and one thread per pull request when the store fails right after the thread was started", async () => {
    await start(`routes:\n${route("prs", CHANNEL, "per-item")}`);
    // A store error (a lock timeout, a lost Postgres connection, or a crash at that instant) while the new
    // thread is being indexed for the item: the thread exists at Discord, the index does not have it yet.
    const failure = "store unavailable while indexing the thread";
    switchboard.store.sqlite!.exec(
      `CREATE TRIGGER fail_item_threads BEFORE INSERT ON item_threads BEGIN SELECT RAISE(ABORT, '${failure}'); END;`,
    );
    await send("pull_request.opened");
    await switchboard.waitFor(() => switchboard.logs.some((line) => line.includes(failure)));
    switchboard.store.sqlite!.exec("DROP TRIGGER fail_item_threads");
    await switchboard.waitFor(async () => discord.messages.length === 2 && (await outbox()).pending === 0);

    await send("pull_request.closed.merged");
    await switchboard.waitFor(async () => discord.messages.length >= 3 && (await outbox()).pending === 0);

    const cards = discord.messages.filter((message) => message.channelId === CHANNEL);
    expect(cards).toHaveLength(1);
    expect(discord.threads).toHaveLength(1);
    const replies = discord.messages.filter((message) => message.channelId === discord.threads[0]!.id);
    expect(replies.map(title)).toEqual([
      "[Codertocat/Hello-World] Pull request opened: #2 Update the README with new information.",
      "[Codertocat/Hello-World] Pull request merged: #2 Update the README with new information.",
    ]);
    expect(JSON.stringify(cards[0]!.embeds)).toContain("Merged");
  });
});

function step(request: SeenRequest): string {
  if (request.method === "PATCH") return "edit";
  if (request.path.endsWith("/threads")) return "thread";
  return request.path.includes(`/channels/${CHANNEL}/`) ? "card" : "reply";
}
