#!/usr/bin/env node
/* global process, console */
/**
 * `npm run lint:docker`: dockerfile-utils reports warnings (deprecated instructions, empty continuation
 * lines, ...) but exits 0 on them; CI treats any reported problem as a failure.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const bin = join(dirname(require.resolve("dockerfile-utils/package.json")), "bin", "dockerfile-utils");
const file = process.argv[2] ?? "Dockerfile";
const result = spawnSync(process.execPath, [bin, "lint", file], { encoding: "utf8" });
const report = `${result.stdout}${result.stderr}`.trim();
if (result.status !== 0 || report !== "") {
  console.error(report || `dockerfile-utils exited with ${result.status}`);
  console.error(`\n${file}: fix the problems above.`);
  process.exit(1);
}
console.log(`${file}: no problems found.`);
