/**
 * `/release preview repo [bump] [version] [prerelease] [dry-run]`: cut a release in two steps.
 *
 * The preview (ephemeral) reads the commits since the last version tag, proposes the next version and the
 * notes, and pins the branch's head commit. It is saved, and its buttons carry its id:
 * - `release:confirm:<id>` (needs `release`): re-checks against GitHub (checkReleaseConfirmable), then
 *   creates the GitHub release (the tag at the pinned commit, the notes as previewed), records it and
 *   announces it in the channel through the outbox (so a Discord hiccup delays the announcement instead of
 *   losing it). A dry-run preview's Confirm says what would happen and writes nothing. A double click
 *   publishes once (settleReleasePreview).
 * - `release:cancel:<id>`: drops the preview.
 * - `release:refresh:<id>` (needs `release`): offered when the preview went stale (the branch moved, it
 *   expired); plans again with the same release, prerelease identifier and dry-run choice, keeping at least
 *   the version shown before (a version asked for explicitly stays).
 * Refusals (a UserError) change nothing and are audited as refused by the dispatcher.
 */
import { randomBytes } from "node:crypto";
import type { APIApplicationCommandOptionChoice } from "discord-api-types/v10";
import { ApplicationCommandOptionType } from "discord-api-types/v10";
import type { ReleaseConfig } from "../../config/config-file.js";
import { requireGitHub } from "../../deploy/deploy-service.js";
import { BUMPS, type Bump } from "../../deploy/next-version.js";
import {
  checkReleaseConfirmable,
  planRelease,
  type ReleasePlan,
  type ReleaseRequest,
} from "../../deploy/release-planner.js";
import { compareSemVer, parseSemVer } from "../../deploy/semver.js";
import { UserError } from "../../errors.js";
import { planPost } from "../../pipeline/plan-messages.js";
import { enqueueMessages } from "../../store/outbox-repository.js";
import {
  findReleasePreview,
  insertRelease,
  reopenReleasePreview,
  saveReleasePreview,
  settleReleasePreview,
  type ReleasePreviewRow,
} from "../../store/release-repository.js";
import { explainingApiFailures } from "../api-failure.js";
import { inlineCode } from "../render/message.js";
import {
  refreshButtons,
  renderReleaseAnnouncement,
  renderReleasePreview,
} from "../render/release-preview.js";
import type { Command, CommandContext } from "./command.js";

/** How long Confirm stays possible: long enough to read the notes, short enough that they stay true. */
export const PREVIEW_TTL_MS = 30 * 60 * 1000;
const AUTOCOMPLETE_CHOICES = 25;

export const command: Command = {
  data: {
    name: "release",
    description: "Cut a release: SemVer tag and GitHub release with a changelog",
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "preview",
        description: "Preview the next release (version, changelog, Linear issues) with Confirm / Cancel",
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: "repo",
            description: "The release, as named under `releases` in the config (the repo by default)",
            required: true,
            autocomplete: true,
            max_length: 140,
          },
          {
            type: ApplicationCommandOptionType.String,
            name: "bump",
            description: "auto (from Conventional Commits, the default), major, minor or patch",
            choices: BUMPS.map((bump) => ({ name: bump, value: bump })),
          },
          {
            type: ApplicationCommandOptionType.String,
            name: "version",
            description: "An explicit version instead of a bump, e.g. 2.0.0",
            max_length: 64,
          },
          {
            type: ApplicationCommandOptionType.String,
            name: "prerelease",
            description: "Make a prerelease with this identifier, e.g. rc or beta (1.3.0-rc.1)",
            max_length: 20,
          },
          {
            type: ApplicationCommandOptionType.Boolean,
            name: "dry-run",
            description: "Confirm shows what would happen and writes nothing",
          },
        ],
      },
    ],
  },
  access: {
    default: "release",
    subcommands: { preview: "release", confirm: "release", refresh: "release", cancel: null },
  },
  ephemeral: true,

  async execute(context) {
    if (context.options.subcommand !== "preview") throw new UserError("Use /release preview.");
    const release = findRelease(context, context.options.values.get("repo"));
    const request = readRequest(context);
    const dryRun = context.options.values.get("dry-run") === true;
    const plan = await planFor(context, release, request);
    const row = await savePreview(context, plan, dryRun);
    await context.respond.reply(renderReleasePreview(previewView(row, plan)), { ephemeral: true });
  },

  /** The `releases` entries whose name or repository contains what has been typed. */
  async autocomplete({ options, services }): Promise<APIApplicationCommandOptionChoice[]> {
    const typed = (options.focused?.value ?? "").trim().toLowerCase();
    return services.config.releases
      .filter((release) => `${release.name} ${release.repo}`.toLowerCase().includes(typed))
      .map((release) => release.name)
      .sort()
      .slice(0, AUTOCOMPLETE_CHOICES)
      .map((name) => ({ name, value: name }));
  },

  async component(context) {
    const [, action = "", previewId = ""] = context.customId.split(":");
    if (action === "confirm") return confirm(context, previewId);
    if (action === "cancel") return cancel(context, previewId);
    if (action === "refresh") return refresh(context, previewId);
    throw new UserError("This button is no longer supported: run /release preview again.");
  },
};

function findRelease(context: CommandContext, value: unknown): ReleaseConfig {
  const releases = context.services.config.releases;
  const typed = String(value ?? "").trim();
  const wanted = typed.toLowerCase();
  const found =
    releases.find((release) => release.name.toLowerCase() === wanted) ??
    // The repo works too when exactly one entry releases it (monorepo packages need their name).
    single(releases.filter((release) => release.repo.toLowerCase() === wanted));
  if (found) return found;
  if (releases.length === 0) {
    throw new UserError(
      "No releases are configured: add the repository under `releases` in the config file (see the README).",
    );
  }
  const names = releases.map((release) => `\`${release.name}\``).join(", ");
  throw new UserError(
    `No release is configured as ${inlineCode(typed)}: choose one of ${names}, or add it under \`releases\` in the config file.`,
  );
}

function single<T>(items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}

function readRequest(context: CommandContext): ReleaseRequest {
  const values = context.options.values;
  const bump = String(values.get("bump") ?? "auto") as Bump;
  if (!BUMPS.includes(bump)) throw new UserError("bump is one of auto, major, minor or patch.");
  const version = values.get("version");
  const prerelease = values.get("prerelease");
  if (version !== undefined && bump !== "auto") {
    throw new UserError("Give either `version` or `bump`, not both: an explicit version needs no bump.");
  }
  return {
    bump,
    ...(version !== undefined ? { version: String(version) } : {}),
    ...(prerelease !== undefined && String(prerelease).trim()
      ? { prerelease: String(prerelease).trim() }
      : {}),
  };
}

function planFor(
  context: CommandContext,
  release: ReleaseConfig,
  request: ReleaseRequest,
): Promise<ReleasePlan> {
  const github = requireGitHub(context.services);
  return explainingApiFailures("GitHub", context.logger, async () =>
    planRelease(github, release, request, { ...(await linearTeams(context)) }),
  );
}

/**
 * The Linear team keys, so that keys in pull request branches are recognised; when Linear is not configured
 * or does not answer, the preview still works, counting branch keys of the teams the release names anyway.
 */
async function linearTeams(context: CommandContext): Promise<{ linearTeams?: string[] }> {
  const linear = context.services.linear;
  if (!linear) return {};
  try {
    return { linearTeams: (await linear.listTeams()).map((team) => team.key) };
  } catch (error) {
    context.logger.warn({ err: error }, "Could not list Linear teams for the release preview");
    return {};
  }
}

async function savePreview(
  context: CommandContext,
  plan: ReleasePlan,
  dryRun: boolean,
): Promise<ReleasePreviewRow> {
  const now = context.services.clock();
  const row: ReleasePreviewRow = {
    id: randomBytes(12).toString("base64url"),
    release_name: plan.releaseName,
    repo: plan.repo,
    branch: plan.branch,
    version: plan.version,
    tag: plan.tag,
    target_sha: plan.targetSha,
    base_tag: plan.baseTag ?? null,
    prerelease: plan.prerelease ? 1 : 0,
    dry_run: dryRun ? 1 : 0,
    notes: plan.notes,
    linear_keys: JSON.stringify(plan.linearKeys),
    created_by: context.user.id,
    created_at: now,
    expires_at: now + PREVIEW_TTL_MS,
    status: "pending",
  };
  await saveReleasePreview(context.services.db, row);
  return row;
}

function previewView(row: ReleasePreviewRow, plan: ReleasePlan) {
  return {
    id: row.id,
    releaseName: plan.releaseName,
    repo: plan.repo,
    repoUrl: plan.repoUrl,
    branch: plan.branch,
    version: plan.version,
    tag: plan.tag,
    targetSha: plan.targetSha,
    ...(plan.baseTag ? { baseTag: plan.baseTag } : {}),
    prerelease: plan.prerelease,
    dryRun: row.dry_run === 1,
    reason: plan.reason,
    commitCount: plan.commits.length,
    truncated: plan.truncated,
    notes: plan.notes,
    linearKeys: plan.linearKeys,
    expiresAt: row.expires_at,
  };
}

async function loadPreview(context: CommandContext, previewId: string): Promise<ReleasePreviewRow> {
  const preview = previewId ? await findReleasePreview(context.services.db, previewId) : undefined;
  if (!preview) throw new UserError("This release preview is no longer known: run /release preview again.");
  // The audit log records which release the button was about (the dispatcher writes these options).
  context.options.values.set("release", preview.release_name);
  context.options.values.set("tag", preview.tag);
  if (preview.dry_run === 1) context.options.values.set("dry-run", true);
  return preview;
}

function alreadySettled(preview: ReleasePreviewRow): UserError {
  return new UserError(
    preview.status === "confirmed"
      ? `This preview was already confirmed: ${preview.tag} is released (or being released).`
      : "This preview was cancelled: run /release preview again.",
  );
}

async function confirm(context: CommandContext, previewId: string): Promise<void> {
  const preview = await loadPreview(context, previewId);
  if (preview.status !== "pending") throw alreadySettled(preview);
  const { services } = context;
  const release = configuredRelease(context, preview);
  const github = requireGitHub(context.services);

  if (services.clock() > preview.expires_at) {
    await context.respond.updateMessage({ components: refreshButtons(preview.id) });
    throw new UserError(
      "This preview expired: its notes may be out of date. Press New preview to see them again.",
    );
  }
  const check = await explainingApiFailures("GitHub", context.logger, () =>
    checkReleaseConfirmable(github, {
      repo: preview.repo,
      branch: preview.branch,
      version: preview.version,
      tag: preview.tag,
      targetSha: preview.target_sha,
      baseTag: preview.base_tag,
    }),
  );
  if (!check.confirmable) {
    // The stale preview loses its Confirm button; a fresh one is a click away.
    await context.respond.updateMessage({ components: refreshButtons(preview.id) });
    throw new UserError(`Not released: ${check.reason}`);
  }

  if (preview.dry_run === 1) {
    // Not even the preview is settled: a dry run leaves the store as it found it.
    await context.respond.updateMessage({
      content: `**Dry run, nothing written.** Confirm would create tag \`${preview.tag}\` at \`${preview.target_sha.slice(0, 7)}\` in ${preview.repo}, publish a ${preview.prerelease ? "prerelease" : "release"} with the notes below, record it and announce it in this channel.`,
      components: [],
    });
    return;
  }

  if (!(await settleReleasePreview(services.db, preview.id, "confirmed"))) throw alreadySettled(preview);
  const created = await explainingApiFailures("GitHub", context.logger, () =>
    github.createRelease(preview.repo, {
      tag: preview.tag,
      targetSha: preview.target_sha,
      name: preview.tag,
      body: preview.notes,
      prerelease: preview.prerelease === 1,
    }),
  ).catch(async (error: unknown) => {
    // Nothing was published: let the user press Confirm again once the cause is fixed.
    await reopenReleasePreview(services.db, preview.id);
    throw error;
  });

  const now = services.clock();
  const announcement = renderReleaseAnnouncement({
    releaseName: release?.name ?? preview.release_name,
    repo: preview.repo,
    tag: preview.tag,
    prerelease: preview.prerelease === 1,
    url: created.url,
    targetSha: preview.target_sha,
    notes: preview.notes,
    releasedBy: context.user.id,
    at: now,
  });
  // The channel the release was confirmed in; a DM has none, then the default channel if there is one.
  const channel = context.guildId ? context.channelId : services.defaultChannel;
  await services.db.transaction().execute(async (trx) => {
    await insertRelease(trx, {
      release_name: preview.release_name,
      repo: preview.repo,
      version: preview.version,
      tag: preview.tag,
      target_sha: preview.target_sha,
      prerelease: preview.prerelease,
      notes: preview.notes,
      url: created.url,
      linear_keys: preview.linear_keys,
      created_by: context.user.id,
      created_by_name: context.user.username,
      created_at: now,
    });
    if (channel) {
      await enqueueMessages(trx, [planPost({ channel, route: "release", message: announcement, now })]);
    }
  });
  services.onEnqueued?.();
  context.logger.info({ repo: preview.repo, tag: preview.tag, sha: preview.target_sha }, "Release created");
  await context.respond.updateMessage({
    content: `✅ Released [${preview.tag}](${created.url})${channel ? `: announced in <#${channel}>.` : "."}`,
    components: [],
  });
}

/** The config entry the preview was made from; undefined when it has since been removed from the config. */
function configuredRelease(context: CommandContext, preview: ReleasePreviewRow): ReleaseConfig | undefined {
  return context.services.config.releases.find((release) => release.name === preview.release_name);
}

async function cancel(context: CommandContext, previewId: string): Promise<void> {
  const preview = await loadPreview(context, previewId);
  if (!(await settleReleasePreview(context.services.db, preview.id, "cancelled")))
    throw alreadySettled(preview);
  await context.respond.updateMessage({
    content: "Release preview cancelled: nothing was released.",
    components: [],
  });
}

async function refresh(context: CommandContext, previewId: string): Promise<void> {
  const old = await loadPreview(context, previewId);
  if (old.status === "confirmed") throw alreadySettled(old);
  const release = configuredRelease(context, old);
  if (!release) {
    throw new UserError(
      `Release "${old.release_name}" is no longer in the config file: run /release preview with one that is.`,
    );
  }
  const previous = parseSemVer(old.version);
  const prereleaseId = previous?.prerelease[0];
  const request: ReleaseRequest = {
    bump: "auto",
    ...(prereleaseId && !/^\d+$/.test(prereleaseId) ? { prerelease: prereleaseId } : {}),
  };
  let next = await planFor(context, release, request).catch(() => undefined);
  const nextVersion = next ? parseSemVer(next.version) : undefined;
  if (!next || !nextVersion || (previous && compareSemVer(nextVersion, previous) < 0)) {
    // The earlier preview showed a higher version than auto gives (it was asked for): keep it, if still valid.
    next = await planFor(context, release, { bump: "auto", version: old.version });
  }
  const row = await savePreview(context, next, old.dry_run === 1);
  await settleReleasePreview(context.services.db, old.id, "cancelled");
  await context.respond.updateMessage(renderReleasePreview(previewView(row, next)));
}
