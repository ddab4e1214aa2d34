/**
 * Pure: what /release shows. The preview (ephemeral, with Confirm / Cancel), and the announcement posted to
 * the channel once the release exists. Both show the notes exactly as they were pinned in the preview,
 * sized for an embed (fitNotesForDiscord). Nothing here mentions anyone.
 */
import type { APIActionRowComponent, APIButtonComponent } from "discord-api-types/v10";
import { ButtonStyle, ComponentType } from "discord-api-types/v10";
import { fitNotesForDiscord } from "../../deploy/changelog.js";
import type { DiscordMessage, EmbedField } from "./message.js";
import { COLORS, LIMITS, NO_MENTIONS, fitMessage } from "./message.js";

/** What a preview shows; the preview row plus what was known when it was planned. */
export interface ReleasePreviewView {
  id: string;
  releaseName: string;
  repo: string;
  /** The repository's web URL, for the commit link. */
  repoUrl: string;
  branch: string;
  version: string;
  tag: string;
  targetSha: string;
  baseTag?: string;
  prerelease: boolean;
  dryRun: boolean;
  /** How the version was chosen. */
  reason: string;
  commitCount: number;
  /** GitHub listed fewer commits than the range holds. */
  truncated: boolean;
  notes: string;
  linearKeys: string[];
  /** Epoch ms. */
  expiresAt: number;
}

export type ReleaseButtons = APIActionRowComponent<APIButtonComponent>;

/** The custom ids of /release's buttons: `release:<action>:<previewId>`. */
export function releaseButtonId(action: "confirm" | "cancel" | "refresh", previewId: string): string {
  return `release:${action}:${previewId}`;
}

export function renderReleasePreview(view: ReleasePreviewView): DiscordMessage & {
  components: ReleaseButtons[];
} {
  const fields: EmbedField[] = [
    { name: "Version", value: `\`${view.tag}\`: ${view.reason}`, inline: true },
    { name: "Since", value: view.baseTag ? `\`${view.baseTag}\`` : "the first commit", inline: true },
    {
      name: "Pinned commit",
      value: `[\`${view.targetSha.slice(0, 7)}\`](${view.repoUrl}/commit/${view.targetSha}) on \`${view.branch}\``,
      inline: true,
    },
    {
      name: "Commits",
      value: `${view.commitCount}${view.truncated ? " (GitHub lists at most 250: older ones are not in the notes)" : ""}`,
      inline: true,
    },
    { name: "Prerelease", value: view.prerelease ? "yes" : "no", inline: true },
    {
      name: "Linear issues",
      value: view.linearKeys.length > 0 ? view.linearKeys.join(", ") : "none named",
    },
  ];
  const expires = Math.floor(view.expiresAt / 1000);
  const message = fitMessage({
    content: view.dryRun
      ? "**Dry run**: Confirm shows what would happen and writes nothing."
      : `Confirm creates tag \`${view.tag}\` at the pinned commit and publishes the release with these notes.`,
    embeds: [
      {
        title: `Release preview: ${view.releaseName} ${view.tag}`,
        description: fitNotesForDiscord(view.notes, LIMITS.embedDescription),
        color: view.dryRun ? COLORS.neutral : COLORS.info,
        fields,
        footer: { text: `${view.repo} · preview expires` },
        timestamp: new Date(expires * 1000).toISOString(),
      },
    ],
    allowed_mentions: NO_MENTIONS,
  });
  return {
    ...message,
    components: [
      buttonRow([
        {
          type: ComponentType.Button,
          style: ButtonStyle.Success,
          custom_id: releaseButtonId("confirm", view.id),
          // Discord caps button labels at 80 characters.
          label: (view.dryRun ? `Dry run ${view.tag}` : `Release ${view.tag}`).slice(0, 80),
        },
        {
          type: ComponentType.Button,
          style: ButtonStyle.Secondary,
          custom_id: releaseButtonId("cancel", view.id),
          label: "Cancel",
        },
      ]),
    ],
  };
}

/** Offered when a preview went stale (the branch moved, it expired): plan again with the same choices. */
export function refreshButtons(previewId: string): ReleaseButtons[] {
  return [
    buttonRow([
      {
        type: ComponentType.Button,
        style: ButtonStyle.Primary,
        custom_id: releaseButtonId("refresh", previewId),
        label: "New preview",
      },
    ]),
  ];
}

function buttonRow(components: APIButtonComponent[]): ReleaseButtons {
  return { type: ComponentType.ActionRow, components };
}

export interface ReleaseAnnouncement {
  releaseName: string;
  repo: string;
  tag: string;
  prerelease: boolean;
  /** The GitHub release page. */
  url: string;
  targetSha: string;
  notes: string;
  /** Discord user id of who confirmed it: shown as a mention in the embed, which never pings. */
  releasedBy: string;
  /** Epoch ms. */
  at: number;
}

/** Posted to the channel once the release exists. */
export function renderReleaseAnnouncement(release: ReleaseAnnouncement): DiscordMessage {
  const kind = release.prerelease ? "Prerelease" : "Release";
  return fitMessage({
    embeds: [
      {
        title: `🚀 ${kind} ${release.tag} of ${release.releaseName}`,
        url: release.url,
        description: fitNotesForDiscord(release.notes, LIMITS.embedDescription),
        color: release.prerelease ? COLORS.warning : COLORS.success,
        fields: [
          { name: "Commit", value: `\`${release.targetSha.slice(0, 7)}\``, inline: true },
          { name: "Released by", value: `<@${release.releasedBy}>`, inline: true },
        ],
        footer: { text: `GitHub · ${release.repo}` },
        timestamp: new Date(release.at).toISOString(),
      },
    ],
    allowed_mentions: NO_MENTIONS,
  });
}
