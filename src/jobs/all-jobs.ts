/**
 * Every scheduled job Switchboard offers, in the order /jobs list shows them. Adding a job: create its file
 * in this folder exporting a `defineJob({...})` (see job.ts) and list it here; it is then configurable under
 * `jobs:` by its name.
 */
import type { Job } from "./job.js";
import { digest } from "./digest.js";
import { githubRedelivery } from "./github-redelivery.js";
import { linearGitHubSync } from "./linear-github-sync.js";
import { linearReconcile } from "./linear-reconcile.js";
import { retention } from "./retention.js";
import { stalePrs } from "./stale-prs.js";

export const ALL_JOBS: Job[] = [
  retention,
  stalePrs,
  digest,
  linearGitHubSync,
  linearReconcile,
  githubRedelivery,
];
