/** The audit log: append-only record of privileged actions and denials. */
import type { Insertable, Kysely, Selectable } from "kysely";
import type { AuditLogTable, DatabaseSchema } from "./schema.js";

export type AuditEntry = Selectable<AuditLogTable>;
export type NewAuditEntry = Insertable<AuditLogTable>;

export async function recordAudit(db: Kysely<DatabaseSchema>, entry: NewAuditEntry): Promise<void> {
  await db.insertInto("audit_log").values(entry).execute();
}

export async function listRecentAudit(db: Kysely<DatabaseSchema>, limit: number): Promise<AuditEntry[]> {
  return db.selectFrom("audit_log").selectAll().orderBy("id", "desc").limit(limit).execute();
}
