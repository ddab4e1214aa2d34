/**
 * /release as a team meets it: a running Switchboard taking signed HTTP interactions, the real Octokit
 * client against the fake GitHub (commits, tags, compare, releases), answers and the channel announcement
 * read at the fake Discord. Each test works on its own repository so they cannot see each other's tags.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_CHANNEL_ID } from "../fakes/discord-gateway.js";
import { startFakeDiscord } from "../fakes/discord-server.js";
import type { FakeDiscord } from "../fakes/discord-server.js";
import { startFakeGitHub } from "../fakes/github-server.js";
import type { FakeGitHub } from "../fakes/github-server.js";
import { button, chatInput, generateInteractionKeys, invokeOverHttp } from "../support/discord-bot-driver.js";
import type { InvocationResult, InvokeOptions, OptionInput } from "../support/discord-bot-driver.js";
import { TEST_DISCORD_TOKEN, startTestSwitchboard } from "../support/switchboard-harness.js";
import type { TestSwitchboard } from "../support/switchboard-harness.js";

const RELEASE_ROLE = "400000000000000001";
const releaser = { user: { id: "200000000000000010", username: "rel" }, roles: [RELEASE_ROLE] };
const member = { user: { id: "200000000000000011", username: "mem" }, roles: [] };

const CONFIG = `
discord:
  roles:
    release: ["${RELEASE_ROLE}"]
releases:
  - repo: acme/api
  - repo: acme/pre
  - repo: acme/tagged
  - repo: acme/newer
  - repo: acme/moved
  - repo: acme/dry
  - repo: acme/semver
  - repo: acme/still
  - repo: acme/first
  - repo: acme/roles
  - repo: acme/fresh
  - repo: acme/linked
  - repo: acme/many
  - name: sdk
    repo: acme/mono
    tag_prefix: sdk-v
    path: packages/sdk
`;

const keys = generateInteractionKeys();
let discord: FakeDiscord;
let github: FakeGitHub;
let switchboard: TestSwitchboard;
let endpoint: string;

beforeAll(async () => {
  discord = await startFakeDiscord({ token: TEST_DISCORD_TOKEN });
  github = await startFakeGitHub();
  switchboard = await startTestSwitchboard({
    role: "all",
    env: {
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_TOKEN: TEST_DISCORD_TOKEN,
      DISCORD_API_URL: discord.url,
      GITHUB_TOKEN: github.token,
      GITHUB_API_URL: github.url,
    },
    config: CONFIG,
  });
  endpoint = `${switchboard.url}/discord/interactions`;
  await discord.gateway.waitForSession();
});

afterAll(async () => {
  await switchboard?.close();
  await github?.close();
  await discord?.close();
});

type Who = typeof releaser;

function preview(options: Record<string, OptionInput>, who: Who = releaser): Promise<InvocationResult> {
  return invokeOverHttp(
    endpoint,
    discord,
    chatInput("release", { ...who, subcommand: "preview", options }),
    keys.privateKey,
  );
}

function press(
  customId: string,
  who: Who = releaser,
  options: InvokeOptions = {},
): Promise<InvocationResult> {
  return invokeOverHttp(endpoint, discord, button(customId, who), keys.privateKey, options);
}

interface Embed {
  title?: string;
  description?: string;
  fields?: Array<{ name: string; value: string }>;
}

function embedOf(answer: InvocationResult): Embed {
  return (answer.data.embeds as Embed[])[0]!;
}

function field(answer: InvocationResult, name: string): string | undefined {
  return embedOf(answer).fields?.find((candidate) => candidate.name === name)?.value;
}

function buttonIds(answer: InvocationResult): string[] {
  const rows = (answer.data.components ?? []) as Array<{ components: Array<{ custom_id: string }> }>;
  return rows.flatMap((row) => row.components.map((component) => component.custom_id));
}

function previewId(answer: InvocationResult): string {
  const confirm = buttonIds(answer).find((id) => id.startsWith("release:confirm:"));
  expect(confirm, `no Confirm button in ${JSON.stringify(answer.data)}`).toBeDefined();
  return confirm!.split(":")[2]!;
}

/** A repository with v1.2.0 released and a feature and a fix since; answers the head sha. */
function seedRepo(repo: string): string {
  const [released] = github.addCommits(repo, "main", [{ message: "feat: first", author: "grace" }]);
  github.tag(repo, "v1.2.0", released);
  const [, head] = github.addCommits(repo, "main", [
    { message: "feat(api): webhooks (#12)\n\nCloses ENG-7", author: "grace" },
    { message: "fix: typo in the README", author: "linus" },
  ]);
  return head!;
}

async function releasesRecorded(repo: string) {
  return switchboard.store.db.selectFrom("releases").selectAll().where("repo", "=", repo).execute();
}

async function outboxCount(): Promise<number> {
  return (await switchboard.store.db.selectFrom("outbox").select("id").execute()).length;
}

describe("/release preview then confirm", () => {
  it("previews the next version with notes, Linear issues and the pinned commit, then publishes exactly that", async () => {
    const head = seedRepo("acme/api");

    const shown = await preview({ repo: "acme/api" });
    expect(shown.ephemeral).toBe(true);
    expect(embedOf(shown).title).toBe("Release preview: acme/api v1.3.0");
    expect(field(shown, "Version")).toContain("minor (auto: a feature)");
    expect(field(shown, "Linear issues")).toBe("ENG-7");
    expect(field(shown, "Pinned commit")).toContain(head.slice(0, 7));
    expect(embedOf(shown).description).toContain(
      "- **api:** webhooks ([#12](https://github.com/acme/api/pull/12)) by @grace",
    );
    const id = previewId(shown);
    expect(buttonIds(shown)).toEqual([`release:confirm:${id}`, `release:cancel:${id}`]);

    const done = await press(`release:confirm:${id}`);
    expect(done.content).toContain("Released [v1.3.0]");
    expect(done.data.components).toEqual([]);

    const [created, ...more] = github.releases("acme/api");
    expect(more).toEqual([]);
    const stored = await switchboard.store.db
      .selectFrom("release_previews")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(created).toMatchObject({
      tag: "v1.3.0",
      name: "v1.3.0",
      prerelease: false,
      targetCommitish: head,
    });
    expect(created!.body).toBe(stored.notes);
    expect(created!.body).toContain("### Features");
    expect(created!.body).toContain(
      "**Full changelog:** https://github.com/acme/api/compare/v1.2.0...v1.3.0",
    );

    const [recorded] = await releasesRecorded("acme/api");
    expect(recorded).toMatchObject({
      tag: "v1.3.0",
      version: "1.3.0",
      target_sha: head,
      linear_keys: '["ENG-7"]',
      created_by: releaser.user.id,
    });

    await switchboard.waitFor(() =>
      discord.messages.some((message) => message.embeds[0]?.title?.includes("Release v1.3.0 of acme/api")),
    );
    const announcement = discord.messages.find((message) => message.embeds[0]?.title?.includes("v1.3.0"))!;
    expect(announcement.channelId).toBe(FAKE_CHANNEL_ID);
    expect(announcement.allowed_mentions).toEqual({ parse: [] });

    const audit = await switchboard.store.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "release confirm")
      .execute();
    expect(audit).toMatchObject([{ outcome: "ok", user_id: releaser.user.id, capability: "release" }]);
    expect(JSON.parse(audit[0]!.options)).toMatchObject({ tag: "v1.3.0" });

    // A second click on the same Confirm publishes nothing more.
    const again = await press(`release:confirm:${id}`);
    expect(again.content).toContain("already confirmed");
    expect(github.releases("acme/api")).toHaveLength(1);
  });

  it("names the Linear issues of the pull requests too, and credits each change to its pull request's author", async () => {
    seedRepo("acme/linked");
    github.addCommits("acme/linked", "main", [
      { message: "fix: token refresh (#13)", author: "grace" },
      // A merge commit's author is whoever merged; the change is credited to the pull request's author.
      { message: "Merge pull request #14 from acme/retries\n\nfix: retry budget", author: "linus" },
    ]);
    github.addPullRequest("acme/linked", {
      number: 13,
      title: "fix: token refresh",
      body: "Fixes ENG-9, and OPS-4 while at it.",
      head: { ref: "grace/eng-10-token-refresh", sha: "a".repeat(40) },
      state: "closed",
      merged: true,
    });
    github.addPullRequest("acme/linked", {
      number: 14,
      title: "fix: retry budget",
      author: "margaret",
      // Upper-cased, `release-2` looks like a key; no team named RELEASE, so it is not one.
      head: { ref: "linus/release-2-retries", sha: "b".repeat(40) },
      state: "closed",
      merged: true,
    });

    const shown = await preview({ repo: "acme/linked" });
    expect(field(shown, "Linear issues")).toBe("ENG-7, ENG-9, OPS-4, ENG-10");
    expect(embedOf(shown).description).toContain("ENG-7, ENG-9, OPS-4, ENG-10");
    expect(embedOf(shown).description).toContain(
      "- retry budget ([#14](https://github.com/acme/linked/pull/14)) by @margaret",
    );

    await press(`release:confirm:${previewId(shown)}`);
    expect(github.releases("acme/linked")[0]!.body).toContain(
      "### Linear issues\n\nENG-7, ENG-9, OPS-4, ENG-10",
    );
    const [recorded] = await releasesRecorded("acme/linked");
    expect(recorded!.linear_keys).toBe('["ENG-7","ENG-9","OPS-4","ENG-10"]');
  });

  it("finds the latest version among more tags than GitHub lists on one page", async () => {
    const [released] = github.addCommits("acme/many", "main", [{ message: "feat: one", author: "grace" }]);
    // The fake lists the newest tag first, so v2.4.0 comes after the 120 older-looking ones.
    github.tag("acme/many", "v2.4.0", released);
    for (let patch = 0; patch < 120; patch++) github.tag("acme/many", `v1.0.${patch}`, released);
    github.addCommits("acme/many", "main", [{ message: "fix: two", author: "grace" }]);

    const shown = await preview({ repo: "acme/many" });
    expect(embedOf(shown).title).toBe("Release preview: acme/many v2.4.1");
    expect(field(shown, "Since")).toBe("`v2.4.0`");
  });

  it("cuts numbered prereleases and marks them as such", async () => {
    seedRepo("acme/pre");
    const first = await preview({ repo: "acme/pre", prerelease: "rc" });
    expect(embedOf(first).title).toBe("Release preview: acme/pre v1.3.0-rc.1");
    await press(`release:confirm:${previewId(first)}`);

    github.addCommits("acme/pre", "main", [{ message: "fix: rc feedback", author: "grace" }]);
    const second = await preview({ repo: "acme/pre", prerelease: "rc" });
    expect(embedOf(second).title).toBe("Release preview: acme/pre v1.3.0-rc.2");
    expect(embedOf(second).description).toContain("rc feedback");
    expect(embedOf(second).description).not.toContain("webhooks");
    await press(`release:confirm:${previewId(second)}`);

    const stable = await preview({ repo: "acme/pre" });
    expect(embedOf(stable).title).toBe("Release preview: acme/pre v1.3.0");
    // The stable notes cover everything since the last stable release.
    expect(embedOf(stable).description).toContain("webhooks");

    expect(github.releases("acme/pre").map((release) => [release.tag, release.prerelease])).toEqual([
      ["v1.3.0-rc.1", true],
      ["v1.3.0-rc.2", true],
    ]);
  });

  it("releases a monorepo package from the commits touching its path, under its own tag prefix", async () => {
    const [root] = github.addCommits("acme/mono", "main", [
      { message: "feat(sdk): client", files: ["packages/sdk/a.ts"] },
    ]);
    github.tag("acme/mono", "sdk-v0.4.0", root);
    github.tag("acme/mono", "v9.0.0", root);
    github.addCommits("acme/mono", "main", [
      { message: "feat(web): landing page", files: ["packages/web/index.ts"] },
      { message: "feat(sdk): retries (#30)", author: "grace", files: ["packages/sdk/retry.ts"] },
    ]);

    const shown = await preview({ repo: "sdk" });
    // 0.x: a feature is a patch.
    expect(embedOf(shown).title).toBe("Release preview: sdk sdk-v0.4.1");
    expect(embedOf(shown).description).toContain("retries");
    expect(embedOf(shown).description).not.toContain("landing page");
  });

  it("proposes the configured first version when the repository has no tag yet", async () => {
    github.addCommits("acme/first", "main", [
      { message: "feat: everything", author: "grace" },
      { message: "Merge branch 'main' into x", author: "grace" },
    ]);
    const shown = await preview({ repo: "acme/first" });
    expect(embedOf(shown).title).toBe("Release preview: acme/first v0.1.0");
    expect(field(shown, "Since")).toBe("the first commit");
    expect(field(shown, "Commits")).toBe("1");
    expect(embedOf(shown).description).toContain("https://github.com/acme/first/commits/v0.1.0");
  });

  it("cancels a preview, after which it cannot be confirmed", async () => {
    seedRepo("acme/fresh");
    const shown = await preview({ repo: "acme/fresh" });
    const id = previewId(shown);
    const cancelled = await press(`release:cancel:${id}`, member);
    expect(cancelled.content).toContain("cancelled");
    const late = await press(`release:confirm:${id}`);
    expect(late.content).toContain("cancelled");
    expect(github.releases("acme/fresh")).toEqual([]);
  });
});

describe("/release refusals change nothing", () => {
  it("refuses when the tag appeared since the preview", async () => {
    const head = seedRepo("acme/tagged");
    const id = previewId(await preview({ repo: "acme/tagged" }));
    github.tag("acme/tagged", "v1.3.0", head);

    const refused = await press(`release:confirm:${id}`, releaser, { followUps: 1 });
    expect(refused.followUps[0]!.content).toContain("Tag v1.3.0 already exists");
    expect(github.releases("acme/tagged")).toEqual([]);
    expect(await releasesRecorded("acme/tagged")).toEqual([]);
  });

  it("refuses a version that is not greater than the latest, at preview and at confirm", async () => {
    seedRepo("acme/newer");
    const low = await preview({ repo: "acme/newer", version: "1.1.0" });
    expect(low.content).toContain("Version 1.1.0 is not greater than the latest release 1.2.0");

    const id = previewId(await preview({ repo: "acme/newer" }));
    github.tag("acme/newer", "v1.4.0");
    const refused = await press(`release:confirm:${id}`, releaser, { followUps: 1 });
    expect(refused.followUps[0]!.content).toContain("not greater than the latest release v1.4.0");
    expect(github.releases("acme/newer")).toEqual([]);
  });

  it("refuses a version that is not valid SemVer", async () => {
    seedRepo("acme/semver");
    const refused = await preview({ repo: "acme/semver", version: "1.3" });
    expect(refused.content).toContain("`1.3` is not a valid SemVer version");
    // The tag prefix typed along is understood.
    const prefixed = await preview({ repo: "acme/semver", version: "v2.0.0" });
    expect(embedOf(prefixed).title).toBe("Release preview: acme/semver v2.0.0");
  });

  it("refuses when there is nothing to release", async () => {
    seedRepo("acme/still");
    github.tag("acme/still", "v1.3.0");
    const refused = await preview({ repo: "acme/still" });
    expect(refused.content).toBe("Nothing to release in acme/still: no commits on `main` since v1.3.0.");
    const previews = await switchboard.store.db
      .selectFrom("release_previews")
      .selectAll()
      .where("repo", "=", "acme/still")
      .execute();
    expect(previews).toEqual([]);
  });

  it("refuses when the branch moved, and offers a fresh preview that then releases the new head", async () => {
    seedRepo("acme/moved");
    const id = previewId(await preview({ repo: "acme/moved" }));
    const [newHead] = github.addCommits("acme/moved", "main", [
      { message: "feat!: new auth", author: "grace" },
    ]);

    const refused = await press(`release:confirm:${id}`, releaser, { followUps: 1 });
    expect(refused.followUps[0]!.content).toContain("`main` moved since the preview");
    expect(buttonIds(refused)).toEqual([`release:refresh:${id}`]);
    expect(github.releases("acme/moved")).toEqual([]);

    const fresh = await press(`release:refresh:${id}`);
    expect(embedOf(fresh).title).toBe("Release preview: acme/moved v2.0.0");
    expect(field(fresh, "Pinned commit")).toContain(newHead!.slice(0, 7));
    expect(embedOf(fresh).description).toContain("**Breaking changes**\n- new auth");

    await press(`release:confirm:${previewId(fresh)}`);
    expect(github.releases("acme/moved")).toMatchObject([{ tag: "v2.0.0", targetCommitish: newHead }]);
  });

  it("refuses people without the release role, to preview and to confirm", async () => {
    seedRepo("acme/roles");
    const denied = await preview({ repo: "acme/roles" }, member);
    expect(denied.content).toContain("This needs the `release` capability");

    const id = previewId(await preview({ repo: "acme/roles" }));
    const pressed = await press(`release:confirm:${id}`, member);
    expect(pressed.content).toContain("This needs the `release` capability");
    expect(github.releases("acme/roles")).toEqual([]);
    expect(await releasesRecorded("acme/roles")).toEqual([]);
  });

  it("writes nothing on a dry run, and says what would happen", async () => {
    seedRepo("acme/dry");
    const shown = await preview({ repo: "acme/dry", "dry-run": true });
    expect(shown.content).toContain("Dry run");
    const before = await outboxCount();

    const done = await press(`release:confirm:${previewId(shown)}`);
    expect(done.content).toContain("Dry run, nothing written");
    expect(done.content).toContain("v1.3.0");
    expect(github.releases("acme/dry")).toEqual([]);
    const writes = github.requests.filter(
      (request) => request.method !== "GET" && request.url.includes("/repos/acme/dry/"),
    );
    expect(writes).toEqual([]);
    expect(await releasesRecorded("acme/dry")).toEqual([]);
    expect(await outboxCount()).toBe(before);

    // The audit log tells a dry run from a release.
    const audited = await switchboard.store.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "release confirm")
      .execute();
    const options = audited.map((row) => JSON.parse(row.options) as Record<string, unknown>);
    expect(options.filter((logged) => logged.release === "acme/dry")).toEqual([
      expect.objectContaining({ tag: "v1.3.0", "dry-run": true }),
    ]);
  });
});
