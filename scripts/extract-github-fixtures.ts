/**
 * Writes tests/fixtures/github/*.json and its README from @octokit/webhooks-examples.
 *
 *   npx tsx scripts/extract-github-fixtures.ts
 *
 * Each fixture is one real delivery body, picked by a rule (never by array position, which shifts between
 * package versions). Where the examples lack a case, a fixture is derived from the closest real one by
 * changing named fields only; the README lists every such change, generated from the same table, so the
 * fixtures stay traceable to their source. Rerunning the script rewrites the folder to exactly this table.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { z } from "zod";
import { fixtureDirectory } from "../src/sources/fixture-files.js";

const EXAMPLES_PACKAGE = "@octokit/webhooks-examples";

type Payload = Record<string, unknown>;

/** A change to a derived fixture: a new value, or a copy of another field of the same payload. */
type FieldChange = { path: string; value: unknown } | { path: string; copyFrom: string };

interface FixtureSpec {
  /** File name without `.json`; the part before the first dot is the `X-GitHub-Event` header. */
  name: string;
  /** Take the first example of this event whose fields equal these values (dotted paths). */
  where: Record<string, unknown>;
  /** Present on derived fixtures only. */
  changes?: FieldChange[];
  /** Why a derived fixture changes what it changes, or what an ignored-on-purpose fixture is for. */
  note?: string;
}

const FIXTURES: FixtureSpec[] = [
  { name: "ping", where: {}, note: "ignored: a ping is answered, never posted" },
  { name: "push.branch", where: { ref: "refs/heads/master" } },
  {
    name: "push.forced",
    where: { ref: "refs/heads/master" },
    note: "a force-push onto an existing branch: no example has one",
    changes: [
      { path: "forced", value: true },
      { path: "created", value: false },
      { path: "before", value: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e" },
      {
        path: "compare",
        value: "https://github.com/Codertocat/Hello-World/compare/f95f852bd8fc...6113728f27ae",
      },
    ],
  },
  { name: "push.tag", where: { ref: "refs/tags/simple-tag", created: true } },
  { name: "push.tag.deleted", where: { ref: "refs/tags/simple-tag", deleted: true } },
  { name: "create.tag", where: { ref_type: "tag" } },
  {
    name: "create.branch",
    where: { ref_type: "tag" },
    note: "every create example is a tag",
    changes: [
      { path: "ref", value: "changes" },
      { path: "ref_type", value: "branch" },
    ],
  },
  { name: "delete.tag", where: { ref_type: "tag" } },
  {
    name: "delete.branch",
    where: { ref_type: "tag" },
    note: "every delete example is a tag",
    changes: [
      { path: "ref", value: "changes" },
      { path: "ref_type", value: "branch" },
    ],
  },
  { name: "pull_request.opened", where: { action: "opened" } },
  { name: "pull_request.reopened", where: { action: "reopened" } },
  { name: "pull_request.closed.unmerged", where: { action: "closed" } },
  {
    name: "pull_request.closed.merged",
    where: { action: "closed" },
    note: "both closed examples are unmerged; a merge sets these three fields",
    changes: [
      { path: "pull_request.merged", value: true },
      { path: "pull_request.merged_at", value: "2019-05-15T15:21:18Z" },
      { path: "pull_request.merged_by", copyFrom: "sender" },
    ],
  },
  { name: "pull_request.ready_for_review", where: { action: "ready_for_review" } },
  { name: "pull_request.converted_to_draft", where: { action: "converted_to_draft" } },
  { name: "pull_request.review_requested", where: { action: "review_requested" } },
  { name: "pull_request.labeled", where: { action: "labeled" } },
  { name: "pull_request.unlabeled", where: { action: "unlabeled" } },
  {
    name: "pull_request.synchronize",
    where: { action: "synchronize" },
    note: "ignored: new commits on a PR are not reported",
  },
  { name: "pull_request_review.submitted.commented", where: { action: "submitted" } },
  {
    name: "pull_request_review.submitted.approved",
    where: { action: "submitted" },
    note: "every submitted example is a comment-only review",
    changes: [{ path: "review.state", value: "approved" }],
  },
  {
    name: "pull_request_review.submitted.changes_requested",
    where: { action: "submitted" },
    note: "every submitted example is a comment-only review; a body shows what the reviewer asked for",
    changes: [
      { path: "review.state", value: "changes_requested" },
      { path: "review.body", value: "Please fix the spelling of 'commit' in the README before merging." },
    ],
  },
  {
    name: "pull_request_review.dismissed",
    where: { action: "dismissed" },
    note: "ignored: only submitted reviews are reported",
  },
  { name: "issues.opened", where: { action: "opened" } },
  {
    name: "issues.closed",
    where: { action: "reopened" },
    note: "no example closes an issue; this closes the reopened one as completed, at its last update",
    changes: [
      { path: "action", value: "closed" },
      { path: "issue.state", value: "closed" },
      { path: "issue.closed_at", value: "2021-10-11T16:40:56Z" },
      { path: "issue.state_reason", value: "completed" },
    ],
  },
  { name: "issues.reopened", where: { action: "reopened" } },
  { name: "issues.labeled", where: { action: "labeled" } },
  { name: "issue_comment.created", where: { action: "created" } },
  {
    name: "issue_comment.created.pull_request",
    where: { action: "created" },
    note: "every comment example is on an issue; GitHub marks a PR's comments with `issue.pull_request`",
    changes: [
      {
        path: "issue.pull_request",
        value: {
          url: "https://api.github.com/repos/Codertocat/Hello-World/pulls/1",
          html_url: "https://github.com/Codertocat/Hello-World/pull/1",
          diff_url: "https://github.com/Codertocat/Hello-World/pull/1.diff",
          patch_url: "https://github.com/Codertocat/Hello-World/pull/1.patch",
          merged_at: null,
        },
      },
      { path: "issue.html_url", value: "https://github.com/Codertocat/Hello-World/pull/1" },
      {
        path: "comment.html_url",
        value: "https://github.com/Codertocat/Hello-World/pull/1#issuecomment-492700400",
      },
    ],
  },
  { name: "release.published", where: { action: "published" } },
  { name: "release.prereleased", where: { action: "prereleased" } },
  {
    name: "workflow_run.completed.success",
    where: { action: "completed", "workflow_run.conclusion": "success" },
  },
  {
    name: "workflow_run.completed.failure",
    where: { action: "completed", "workflow_run.conclusion": "success" },
    note: "every completed example succeeded",
    changes: [{ path: "workflow_run.conclusion", value: "failure" }],
  },
  {
    name: "workflow_run.requested",
    where: { action: "requested" },
    note: "ignored: only completed runs are reported",
  },
  { name: "deployment.created", where: { action: "created" } },
  { name: "deployment_status.created.success", where: { "deployment_status.state": "success" } },
  { name: "deployment_status.created.in_progress", where: { "deployment_status.state": "in_progress" } },
  {
    name: "deployment_status.created.failure",
    where: { "deployment_status.state": "success" },
    note: "no example fails; a failed status usually says why",
    changes: [
      { path: "deployment_status.state", value: "failure" },
      { path: "deployment_status.description", value: "Health check failed after the deploy" },
    ],
  },
  {
    name: "star.created",
    where: { action: "created" },
    note: "ignored: an event Switchboard does not handle",
  },
];

/** The package's index: one entry per event with its example deliveries. */
const ExamplesIndexSchema = z.array(
  z.looseObject({ name: z.string(), examples: z.array(z.record(z.string(), z.unknown())) }),
);

function main(): void {
  const require = createRequire(import.meta.url);
  const examplesPath = require.resolve(`${EXAMPLES_PACKAGE}/api.github.com/index.json`);
  const examplesVersion = z
    .object({ version: z.string() })
    .parse(require(`${EXAMPLES_PACKAGE}/package.json`)).version;
  const index = ExamplesIndexSchema.parse(JSON.parse(readFileSync(examplesPath, "utf8")));
  const examplesByEvent = new Map(index.map((entry) => [entry.name, entry.examples]));

  const directory = fixtureDirectory("github");
  for (const file of readdirSync(directory).filter((name) => name.endsWith(".json"))) {
    rmSync(join(directory, file));
  }

  const picked = FIXTURES.map((spec) => {
    const event = spec.name.split(".")[0]!;
    const examples = examplesByEvent.get(event) ?? [];
    const position = examples.findIndex((example) => matches(example, spec.where));
    if (position === -1) {
      throw new Error(
        `${spec.name}: no ${event} example in ${EXAMPLES_PACKAGE} has ${JSON.stringify(spec.where)}`,
      );
    }
    const payload = structuredClone(examples[position]!);
    const previous = (spec.changes ?? []).map((change) => applyChange(spec.name, payload, change));
    writeFileSync(join(directory, `${spec.name}.json`), `${JSON.stringify(payload, null, 2)}\n`);
    return { spec, event, position, previous };
  });

  writeFileSync(join(directory, "README.md"), readme(examplesVersion, picked));
  console.log(`Wrote ${picked.length} fixtures and README.md to ${directory}`);
}

function matches(example: Payload, where: Record<string, unknown>): boolean {
  return Object.entries(where).every(([path, value]) => valueAt(example, path) === value);
}

function valueAt(payload: Payload, path: string): unknown {
  return path.split(".").reduce<unknown>((value, key) => (isObject(value) ? value[key] : undefined), payload);
}

/** Sets one field and returns its previous value. The parent object must exist: a typo should fail loudly. */
function applyChange(fixture: string, payload: Payload, change: FieldChange): unknown {
  const keys = change.path.split(".");
  const last = keys.pop()!;
  const parent = keys.length ? valueAt(payload, keys.join(".")) : payload;
  if (!isObject(parent)) throw new Error(`${fixture}: ${change.path} has no parent object to change`);
  const previous = parent[last];
  parent[last] = "copyFrom" in change ? structuredClone(valueAt(payload, change.copyFrom)) : change.value;
  return previous;
}

function isObject(value: unknown): value is Payload {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

interface Picked {
  spec: FixtureSpec;
  event: string;
  position: number;
  previous: unknown[];
}

function readme(version: string, picked: Picked[]): string {
  const real = picked.filter(({ spec }) => !spec.changes);
  const derived = picked.filter(({ spec }) => spec.changes);
  const lines = [
    "# GitHub webhook fixtures",
    "",
    "Generated by `npx tsx scripts/extract-github-fixtures.ts` from",
    `\`${EXAMPLES_PACKAGE}@${version}\` (\`api.github.com/index.json\`). Do not edit the JSON files by hand:`,
    "change the table in the script and rerun it.",
    "",
    "Each file is one delivery body, named `<event>.<variant>.json`; the part before the first dot is the",
    "`X-GitHub-Event` header. Load them with `loadGitHubFixture(name)` from `src/sources/github/fixtures.ts`",
    "(re-exported by `tests/fixtures/github/index.ts`).",
    "",
    "## Real deliveries",
    "",
    "| fixture | source example | note |",
    "|---|---|---|",
    ...real.map(
      ({ spec, event, position }) =>
        `| \`${spec.name}\` | ${source(event, position, spec)} | ${spec.note ?? ""} |`,
    ),
    "",
    "## Derived deliveries",
    "",
    "Copied from the closest real example, with only these fields changed.",
    "",
    ...derived.flatMap(({ spec, event, position, previous }) => [
      `### \`${spec.name}\``,
      "",
      `From ${source(event, position, spec)}: ${spec.note ?? ""}.`,
      "",
      ...(spec.changes ?? []).map((change, i) => `- ${describeChange(change, previous[i])}`),
      "",
    ]),
  ];
  return `${lines.join("\n").trimEnd()}\n`;
}

function source(event: string, position: number, spec: FixtureSpec): string {
  const rule = Object.entries(spec.where)
    .map(([path, value]) => `\`${path}\` = \`${JSON.stringify(value)}\``)
    .join(", ");
  return `\`${event}\` examples[${position}]${rule ? ` (first with ${rule})` : " (the first)"}`;
}

function describeChange(change: FieldChange, previous: unknown): string {
  const after =
    "copyFrom" in change ? `a copy of \`${change.copyFrom}\`` : `\`${JSON.stringify(change.value)}\``;
  const before = previous === undefined ? "absent" : `\`${JSON.stringify(previous)}\``;
  return `\`${change.path}\`: ${before} → ${after}`;
}

main();
