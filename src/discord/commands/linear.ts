/**
 * `/linear create [team] [priority]` (a form for title and description), `/linear issue <key>` (a card),
 * `/linear mine` (my open issues, through my /link identity), `/linear comment <key> <text>`.
 *
 * Creating and commenting need `create-issues`; viewing is open. What is created says who asked for it in
 * Discord, since Linear attributes it to the API key's user.
 *
 * A new issue's card and `/linear issue` cards are posted for the channel; `mine`, comments and every
 * refusal go to the asker alone. When Linear is slow the dispatcher has already deferred privately, and the
 * card then reaches the asker alone: better than an error shown to everyone.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type {
  APIApplicationCommandOptionChoice,
  APIModalInteractionResponseCallbackData,
} from "discord-api-types/v10";
import { ApplicationCommandOptionType, ComponentType, TextInputStyle } from "discord-api-types/v10";
import { UserError } from "../../errors.js";
import type { LinearApi, LinearTeam } from "../../sources/linear/linear-api.js";
import { findIdentityLink } from "../../store/identity-repository.js";
import { explainingApiFailures } from "../api-failure.js";
import { LINEAR_NOT_CONNECTED, feedbackTeamKey } from "../feedback-capture.js";
import { renderLinearIssueCard, renderLinearIssueList } from "../render/linear-issue-card.js";
import { escapeMarkdown, inlineCode } from "../render/message.js";
import type { Command, CommandContext } from "./command.js";

const PRIORITY_CHOICES = [
  { name: "Urgent", value: 1 },
  { name: "High", value: 2 },
  { name: "Medium", value: 3 },
  { name: "Low", value: 4 },
  { name: "No priority", value: 0 },
];

/** Linear's limit on issue titles. */
const TITLE_MAX = 255;
const DESCRIPTION_MAX = 4000;
const COMMENT_MAX = 4000;
/**
 * How long `/linear create` waits to check the team before showing the form. A form must be the first
 * answer (it cannot follow "thinking…"), and the dispatcher defers after 2 s; past this budget the form is
 * shown anyway and the team is checked when it is submitted.
 */
const TEAM_CHECK_BUDGET_MS = 1200;
/** Autocomplete runs on every keystroke: the team list is reused for a minute. */
const TEAM_CACHE_MS = 60_000;
const OPEN_ISSUES_SHOWN = 20;

export const command: Command = {
  data: {
    name: "linear",
    description: "Create, show and comment on Linear issues",
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "create",
        description: "Create a Linear issue (a form asks for the title and description)",
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: "team",
            description: "Linear team (default: the team this channel's feedback goes to)",
            autocomplete: true,
          },
          {
            type: ApplicationCommandOptionType.Integer,
            name: "priority",
            description: "Priority (default: none)",
            choices: PRIORITY_CHOICES,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "issue",
        description: "Show a Linear issue",
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: "key",
            description: "Issue key such as ENG-123, or its Linear link",
            required: true,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "mine",
        description: "Your open Linear issues (link your Linear account with /link first)",
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "comment",
        description: "Comment on a Linear issue",
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: "key",
            description: "Issue key such as ENG-123, or its Linear link",
            required: true,
          },
          {
            type: ApplicationCommandOptionType.String,
            name: "text",
            description: "The comment (Markdown)",
            required: true,
            max_length: COMMENT_MAX,
          },
        ],
      },
    ],
  },
  // The form's submission carries no subcommand, so the default is what creating needs.
  access: {
    default: "create-issues",
    subcommands: { create: "create-issues", comment: "create-issues", issue: null, mine: null },
  },
  subcommandCooldownSeconds: { create: 30, comment: 10, mine: 10 },

  async execute(context) {
    const linear = context.services.linear;
    if (!linear) throw new UserError(LINEAR_NOT_CONNECTED);
    await explainingApiFailures("Linear", context.logger, async () => {
      switch (context.options.subcommand) {
        case "create":
          return showCreateForm(context, linear);
        case "issue":
          return showIssue(context, linear);
        case "mine":
          return showMine(context, linear);
        case "comment":
          return comment(context, linear);
        default:
          throw new Error(`/linear has no subcommand ${String(context.options.subcommand)}`);
      }
    });
  },

  async autocomplete({ options, services }): Promise<APIApplicationCommandOptionChoice[]> {
    if (options.focused?.name !== "team" || !services.linear) return [];
    const typed = options.focused.value.trim().toLowerCase();
    const teams = await cachedTeams(services.linear, services.clock());
    return teams
      .filter(
        (team) =>
          !typed || team.key.toLowerCase().startsWith(typed) || team.name.toLowerCase().includes(typed),
      )
      .slice(0, 25)
      .map((team) => ({ name: `${team.key} · ${team.name}`.slice(0, 100), value: team.key }));
  },

  async modal(context) {
    const linear = context.services.linear;
    if (!linear) throw new UserError(LINEAR_NOT_CONNECTED);
    const [, action, teamKey = "", priorityText = ""] = context.customId.split(":");
    if (action !== "create") throw new Error(`/linear has no form ${context.customId}`);
    const title = (context.fields.get("title") ?? "").replace(/\s+/g, " ").trim();
    if (!title)
      throw new UserError("The title is empty: run /linear create again and give the issue a title.");
    const description = (context.fields.get("description") ?? "").trim();
    const priority = priorityText === "" ? undefined : Number(priorityText);

    await explainingApiFailures("Linear", context.logger, async () => {
      const team = await linear.findTeam(teamKey);
      if (!team) throw unknownTeam(teamKey);
      const issue = await linear.createIssue({
        teamId: team.id,
        title: title.slice(0, TITLE_MAX),
        description: [description, `_Created from Discord by ${context.user.username}._`]
          .filter(Boolean)
          .join("\n\n"),
        ...(priority !== undefined && Number.isInteger(priority) ? { priority } : {}),
      });
      context.logger.info({ issue: issue.identifier }, "Created a Linear issue");
      const card = renderLinearIssueCard(issue);
      await context.respond.reply({
        ...card,
        content: `<@${context.user.id}> created **[${issue.identifier}](${issue.url})**`,
      });
    });
  },
};

async function showCreateForm(context: CommandContext, linear: LinearApi): Promise<void> {
  const given = stringOption(context, "team");
  const teamKey = given || feedbackTeamKey(context.services.config, context.channelId);
  if (!teamKey) {
    throw new UserError(
      "Which team? Choose one in the `team` option: no default team is set for this channel.",
    );
  }
  const checked = await Promise.race([
    linear.findTeam(teamKey),
    sleep(TEAM_CHECK_BUDGET_MS, "unchecked" as const, { ref: false }),
  ]);
  if (checked === undefined) throw unknownTeam(teamKey);
  const key = checked === "unchecked" ? teamKey.toUpperCase() : checked.key;
  const priority = context.options.values.get("priority");
  await context.respond.showModal(createForm(key, typeof priority === "number" ? priority : undefined));
}

/** The form for title and description; the custom id carries the team and priority to the submission. */
function createForm(teamKey: string, priority: number | undefined): APIModalInteractionResponseCallbackData {
  return {
    custom_id: `linear:create:${teamKey}:${priority ?? ""}`,
    title: `New Linear issue in ${teamKey}`.slice(0, 45),
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: "title",
            label: "Title",
            style: TextInputStyle.Short,
            required: true,
            min_length: 1,
            max_length: TITLE_MAX,
          },
        ],
      },
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: "description",
            label: "Description (Markdown)",
            style: TextInputStyle.Paragraph,
            required: false,
            max_length: DESCRIPTION_MAX,
          },
        ],
      },
    ],
  };
}

async function showIssue(context: CommandContext, linear: LinearApi): Promise<void> {
  const key = parseIssueKey(stringOption(context, "key"));
  const issue = await linear.getIssue(key);
  if (!issue) throw noSuchIssue(key);
  await context.respond.reply(renderLinearIssueCard(issue));
}

async function showMine(context: CommandContext, linear: LinearApi): Promise<void> {
  const link = await findIdentityLink(context.services.db, context.user.id);
  if (!link?.linear_email) {
    throw new UserError(
      "Switchboard does not know your Linear account yet: link it with /link, then try again.",
    );
  }
  const userId = link.linear_user_id ?? (await linear.findUserByEmail(link.linear_email))?.id;
  if (!userId) {
    throw new UserError(
      `Linear has no active user with the email ${link.linear_email}: link the right address with /link.`,
    );
  }
  const issues = await linear.listOpenIssuesAssignedTo(userId, OPEN_ISSUES_SHOWN);
  await context.respond.reply(renderLinearIssueList(issues, "Your open Linear issues"), { ephemeral: true });
}

async function comment(context: CommandContext, linear: LinearApi): Promise<void> {
  const key = parseIssueKey(stringOption(context, "key"));
  const text = stringOption(context, "text");
  if (!text) throw new UserError("The comment is empty: write something in `text`.");
  const issue = await linear.getIssue(key);
  if (!issue) throw noSuchIssue(key);
  const posted = await linear.createComment(
    issue.id,
    `${text}\n\n_— ${context.user.username}, from Discord_`,
  );
  context.logger.info({ issue: issue.identifier }, "Commented on a Linear issue");
  await context.respond.reply(
    {
      content: `💬 Commented on **[${issue.identifier}](${posted.url})** ${escapeMarkdown(issue.title)}`,
    },
    { ephemeral: true },
  );
}

/**
 * `ENG-123` in any case, or a Linear issue link (`https://linear.app/acme/issue/ENG-123/slug`), as Linear's
 * identifier.
 */
export function parseIssueKey(input: string): string {
  const fromUrl = /linear\.app\/[^/\s]+\/issue\/([A-Za-z][A-Za-z0-9]*-\d+)/.exec(input)?.[1];
  const key = (fromUrl ?? input).trim();
  if (!/^[A-Za-z][A-Za-z0-9]{0,9}-\d{1,9}$/.test(key)) {
    throw new UserError(
      `${inlineCode(key.slice(0, 40))} is not a Linear issue key: use the team key and number, like ENG-123.`,
    );
  }
  return key.toUpperCase();
}

function stringOption(context: CommandContext, name: string): string {
  const value = context.options.values.get(name);
  return typeof value === "string" ? value.trim() : "";
}

function unknownTeam(key: string): UserError {
  return new UserError(`Linear has no team with the key ${key.slice(0, 20)}: pick one from the list.`);
}

function noSuchIssue(key: string): UserError {
  return new UserError(`Linear has no issue ${key}: check the key (or whether the issue was deleted).`);
}

const teamCache = new WeakMap<LinearApi, { at: number; teams: Promise<LinearTeam[]> }>();

function cachedTeams(linear: LinearApi, now: number): Promise<LinearTeam[]> {
  const cached = teamCache.get(linear);
  if (cached && now - cached.at < TEAM_CACHE_MS) return cached.teams;
  const teams = linear.listTeams();
  teamCache.set(linear, { at: now, teams });
  // A failed fetch is not cached: the next keystroke asks again.
  teams.catch(() => teamCache.delete(linear));
  return teams;
}
