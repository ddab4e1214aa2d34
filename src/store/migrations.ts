/**
 * Schema migrations, inline so that the built package needs no migration folder. Each runs on SQLite and
 * Postgres alike: ids come from `idColumn`, times are bigint milliseconds.
 */
import { Migrator, sql } from "kysely";
import type { CreateTableBuilder, Kysely, Migration, MigrationProvider } from "kysely";
import type { Dialect } from "./database.js";

/** An auto-incrementing primary key: `integer primary key autoincrement` on SQLite, `serial` on Postgres. */
function idColumn<T extends string>(dialect: Dialect, table: CreateTableBuilder<T, never>) {
  return dialect === "postgres"
    ? table.addColumn("id", "serial", (c) => c.primaryKey())
    : table.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
}

export function buildMigrations(dialect: Dialect): Record<string, Migration> {
  return {
    "0001_pipeline": {
      async up(db: Kysely<unknown>) {
        await idColumn(dialect, db.schema.createTable("inbox"))
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("delivery_id", "text", (c) => c.notNull())
          .addColumn("event", "text", (c) => c.notNull())
          .addColumn("body", "text", (c) => c.notNull())
          .addColumn("received_at", "bigint", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("event_name", "text")
          .addColumn("detail", "text")
          .addColumn("processed_at", "bigint")
          .addUniqueConstraint("inbox_source_delivery_unique", ["source", "delivery_id"])
          .execute();
        await db.schema.createIndex("inbox_status").on("inbox").columns(["status", "id"]).execute();

        await idColumn(dialect, db.schema.createTable("outbox"))
          .addColumn("inbox_id", "integer")
          .addColumn("channel_id", "text", (c) => c.notNull())
          .addColumn("route", "text", (c) => c.notNull())
          .addColumn("item_key", "text")
          .addColumn("operation", "text", (c) => c.notNull())
          .addColumn("payload", "text", (c) => c.notNull())
          .addColumn("nonce", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
          .addColumn("last_error", "text")
          .addColumn("message_id", "text")
          .addColumn("thread_id", "text")
          .addColumn("reply_id", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("origin_at", "bigint", (c) => c.notNull())
          .addColumn("sent_at", "bigint")
          .execute();
        await db.schema.createIndex("outbox_status").on("outbox").columns(["status", "id"]).execute();

        await db.schema
          .createTable("tracked_items")
          .addColumn("item_key", "text", (c) => c.primaryKey())
          .addColumn("snapshot", "text", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();

        await db.schema
          .createTable("item_threads")
          .addColumn("item_key", "text", (c) => c.notNull())
          .addColumn("channel_id", "text", (c) => c.notNull())
          .addColumn("message_id", "text", (c) => c.notNull())
          .addColumn("thread_id", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("item_threads_pk", ["item_key", "channel_id"])
          .execute();
      },
    },
    "0002_bot": {
      async up(db: Kysely<unknown>) {
        await idColumn(dialect, db.schema.createTable("audit_log"))
          .addColumn("at", "bigint", (c) => c.notNull())
          .addColumn("user_id", "text", (c) => c.notNull())
          .addColumn("user_name", "text", (c) => c.notNull())
          .addColumn("action", "text", (c) => c.notNull())
          .addColumn("options", "text", (c) => c.notNull())
          .addColumn("capability", "text")
          .addColumn("outcome", "text", (c) => c.notNull())
          .addColumn("detail", "text")
          .addColumn("guild_id", "text")
          .addColumn("channel_id", "text")
          .execute();
        await db.schema.createIndex("audit_log_at").on("audit_log").column("at").execute();

        await idColumn(dialect, db.schema.createTable("subscriptions"))
          .addColumn("guild_id", "text")
          .addColumn("channel_id", "text", (c) => c.notNull())
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("rule", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("subscriptions_channel")
          .on("subscriptions")
          .column("channel_id")
          .execute();

        await db.schema
          .createTable("identity_links")
          .addColumn("discord_user_id", "text", (c) => c.primaryKey())
          .addColumn("github_login", "text")
          .addColumn("linear_email", "text")
          .addColumn("linear_user_id", "text")
          .addColumn("linear_name", "text")
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();
      },
    },
    "0003_feedback": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("feedback_captures")
          .addColumn("message_id", "text", (c) => c.primaryKey())
          .addColumn("channel_id", "text", (c) => c.notNull())
          .addColumn("guild_id", "text")
          .addColumn("issue_id", "text")
          .addColumn("issue_identifier", "text")
          .addColumn("issue_url", "text")
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
      },
    },
    "0004_jobs": {
      async up(db: Kysely<unknown>) {
        await idColumn(dialect, db.schema.createTable("job_runs"))
          .addColumn("job", "text", (c) => c.notNull())
          .addColumn("trigger", "text", (c) => c.notNull())
          .addColumn("started_at", "bigint", (c) => c.notNull())
          .addColumn("finished_at", "bigint", (c) => c.notNull())
          .addColumn("outcome", "text", (c) => c.notNull())
          .addColumn("items", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("summary", "text")
          .addColumn("error", "text")
          .addColumn("dry_run", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex("job_runs_job").on("job_runs").columns(["job", "id"]).execute();

        await db.schema
          .createTable("job_state")
          .addColumn("job", "text", (c) => c.primaryKey())
          .addColumn("paused", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("paused_by", "text")
          .addColumn("next_run_at", "bigint")
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();

        await db.schema
          .createTable("leases")
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("holder", "text", (c) => c.notNull())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .execute();

        await db.schema
          .createTable("pr_reminders")
          .addColumn("pr_key", "text", (c) => c.primaryKey())
          .addColumn("channel_id", "text", (c) => c.notNull())
          .addColumn("reminded_at", "bigint", (c) => c.notNull())
          .execute();
      },
    },
    "0005_deploy": {
      async up(db: Kysely<unknown>) {
        await idColumn(dialect, db.schema.createTable("releases"))
          .addColumn("release_name", "text", (c) => c.notNull())
          .addColumn("repo", "text", (c) => c.notNull())
          .addColumn("version", "text", (c) => c.notNull())
          .addColumn("tag", "text", (c) => c.notNull())
          .addColumn("target_sha", "text", (c) => c.notNull())
          .addColumn("prerelease", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("notes", "text", (c) => c.notNull())
          .addColumn("url", "text")
          .addColumn("linear_keys", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("created_by", "text")
          .addColumn("created_by_name", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addUniqueConstraint("releases_repo_tag_unique", ["repo", "tag"])
          .execute();

        await db.schema
          .createTable("release_previews")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("release_name", "text", (c) => c.notNull())
          .addColumn("repo", "text", (c) => c.notNull())
          .addColumn("branch", "text", (c) => c.notNull())
          .addColumn("version", "text", (c) => c.notNull())
          .addColumn("tag", "text", (c) => c.notNull())
          .addColumn("target_sha", "text", (c) => c.notNull())
          .addColumn("base_tag", "text")
          .addColumn("prerelease", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("dry_run", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("notes", "text", (c) => c.notNull())
          .addColumn("linear_keys", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .execute();

        await idColumn(dialect, db.schema.createTable("deployments"))
          .addColumn("environment", "text", (c) => c.notNull())
          .addColumn("repo", "text", (c) => c.notNull())
          .addColumn("ref", "text", (c) => c.notNull())
          .addColumn("sha", "text", (c) => c.notNull())
          .addColumn("version", "text")
          .addColumn("method", "text", (c) => c.notNull())
          .addColumn("github_deployment_id", "text")
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("announced_state", "text")
          .addColumn("requested_by", "text")
          .addColumn("requested_by_name", "text")
          .addColumn("approved_by", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("reason", "text")
          .addColumn("previous_sha", "text")
          .addColumn("approval_channel_id", "text")
          .addColumn("approval_message_id", "text")
          .addColumn("status_description", "text")
          .addColumn("log_url", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addColumn("started_at", "bigint")
          .addColumn("finished_at", "bigint")
          .execute();
        await db.schema
          .createIndex("deployments_environment")
          .on("deployments")
          .columns(["environment", "id"])
          .execute();
        await db.schema
          .createIndex("deployments_github_id")
          .on("deployments")
          .column("github_deployment_id")
          .execute();

        await db.schema
          .createTable("environment_locks")
          .addColumn("environment", "text", (c) => c.primaryKey())
          .addColumn("locked_by", "text", (c) => c.notNull())
          .addColumn("locked_by_name", "text", (c) => c.notNull())
          .addColumn("reason", "text", (c) => c.notNull())
          .addColumn("locked_at", "bigint", (c) => c.notNull())
          .execute();

        await idColumn(dialect, db.schema.createTable("ship_notices"))
          .addColumn("deployment_id", "integer", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
          .addColumn("done_keys", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("last_error", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addUniqueConstraint("ship_notices_deployment_unique", ["deployment_id"])
          .execute();
      },
    },
    "0006_job_cursor": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("job_state").addColumn("cursor", "text").execute();
      },
    },
    "0007_deployment_freeze_override": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("deployments").addColumn("freeze_override", "text").execute();
      },
    },
    // A delivery's body (22 kB for a pull request) moves to its own table: SQLite rewrites a whole row on
    // every update, so each status change of an inbox row wrote its body out again.
    "0008_inbox_bodies": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("inbox_bodies")
          .addColumn("inbox_id", "integer", (c) => c.primaryKey().references("inbox.id").onDelete("cascade"))
          .addColumn("body", "text", (c) => c.notNull())
          .execute();
        await sql`INSERT INTO inbox_bodies (inbox_id, body) SELECT id, body FROM inbox`.execute(db);
        await db.schema.alterTable("inbox").dropColumn("body").execute();
      },
    },
    // The outbox worker finds the head of each channel's queue by walking this index (listQueueHeads).
    "0009_outbox_channel_heads": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createIndex("outbox_status_channel")
          .on("outbox")
          .columns(["status", "channel_id", "id"])
          .execute();
      },
    },
  };
}

export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => buildMigrations(dialect) };
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Database migration ${failed} failed: ${reason}`);
  }
}
