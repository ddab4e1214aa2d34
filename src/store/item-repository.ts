/** Tracked items (PRs, issues) and the card and thread each has per channel. */
import type { Kysely, Selectable } from "kysely";
import type { ItemSnapshot } from "../events/domain-event.js";
import type { DatabaseSchema, ItemThreadTable } from "./schema.js";

export type ItemThread = Selectable<ItemThreadTable>;

export async function findTrackedItem(
  db: Kysely<DatabaseSchema>,
  itemKey: string,
): Promise<ItemSnapshot | undefined> {
  const row = await db
    .selectFrom("tracked_items")
    .select("snapshot")
    .where("item_key", "=", itemKey)
    .executeTakeFirst();
  return row ? (JSON.parse(row.snapshot) as ItemSnapshot) : undefined;
}

export async function saveTrackedItem(
  db: Kysely<DatabaseSchema>,
  item: ItemSnapshot,
  at: number,
): Promise<void> {
  const snapshot = JSON.stringify(item);
  await db
    .insertInto("tracked_items")
    .values({ item_key: item.key, snapshot, updated_at: at })
    .onConflict((conflict) => conflict.column("item_key").doUpdateSet({ snapshot, updated_at: at }))
    .execute();
}

export async function findItemThread(
  db: Kysely<DatabaseSchema>,
  itemKey: string,
  channelId: string,
): Promise<ItemThread | undefined> {
  return db
    .selectFrom("item_threads")
    .selectAll()
    .where("item_key", "=", itemKey)
    .where("channel_id", "=", channelId)
    .executeTakeFirst();
}

export async function saveItemThread(
  db: Kysely<DatabaseSchema>,
  thread: { itemKey: string; channelId: string; messageId: string; threadId: string | null; at: number },
): Promise<void> {
  await db
    .insertInto("item_threads")
    .values({
      item_key: thread.itemKey,
      channel_id: thread.channelId,
      message_id: thread.messageId,
      thread_id: thread.threadId,
      created_at: thread.at,
    })
    .onConflict((conflict) =>
      conflict
        .columns(["item_key", "channel_id"])
        .doUpdateSet({ message_id: thread.messageId, thread_id: thread.threadId }),
    )
    .execute();
}
