/**
 * Environment locks (`/deploy lock`): while an environment is locked only the holder may deploy there. The
 * primary key on the environment makes taking a lock atomic: of two people locking at once, one holds it.
 */
import type { Kysely, Selectable } from "kysely";
import type { DatabaseSchema, EnvironmentLockTable } from "./schema.js";

export type EnvironmentLockRow = Selectable<EnvironmentLockTable>;

export async function findLock(
  db: Kysely<DatabaseSchema>,
  environment: string,
): Promise<EnvironmentLockRow | undefined> {
  return db
    .selectFrom("environment_locks")
    .selectAll()
    .where("environment", "=", environment)
    .executeTakeFirst();
}

/** Takes the lock unless someone holds it; returns the lock that holds afterwards (theirs or the new one). */
export async function lockEnvironment(
  db: Kysely<DatabaseSchema>,
  lock: EnvironmentLockRow,
): Promise<EnvironmentLockRow> {
  await db
    .insertInto("environment_locks")
    .values(lock)
    .onConflict((conflict) => conflict.column("environment").doNothing())
    .execute();
  return (await findLock(db, lock.environment)) ?? lock;
}

/** true when a lock was removed. */
export async function unlockEnvironment(db: Kysely<DatabaseSchema>, environment: string): Promise<boolean> {
  const result = await db
    .deleteFrom("environment_locks")
    .where("environment", "=", environment)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function listLocks(db: Kysely<DatabaseSchema>): Promise<EnvironmentLockRow[]> {
  return db.selectFrom("environment_locks").selectAll().orderBy("environment").execute();
}
