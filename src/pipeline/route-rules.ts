/**
 * The rules the router matches: the config file's routes, then the subscriptions made in chat. Subscriptions
 * are read from the store on every call, so one made a moment ago applies to the next delivery, on every
 * instance sharing the database.
 */
import type { Kysely } from "kysely";
import type { RouteConfig } from "../config/config-file.js";
import type { Logger } from "../observability/logger.js";
import type { DatabaseSchema } from "../store/schema.js";
import { listAllSubscriptions, toRouteRules } from "../store/subscription-repository.js";
import type { RouteRule } from "./router.js";

export interface RouteRuleSource {
  listRules(): Promise<RouteRule[]>;
}

export function createRouteRuleSource(
  db: Kysely<DatabaseSchema>,
  configRoutes: readonly RouteConfig[],
  logger?: Logger,
): RouteRuleSource {
  const fromConfig: RouteRule[] = configRoutes.map((route) => ({ ...route, origin: "config" }));
  // Rules are listed once per inbox batch; warn about each unreadable subscription once, not every batch.
  const reported = new Set<number>();

  return {
    // An arrow function, so `listRules` can be handed on without its object.
    listRules: async () => {
      const subscriptions = await listAllSubscriptions(db);
      for (const subscription of subscriptions) {
        if (subscription.rule || reported.has(subscription.id)) continue;
        reported.add(subscription.id);
        logger?.warn(
          {
            subscription: subscription.id,
            channel: subscription.channelId,
            problem: subscription.ruleProblem,
          },
          `Subscription #${subscription.id} cannot be read and routes nothing: remove it with /unsubscribe ${subscription.id}`,
        );
      }
      return [...fromConfig, ...toRouteRules(subscriptions)];
    },
  };
}
