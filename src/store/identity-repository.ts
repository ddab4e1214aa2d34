/**
 * Identity links: which GitHub login and Linear user a Discord member is, from /link. Notifications use
 * them to mention the member a review was requested from or an issue was assigned to.
 *
 * GitHub logins and emails are case-insensitive, so lookups compare lower-cased values; the login keeps
 * GitHub's own casing for display. Emails are stored lower-cased.
 */
import type { Kysely, Selectable } from "kysely";
import type { DatabaseSchema, IdentityLinkTable } from "./schema.js";

export type IdentityLink = Selectable<IdentityLinkTable>;

export interface LinearIdentity {
  email: string;
  /** Set when the email was resolved through the Linear API. */
  userId: string | null;
  name: string | null;
}

/** Who an event addresses, in the sources' own terms; resolved to Discord users by `findLinkedDiscordUsers`. */
export interface IdentityReferences {
  githubLogins: string[];
  linearUserIds: string[];
  linearEmails: string[];
}

export async function findIdentityLink(
  db: Kysely<DatabaseSchema>,
  discordUserId: string,
): Promise<IdentityLink | undefined> {
  return db
    .selectFrom("identity_links")
    .selectAll()
    .where("discord_user_id", "=", discordUserId)
    .executeTakeFirst();
}

/** Sets the given parts of a member's link and keeps the others. */
export async function saveIdentityLink(
  db: Kysely<DatabaseSchema>,
  link: { discordUserId: string; githubLogin?: string; linear?: LinearIdentity; at: number },
): Promise<IdentityLink> {
  const changes = {
    ...(link.githubLogin !== undefined ? { github_login: link.githubLogin } : {}),
    ...(link.linear
      ? {
          linear_email: link.linear.email.toLowerCase(),
          linear_user_id: link.linear.userId,
          linear_name: link.linear.name,
        }
      : {}),
    updated_at: link.at,
  };
  await db
    .insertInto("identity_links")
    .values({
      discord_user_id: link.discordUserId,
      github_login: null,
      linear_email: null,
      linear_user_id: null,
      linear_name: null,
      ...changes,
    })
    .onConflict((conflict) => conflict.column("discord_user_id").doUpdateSet(changes))
    .execute();
  return (await findIdentityLink(db, link.discordUserId))!;
}

/** Forgets one side of a member's link, or all of it; a link with nothing left is deleted. */
export async function removeIdentityLink(
  db: Kysely<DatabaseSchema>,
  discordUserId: string,
  part: "github" | "linear" | "all",
  at: number,
): Promise<void> {
  if (part === "all") {
    await db.deleteFrom("identity_links").where("discord_user_id", "=", discordUserId).execute();
    return;
  }
  await db
    .updateTable("identity_links")
    .set(
      part === "github"
        ? { github_login: null, updated_at: at }
        : { linear_email: null, linear_user_id: null, linear_name: null, updated_at: at },
    )
    .where("discord_user_id", "=", discordUserId)
    .execute();
  await db
    .deleteFrom("identity_links")
    .where("discord_user_id", "=", discordUserId)
    .where("github_login", "is", null)
    .where("linear_email", "is", null)
    .execute();
}

/** The Discord member linked to this GitHub login, if any. */
export async function findLinkByGitHubLogin(
  db: Kysely<DatabaseSchema>,
  login: string,
): Promise<IdentityLink | undefined> {
  return db
    .selectFrom("identity_links")
    .selectAll()
    .where((eb) => eb(eb.fn("lower", ["github_login"]), "=", login.toLowerCase()))
    .executeTakeFirst();
}

/** The Discord member linked to this Linear email, if any. */
export async function findLinkByLinearEmail(
  db: Kysely<DatabaseSchema>,
  email: string,
): Promise<IdentityLink | undefined> {
  return db
    .selectFrom("identity_links")
    .selectAll()
    .where("linear_email", "=", email.toLowerCase())
    .executeTakeFirst();
}

/** Discord user ids linked to any of the references, each once, in a stable order. */
export async function findLinkedDiscordUsers(
  db: Kysely<DatabaseSchema>,
  references: IdentityReferences,
): Promise<string[]> {
  const logins = references.githubLogins.map((login) => login.toLowerCase());
  const emails = references.linearEmails.map((email) => email.toLowerCase());
  const linearIds = references.linearUserIds;
  if (logins.length + emails.length + linearIds.length === 0) return [];
  const rows = await db
    .selectFrom("identity_links")
    .select("discord_user_id")
    .where((eb) =>
      eb.or([
        ...(logins.length > 0 ? [eb(eb.fn("lower", ["github_login"]), "in", logins)] : []),
        ...(linearIds.length > 0 ? [eb("linear_user_id", "in", linearIds)] : []),
        ...(emails.length > 0 ? [eb("linear_email", "in", emails)] : []),
      ]),
    )
    .orderBy("discord_user_id")
    .execute();
  return [...new Set(rows.map((row) => row.discord_user_id))];
}
