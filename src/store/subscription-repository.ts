/**
 * Subscriptions made in chat with /subscribe: one row per rule, scoped to the guild it was made in. The
 * `rule` column holds the config file's route shape (`{ match, style, threads }`), so the router matches
 * subscriptions and config routes the same way.
 */
import type { Kysely, Selectable } from "kysely";
import type { RouteConfig } from "../config/config-file.js";
import { routeSchema } from "../config/config-file.js";
import type { DatabaseSchema, SubscriptionTable } from "./schema.js";

export type SubscriptionSource = RouteConfig["source"];

/** What the `rule` column holds: a config route without its name, source and channel. */
export type SubscriptionRule = Pick<RouteConfig, "match" | "style" | "threads">;

export interface Subscription {
  id: number;
  guildId: string | null;
  channelId: string;
  source: SubscriptionSource;
  /**
   * undefined when the stored JSON no longer reads as a rule (written by a newer version, edited by hand):
   * such a row routes nothing, but still shows in listings so it can be removed.
   */
  rule: SubscriptionRule | undefined;
  /** Why `rule` is undefined. */
  ruleProblem?: string;
  createdBy: string;
  createdAt: number;
}

/** A subscription as the router sees it: the shape of pipeline/router.ts's RouteRule, which sits above the store. */
export type SubscriptionRouteRule = RouteConfig & { origin: "subscription" };

const storedRuleSchema = routeSchema.pick({ match: true, style: true, threads: true });

export async function createSubscription(
  db: Kysely<DatabaseSchema>,
  input: {
    guildId: string;
    channelId: string;
    source: SubscriptionSource;
    rule: SubscriptionRule;
    createdBy: string;
    at: number;
  },
): Promise<Subscription> {
  const row = await db
    .insertInto("subscriptions")
    .values({
      guild_id: input.guildId,
      channel_id: input.channelId,
      source: input.source,
      rule: JSON.stringify(input.rule),
      created_by: input.createdBy,
      created_at: input.at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return fromRow(row);
}

/** A guild's subscriptions, or one channel's, oldest first. */
export async function listSubscriptions(
  db: Kysely<DatabaseSchema>,
  filter: { guildId: string; channelId?: string },
): Promise<Subscription[]> {
  let query = db.selectFrom("subscriptions").selectAll().where("guild_id", "=", filter.guildId);
  if (filter.channelId !== undefined) query = query.where("channel_id", "=", filter.channelId);
  const rows = await query.orderBy("id").execute();
  return rows.map(fromRow);
}

/** Every guild's subscriptions, for routing. */
export async function listAllSubscriptions(db: Kysely<DatabaseSchema>): Promise<Subscription[]> {
  const rows = await db.selectFrom("subscriptions").selectAll().orderBy("id").execute();
  return rows.map(fromRow);
}

/**
 * Removes a subscription made in `guildId`; another guild's id is treated as absent, so nobody can remove a
 * rule they cannot see. Returns what was removed.
 */
export async function deleteSubscription(
  db: Kysely<DatabaseSchema>,
  target: { id: number; guildId: string },
): Promise<Subscription | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("subscriptions")
      .selectAll()
      .where("id", "=", target.id)
      .where("guild_id", "=", target.guildId)
      .executeTakeFirst();
    if (!row) return undefined;
    await trx.deleteFrom("subscriptions").where("id", "=", row.id).execute();
    return fromRow(row);
  });
}

/** Readable subscriptions as route rules named `subscription-<id>`; unreadable ones are left out. */
export function toRouteRules(subscriptions: readonly Subscription[]): SubscriptionRouteRule[] {
  return subscriptions.flatMap((subscription) =>
    subscription.rule
      ? [
          {
            name: subscriptionRouteName(subscription.id),
            source: subscription.source,
            channel: subscription.channelId,
            ...subscription.rule,
            origin: "subscription" as const,
          },
        ]
      : [],
  );
}

/** The route name a subscription's deliveries are recorded under (outbox `route`, delivery detail). */
export function subscriptionRouteName(id: number): string {
  return `subscription-${id}`;
}

function fromRow(row: Selectable<SubscriptionTable>): Subscription {
  const base = {
    id: Number(row.id),
    guildId: row.guild_id,
    channelId: row.channel_id,
    source: row.source,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
  };
  let json: unknown;
  try {
    json = JSON.parse(row.rule);
  } catch {
    return { ...base, rule: undefined, ruleProblem: "the stored rule is not JSON" };
  }
  const parsed = storedRuleSchema.safeParse(json);
  if (!parsed.success) {
    const problem = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "rule"}: ${issue.message}`)
      .join("; ");
    return { ...base, rule: undefined, ruleProblem: problem };
  }
  return { ...base, rule: parsed.data };
}
