/**
 * The store on PostgreSQL (DATABASE_URL=postgres://...), against a real server started for this file
 * (tests/support/postgres-server.ts): every migration, a delivery stored once, the outbox's queue heads, and
 * a webhook through to the fake Discord and back as a duplicate.
 */
import type pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NO_MENTIONS } from "../../src/discord/render/message.js";
import { planPost } from "../../src/pipeline/plan-messages.js";
import { loadGitHubFixture } from "../../src/sources/github/fixtures.js";
import { signGitHubDelivery } from "../../src/sources/signed-delivery.js";
import { openStore } from "../../src/store/database.js";
import type { Store } from "../../src/store/database.js";
import { LISTENER_APPLICATION_NAME } from "../../src/store/delivery-notifications.js";
import { enqueueMessages, listQueueHeads, markSent } from "../../src/store/outbox-repository.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { findPostgresPrograms, startPostgres, withClient } from "../support/postgres-server.js";
import type { PostgresServer } from "../support/postgres-server.js";
import {
  TEST_DISCORD_TOKEN,
  TEST_GITHUB_SECRET,
  startTestSwitchboard,
} from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const programs = findPostgresPrograms();
if (!programs) {
  const missing = "PostgreSQL is not installed (Debian: apt-get install postgresql)";
  // CI must run them: .ci/run installs the package, and a skip there would hide a broken Postgres path.
  if (process.env.CI) throw new Error(`${missing}: the Postgres store tests cannot run.`);
  console.warn(`${missing}: the Postgres store tests are skipped.`);
}

let server: PostgresServer;
let databases = 0;
const opened: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  if (programs) server = await startPostgres(programs);
}, 60_000);

afterEach(async () => {
  for (const each of opened.splice(0)) await each.close();
});

afterAll(async () => {
  await server?.stop();
});

/** Work as the server's superuser, on its `postgres` database. */
const admin = <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => withClient(server.url, work);

/** How many connections to the database of `url` are listening for new deliveries. */
async function listening(url: string): Promise<number> {
  const database = new URL(url).pathname.slice(1);
  const { rows } = await admin((client) =>
    client.query(
      "select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = $2 " +
        "and state = 'idle' and query ilike 'listen %'",
      [database, LISTENER_APPLICATION_NAME],
    ),
  );
  return (rows[0] as { n: number }).n;
}

async function until<T>(read: () => Promise<T>, expected: T): Promise<void> {
  await expect.poll(read, { timeout: 5000, interval: 20 }).toBe(expected);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const delivery = (deliveryId: string) => ({
  source: "github" as const,
  deliveryId,
  event: "ping",
  body: "{}",
  receivedAt: 1,
});

/** A database of its own for each test, on the shared server. */
function freshDatabaseUrl(): Promise<string> {
  return server.createDatabase(`switchboard_${++databases}`);
}

async function open(): Promise<Store> {
  const store = await openStore(await freshDatabaseUrl());
  opened.push(store);
  return store;
}

describe.skipIf(!programs)("the store on PostgreSQL", () => {
  it("runs every migration on an empty database and stores a delivery once", async () => {
    const store = await open();
    const delivery = {
      source: "github" as const,
      deliveryId: "d-1",
      event: "ping",
      body: "{}",
      receivedAt: 1,
    };
    expect(await store.recordDelivery(delivery)).toBe("new");
    expect(await store.recordDelivery({ ...delivery, body: '{"again":true}' })).toBe("duplicate");
    const migrations = await store.db
      .selectFrom("kysely_migration" as never)
      .select("name" as never)
      .execute();
    expect(migrations.map((row) => (row as { name: string }).name)).toContain("0009_outbox_channel_heads");
  });

  it("gives the head of every channel's queue, oldest first, however long another channel's queue", async () => {
    const store = await open();
    const post = (channel: string, content: string) =>
      planPost({ channel, route: "team", message: { content, allowed_mentions: NO_MENTIONS }, now: 1 });
    await enqueueMessages(
      store.db,
      Array.from({ length: 600 }, (_, index) => post("222", `busy ${index}`)),
    );
    await enqueueMessages(store.db, [post("111", "quiet")]);

    const heads = await listQueueHeads(store.db, 100);
    expect(heads.map((row) => [row.channel_id, JSON.parse(row.payload).message.content])).toEqual([
      ["222", "busy 0"],
      ["111", "quiet"],
    ]);
    await markSent(store.db, heads[0]!.id, 2);
    const next = await listQueueHeads(store.db, 1);
    expect(next.map((row) => JSON.parse(row.payload).message.content)).toEqual(["busy 1"]);
  });

  it("wakes a worker process when another process stores a delivery, and not for a duplicate", async () => {
    const url = await freshDatabaseUrl();
    const web = await openStore(url);
    const worker = await openStore(url);
    opened.push(web, worker);
    let wakes = 0;
    const watcher = worker.watchDeliveries(() => wakes++);
    opened.unshift({ close: () => watcher.stop() });
    await until(() => listening(url), 1);

    expect(await web.recordDelivery(delivery("d-1"))).toBe("new");
    await expect.poll(() => wakes, { timeout: 5000, interval: 10 }).toBe(1);
    expect(await web.recordDelivery(delivery("d-1"))).toBe("duplicate");
    await sleep(300);
    expect(wakes).toBe(1);
    // Several deliveries stored together share a transaction, and so one notification, or a few.
    await Promise.all(["d-2", "d-3", "d-4"].map((id) => web.recordDelivery(delivery(id))));
    await expect.poll(() => wakes, { timeout: 5000, interval: 10 }).toBeGreaterThan(1);
    const settled = wakes;
    await sleep(300);
    expect(wakes).toBe(settled);
    expect(settled).toBeLessThanOrEqual(4);
  });

  it("listens again after its connection is cut, says so, and looks at once for what it missed", async () => {
    const url = await freshDatabaseUrl();
    const web = await openStore(url);
    const errors: string[] = [];
    const worker = await openStore(url, { onBackgroundError: (message) => errors.push(message) });
    opened.push(web, worker);
    let wakes = 0;
    const watcher = worker.watchDeliveries(() => wakes++);
    opened.unshift({ close: () => watcher.stop() });
    await until(() => listening(url), 1);

    await admin((client) =>
      client.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1", [
        LISTENER_APPLICATION_NAME,
      ]),
    );
    await expect.poll(() => errors.length, { timeout: 5000, interval: 10 }).toBe(1);
    expect(errors[0]).toMatch(
      /^Listening for new deliveries failed \(.+\); trying again in 1 s\..*max_connections/,
    );
    // Stored while nobody listens: no notification reaches the worker, so it is told to look on reconnecting.
    await web.recordDelivery(delivery("while-cut"));
    await expect.poll(() => wakes, { timeout: 5000, interval: 10 }).toBe(1);
    await until(() => listening(url), 1);
    await web.recordDelivery(delivery("after"));
    await expect.poll(() => wakes, { timeout: 5000, interval: 10 }).toBe(2);
    expect(errors).toHaveLength(1);
  });
});

describe.skipIf(!programs)("Switchboard with DATABASE_URL on PostgreSQL", () => {
  let discord: FakeDiscord;
  let switchboard: TestSwitchboard;

  afterEach(async () => {
    await switchboard?.close();
    await discord?.close();
  });

  it("posts a pull request's card and thread once, answers its redelivery as a duplicate, and is ready", async () => {
    discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
    const databaseUrl = await freshDatabaseUrl();
    switchboard = await startTestSwitchboard({
      env: {
        DATABASE_URL: databaseUrl,
        DISCORD_TOKEN: TEST_DISCORD_TOKEN,
        DISCORD_API_URL: discord.url,
        DISCORD_DEFAULT_CHANNEL_ID: "111111111111111111",
      },
    });
    const { event, payload } = loadGitHubFixture("pull_request.opened");
    const delivery = await signGitHubDelivery({ secret: TEST_GITHUB_SECRET, event, payload });

    expect((await switchboard.post(delivery)).status).toBe(202);
    await switchboard.waitFor(() => discord.messages.length === 2);
    expect(discord.messages[0]!.embeds[0]!.title).toContain("#2");
    expect(discord.threads).toHaveLength(1);

    expect((await switchboard.post(delivery)).status).toBe(200);
    const readiness = await fetch(new URL("/readyz", switchboard.url));
    expect(readiness.status).toBe(200);
    // Given time to post a second card, it does not.
    await sleep(300);
    expect(discord.messages).toHaveLength(2);
  });

  it("schedules a retry when Discord fails, then posts the message once", async () => {
    discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
    switchboard = await startTestSwitchboard({
      env: {
        DATABASE_URL: await freshDatabaseUrl(),
        DISCORD_TOKEN: TEST_DISCORD_TOKEN,
        DISCORD_API_URL: discord.url,
        DISCORD_DEFAULT_CHANNEL_ID: "111111111111111111",
      },
      config:
        'routes:\n  - name: comments\n    source: github\n    channel: "111111111111111111"\n    threads: none\n',
    });
    let failed = 0;
    discord.setFaults((request) =>
      request.path.includes("/channels/") && failed++ < 2 ? { kind: "500" } : undefined,
    );
    const { event, payload } = loadGitHubFixture("issue_comment.created");
    const delivery = await signGitHubDelivery({ secret: TEST_GITHUB_SECRET, event, payload });
    expect((await switchboard.post(delivery)).status).toBe(202);

    await switchboard.waitFor(() => discord.messages.length === 1);
    // The retry's time was stored: on Postgres a fraction of a millisecond in it failed the retry itself.
    const retries = switchboard.logs
      .map((line) => JSON.parse(line) as { msg?: string; retryInMs?: number })
      .filter((line) => line.msg === "Message delivery failed; will retry");
    expect(retries).toHaveLength(2);
    expect(switchboard.logs.some((line) => line.includes("Outbox delivery failed"))).toBe(false);
    await sleep(300);
    expect(discord.messages).toHaveLength(1);
  });
});
