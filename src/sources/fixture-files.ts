/**
 * Where the sample webhook deliveries live, for tests and `switchboard simulate`.
 *
 * Fixtures stay in `<repo root>/tests/fixtures/<source>/` and are not copied into `dist/`, so the repo root is
 * found by walking up from this module to the nearest directory holding package.json. That works both from
 * `src/` (vitest, tsx) and from `dist/` after a build, whatever the current working directory is.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type FixtureSource = "github" | "linear";

const FIXTURE_EXTENSION = ".json";

/** Absolute path of `tests/fixtures/<source>` in the Switchboard checkout or package this module runs from. */
export function fixtureDirectory(source: FixtureSource): string {
  return join(findPackageRoot(), "tests", "fixtures", source);
}

/** Parsed JSON of `<fixtureDirectory(source)>/<name>.json`. Throws with the path when it is missing or not JSON. */
export function readFixtureFile(source: FixtureSource, name: string): unknown {
  const path = join(fixtureDirectory(source), `${name}${FIXTURE_EXTENSION}`);
  if (!existsSync(path)) {
    const known = listFixtureNames(source).join(", ") || "none";
    throw new Error(`No ${source} fixture named "${name}" at ${path}. Known fixtures: ${known}`);
  }
  return readJsonFile(path, `The ${source} fixture`);
}

/** Parsed JSON of the file at `path`; an error names `what` and the path when it cannot be read or parsed. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`${what} ${path} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what} ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Fixture names for `source`, sorted, without the `.json` extension. Empty when the directory is absent. */
export function listFixtureNames(source: FixtureSource): string[] {
  const directory = fixtureDirectory(source);
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((file) => file.endsWith(FIXTURE_EXTENSION))
    .map((file) => file.slice(0, -FIXTURE_EXTENSION.length))
    .sort();
}

let packageRoot: string | undefined;

function findPackageRoot(): string {
  if (packageRoot) return packageRoot;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let directory = start; ; directory = dirname(directory)) {
    if (existsSync(join(directory, "package.json"))) return (packageRoot = directory);
    if (dirname(directory) === directory) {
      throw new Error(`Cannot find the Switchboard package root: no package.json above ${start}`);
    }
  }
}
