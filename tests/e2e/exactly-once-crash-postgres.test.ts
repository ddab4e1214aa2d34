/**
 * Exactly once across a crash with DATABASE_URL on PostgreSQL (a throwaway server, as in
 * tests/integration/postgres-store.test.ts): see tests/support/crash-scenario.ts.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { useChildSwitchboardWorkspace } from "../support/child-switchboard-workspace.js";
import { CRASH_TEST_DISCORD_TOKEN, crashAndRedeliver } from "../support/crash-scenario.js";
import { findPostgresPrograms, startPostgres } from "../support/postgres-server.js";
import type { PostgresServer } from "../support/postgres-server.js";

const workspace = useChildSwitchboardWorkspace("switchboard-crash-postgres-", CRASH_TEST_DISCORD_TOKEN);
// Without PostgreSQL this is skipped; postgres-store.test.ts says so, and fails under CI.
const programs = findPostgresPrograms();
let server: PostgresServer | undefined;

beforeAll(async () => {
  if (programs) server = await startPostgres(programs);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe.skipIf(!programs)("exactly once across a crash, on PostgreSQL", () => {
  it("posts every acknowledged delivery exactly once after a SIGKILL mid-stream, a restart and GitHub's redelivery", async () => {
    await crashAndRedeliver(workspace, () => server!.url, "PostgreSQL");
  }, 120_000);
});
