/**
 * Releases Switchboard created, and the previews that precede them. A preview pins the version, notes and
 * target commit a user saw, so Confirm publishes exactly that, once.
 */
import type { Insertable, Kysely, Selectable } from "kysely";
import type { DatabaseSchema, ReleasePreviewTable, ReleaseTable } from "./schema.js";

export type ReleaseRow = Selectable<ReleaseTable>;
export type ReleasePreviewRow = Selectable<ReleasePreviewTable>;

export async function insertRelease(
  db: Kysely<DatabaseSchema>,
  row: Insertable<ReleaseTable>,
): Promise<ReleaseRow> {
  return db.insertInto("releases").values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findReleaseByTag(
  db: Kysely<DatabaseSchema>,
  repo: string,
  tag: string,
): Promise<ReleaseRow | undefined> {
  return db
    .selectFrom("releases")
    .selectAll()
    .where("repo", "=", repo)
    .where("tag", "=", tag)
    .executeTakeFirst();
}

/** Newest first. */
export async function listReleases(
  db: Kysely<DatabaseSchema>,
  filter: { releaseName?: string; limit: number },
): Promise<ReleaseRow[]> {
  let query = db.selectFrom("releases").selectAll();
  if (filter.releaseName !== undefined) query = query.where("release_name", "=", filter.releaseName);
  return query.orderBy("id", "desc").limit(filter.limit).execute();
}

export async function saveReleasePreview(db: Kysely<DatabaseSchema>, row: ReleasePreviewRow): Promise<void> {
  await db.insertInto("release_previews").values(row).execute();
}

export async function findReleasePreview(
  db: Kysely<DatabaseSchema>,
  id: string,
): Promise<ReleasePreviewRow | undefined> {
  return db.selectFrom("release_previews").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Moves a pending preview to its outcome. true only for the one caller that did it, so a double click (or two
 * people pressing Confirm at once) publishes one release.
 */
export async function settleReleasePreview(
  db: Kysely<DatabaseSchema>,
  id: string,
  status: "confirmed" | "cancelled",
): Promise<boolean> {
  const result = await db
    .updateTable("release_previews")
    .set({ status })
    .where("id", "=", id)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Undo a confirmation whose release could not be created, so the user may press Confirm again. */
export async function reopenReleasePreview(db: Kysely<DatabaseSchema>, id: string): Promise<void> {
  await db
    .updateTable("release_previews")
    .set({ status: "pending" })
    .where("id", "=", id)
    .where("status", "=", "confirmed")
    .execute();
}
