/**
 * Leases: a named right held by one process until it expires. Acquiring and renewing are the same
 * conditional write ("take it if it is mine or has expired"), which SQLite and Postgres both make atomic, so
 * two processes racing for one lease cannot both win.
 */
import type { Kysely, Selectable } from "kysely";
import type { DatabaseSchema, LeaseTable } from "./schema.js";

export type Lease = Selectable<LeaseTable>;

/**
 * Take or renew `name` for `holder` until `now + ttlMs`. true when the holder has it afterwards.
 */
export async function acquireLease(
  db: Kysely<DatabaseSchema>,
  lease: { name: string; holder: string; now: number; ttlMs: number },
): Promise<boolean> {
  const expiresAt = lease.now + lease.ttlMs;
  const updated = await db
    .updateTable("leases")
    .set({ holder: lease.holder, expires_at: expiresAt })
    .where("name", "=", lease.name)
    .where((eb) => eb.or([eb("holder", "=", lease.holder), eb("expires_at", "<=", lease.now)]))
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) > 0) return true;
  // No row yet (or another holder's live lease): insert, and let the primary key decide a race.
  const inserted = await db
    .insertInto("leases")
    .values({ name: lease.name, holder: lease.holder, expires_at: expiresAt })
    .onConflict((conflict) => conflict.column("name").doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Give a lease up early (on shutdown), so another process need not wait for it to expire. */
export async function releaseLease(
  db: Kysely<DatabaseSchema>,
  lease: { name: string; holder: string },
): Promise<void> {
  await db.deleteFrom("leases").where("name", "=", lease.name).where("holder", "=", lease.holder).execute();
}

export async function findLease(db: Kysely<DatabaseSchema>, name: string): Promise<Lease | undefined> {
  return db.selectFrom("leases").selectAll().where("name", "=", name).executeTakeFirst();
}
