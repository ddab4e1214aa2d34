/**
 * A throwaway PostgreSQL server on loopback for the tests that run the store on Postgres: initdb into a
 * temporary folder, pg_ctl start on a free port, trust authentication for a `switchboard` superuser, no fsync
 * unless asked (nothing a test writes must survive a power loss). Debian's `postgresql` package provides the
 * programs; `.ci/run` installs it, so CI always runs these tests. Elsewhere, without the programs, they are
 * skipped and say why.
 *
 * PostgreSQL refuses to run as root: as root, the server runs as the package's `postgres` user (runuser).
 */
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./child-switchboard.js";

const run = promisify(execFile);

export interface PostgresServer {
  /** postgres://switchboard@127.0.0.1:<port>/postgres */
  url: string;
  /** Creates an empty database `name` on this server; resolves with its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The folder holding pg_ctl and initdb, or undefined when PostgreSQL is not installed. */
export function findPostgresPrograms(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const newest = readdirSync(root)
    .map(Number)
    .filter((version) => Number.isInteger(version))
    .sort((a, b) => b - a)
    .map((version) => join(root, String(version), "bin"))
    .find((bin) => existsSync(join(bin, "pg_ctl")) && existsSync(join(bin, "initdb")));
  return newest;
}

/** Runs `work` on a client connected to `url`, closed again whatever happens. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * `durable`: keep fsync and full-page writes on, as a production server runs (the benchmark's choice); tests
 * leave it off, since nothing there must survive a power loss.
 */
export async function startPostgres(
  bin: string,
  options: { durable?: boolean } = {},
): Promise<PostgresServer> {
  const directory = mkdtempSync(join(tmpdir(), "switchboard-postgres-"));
  const data = join(directory, "data");
  const asRoot = userInfo().uid === 0;
  const asServerUser = (program: string, args: string[]) =>
    asRoot
      ? run("runuser", ["-u", "postgres", "--", join(bin, program), ...args])
      : run(join(bin, program), args);
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: group } = await run("id", ["-g", "postgres"]);
    chownSync(directory, Number(stdout.trim()), Number(group.trim()));
  }
  await asServerUser("initdb", ["-D", data, "-U", "switchboard", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  const durability = options.durable ? "" : " -c fsync=off -c full_page_writes=off";
  const serverOptions = `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1${durability}`;
  const log = join(directory, "server.log");
  await asServerUser("pg_ctl", ["-D", data, "-o", serverOptions, "-l", log, "-w", "start"]).catch(
    (error: unknown) => {
      const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-10).join("\n") : "(no log)";
      rmSync(directory, { recursive: true, force: true });
      throw new Error(
        `PostgreSQL did not start from ${bin} (${String(error)}). Its log ends:\n${tail}\n` +
          "Check that the postgresql package is complete and, under root, that the postgres user exists.",
      );
    },
  );
  const url = `postgres://switchboard@127.0.0.1:${port}/postgres`;
  return {
    url,
    async createDatabase(name) {
      await withClient(url, (client) => client.query(`create database ${name}`));
      return url.replace(/\/postgres$/, `/${name}`);
    },
    async stop() {
      await asServerUser("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
