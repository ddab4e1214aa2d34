/**
 * `/link github:<login> linear:<email>`: says which GitHub and Linear accounts are yours, so notifications
 * mention you when a review is requested from you or a Linear issue is assigned to you.
 * `/link` alone shows your links; `/link remove:github|linear|all` forgets them.
 *
 * Linking is self-service and only ever changes the caller's own link, so it needs no capability. The
 * GitHub login is checked against the API when GitHub is configured, and the Linear email resolved to a
 * Linear user the same way; without the API the value is stored as given and the answer says it was not
 * checked. One account links to one Discord member: a second claim is refused, naming who holds it.
 */
import { ApplicationCommandOptionType } from "discord-api-types/v10";
import { z } from "zod";
import { UserError } from "../../errors.js";
import {
  findIdentityLink,
  findLinkByGitHubLogin,
  findLinkByLinearEmail,
  removeIdentityLink,
  saveIdentityLink,
} from "../../store/identity-repository.js";
import type { IdentityLink, LinearIdentity } from "../../store/identity-repository.js";
import { explainingApiFailures } from "../api-failure.js";
import { escapeMarkdown, inlineCode } from "../render/message.js";
import type { Command, CommandContext } from "./command.js";
import { parseGitHubLogin } from "./github.js";

const REMOVE_CHOICES = ["github", "linear", "all"] as const;
type RemovePart = (typeof REMOVE_CHOICES)[number];

const USAGE =
  "Link with `/link github:<login> linear:<email>` (either or both). Notifications then mention you when a review is requested from your GitHub login or a Linear issue is assigned to you. Linking is self-service and only affects you.";

const emailSchema = z.email();

export const command: Command = {
  data: {
    name: "link",
    description: "Link your GitHub and Linear accounts so notifications mention you (only affects you)",
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: "github",
        description: "Your GitHub login, e.g. octocat",
        max_length: 100,
      },
      {
        type: ApplicationCommandOptionType.String,
        name: "linear",
        description: "The email of your Linear account",
        max_length: 254,
      },
      {
        type: ApplicationCommandOptionType.String,
        name: "remove",
        description: "Forget a link instead",
        choices: REMOVE_CHOICES.map((choice) => ({ name: choice, value: choice })),
      },
    ],
  },
  // Self-service: every branch reads or writes the caller's own link only.
  access: { default: null },
  ephemeral: true,

  async execute(context) {
    const { values } = context.options;
    const github = values.get("github");
    const linear = values.get("linear");
    const remove = values.get("remove");
    if (remove !== undefined) {
      if (github !== undefined || linear !== undefined) {
        throw new UserError("Link or remove, not both at once: run /link twice.");
      }
      return removeLink(context, parseRemovePart(remove));
    }
    if (github === undefined && linear === undefined) return showLink(context);
    return saveLink(context, {
      ...(github !== undefined ? { github: parseGitHubLogin(github) } : {}),
      ...(linear !== undefined ? { linear: parseEmail(linear) } : {}),
    });
  },
};

async function showLink(context: CommandContext): Promise<void> {
  const link = await findIdentityLink(context.services.db, context.user.id);
  const content = link ? `Your links:\n${describeLink(link)}\n\n${USAGE}` : `You have no links yet. ${USAGE}`;
  await reply(context, content);
}

async function removeLink(context: CommandContext, part: RemovePart): Promise<void> {
  const { db, clock } = context.services;
  const link = await findIdentityLink(db, context.user.id);
  const had =
    part === "github" ? link?.github_login : part === "linear" ? link?.linear_email : link !== undefined;
  if (!had) {
    await reply(
      context,
      `You had no ${part === "all" ? "links" : `${label(part)} link`}: nothing to remove.`,
    );
    return;
  }
  await removeIdentityLink(db, context.user.id, part, clock());
  await reply(
    context,
    `Removed your ${part === "all" ? "links" : `${label(part)} link`}: notifications no longer mention you for it.`,
  );
}

async function saveLink(
  context: CommandContext,
  wanted: { github?: string; linear?: string },
): Promise<void> {
  const { db, clock } = context.services;
  const notes: string[] = [];
  let githubLogin: string | undefined;
  let linear: LinearIdentity | undefined;

  if (wanted.github !== undefined) {
    githubLogin = await verifyGitHubLogin(context, wanted.github, notes);
    const holder = await findLinkByGitHubLogin(db, githubLogin);
    if (holder && holder.discord_user_id !== context.user.id) {
      throw new UserError(
        `GitHub login ${githubLogin} is already linked to <@${holder.discord_user_id}>: they can free it with /link remove:github.`,
      );
    }
  }
  if (wanted.linear !== undefined) {
    linear = await resolveLinearEmail(context, wanted.linear, notes);
    const holder = await findLinkByLinearEmail(db, linear.email);
    if (holder && holder.discord_user_id !== context.user.id) {
      throw new UserError(
        `Linear account ${inlineCode(linear.email)} is already linked to <@${holder.discord_user_id}>: they can free it with /link remove:linear.`,
      );
    }
  }

  const link = await saveIdentityLink(db, {
    discordUserId: context.user.id,
    ...(githubLogin !== undefined ? { githubLogin } : {}),
    ...(linear ? { linear } : {}),
    at: clock(),
  });
  context.logger.info(
    { user: context.user.id, github: githubLogin !== undefined, linear: linear !== undefined },
    "Identity linked",
  );
  await reply(context, [`Linked. Your links now:\n${describeLink(link)}`, ...notes].join("\n\n"));
}

/** GitHub's spelling of the login when the API can check it; the login as given otherwise. */
async function verifyGitHubLogin(context: CommandContext, login: string, notes: string[]): Promise<string> {
  const github = context.services.github;
  if (!github) {
    notes.push(
      "The GitHub login was not checked: the GitHub API is not configured here (GITHUB_TOKEN), so make sure it is spelled right.",
    );
    return login;
  }
  const user = await explainingApiFailures("GitHub", context.logger, () => github.getUser(login));
  if (!user) throw new UserError(`GitHub has no user named ${login}: check the spelling.`);
  if (user.type === "Organization") {
    throw new UserError(`${user.login} is a GitHub organization, not a person: give your own login.`);
  }
  return user.login;
}

/** The Linear user behind the email when the API can tell; the email alone otherwise. */
async function resolveLinearEmail(
  context: CommandContext,
  email: string,
  notes: string[],
): Promise<LinearIdentity> {
  const linear = context.services.linear;
  if (!linear) {
    notes.push(
      "The Linear email was not checked: the Linear API is not configured here (LINEAR_API_KEY). Mentions still work when Linear's webhooks carry this email.",
    );
    return { email, userId: null, name: null };
  }
  const user = await explainingApiFailures("Linear", context.logger, () => linear.findUserByEmail(email));
  if (!user)
    throw new UserError(`Linear has no active user with the email ${inlineCode(email)}: check the spelling.`);
  return { email: user.email || email, userId: user.id, name: user.name };
}

function describeLink(link: IdentityLink): string {
  const github = link.github_login ? `**${link.github_login}**` : "not linked";
  const linearWho = link.linear_name ? `**${escapeMarkdown(link.linear_name)}** ` : "";
  const linear = link.linear_email ? `${linearWho}${inlineCode(link.linear_email)}` : "not linked";
  return `• GitHub: ${github}\n• Linear: ${linear}`;
}

function parseEmail(value: unknown): string {
  const text = String(value).trim().toLowerCase();
  if (!emailSchema.safeParse(text).success) {
    throw new UserError(
      `${inlineCode(String(value))} is not an email address: give the one you sign in to Linear with.`,
    );
  }
  return text;
}

function parseRemovePart(value: unknown): RemovePart {
  const part = REMOVE_CHOICES.find((choice) => choice === value);
  if (!part) throw new UserError("Choose what to remove: github, linear or all.");
  return part;
}

function label(part: "github" | "linear"): string {
  return part === "github" ? "GitHub" : "Linear";
}

async function reply(context: CommandContext, content: string): Promise<void> {
  await context.respond.reply({ content }, { ephemeral: true });
}
