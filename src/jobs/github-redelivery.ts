/**
 * `github-redelivery`: asks GitHub to redeliver the webhook deliveries that failed while Switchboard was down
 * or unreachable, so no event is lost. GitHub never retries a failed delivery by itself; it keeps each hook's
 * delivery log for 3 days and redelivers on request (REST: "Redeliver a delivery for a repository webhook").
 *
 * A delivery counts as failed when no attempt with its guid (the `X-GitHub-Delivery` header, which GitHub's
 * redeliveries keep) got a 2xx answer, and the guid is not in the inbox (a delivery stored but answered late
 * is not lost). Each guid is redelivered at most `max_attempts` times in all, counting GitHub's own log, so a
 * delivery Switchboard refuses for good (a signature made with an old secret) is not redelivered forever.
 *
 * Only repository and organization hooks: listing a GitHub App's hook deliveries needs a JWT signed with the
 * App's private key, and Switchboard authenticates as an installation (or with a token), never as the App.
 */
import { z } from "zod";
import type { GitHubHookDelivery, GitHubHookTarget } from "../sources/github/github-api.js";
import { briefList, defineJob } from "./job.js";

const HOUR_MS = 60 * 60 * 1000;
/** GitHub keeps hook deliveries for 3 days; older ones cannot be redelivered. */
const GITHUB_DELIVERY_LOG_HOURS = 72;

const APP_HOOKS_REFUSED =
  "GitHub App webhooks cannot be redelivered by Switchboard: listing an App's deliveries needs a JWT " +
  "signed with the App's private key, which Switchboard does not use. List the repository or organization " +
  "webhook instead ({ repo: owner/name, hook_id: N } or { org: name, hook_id: N }), or redeliver from the " +
  "App's settings page (Advanced → Recent Deliveries).";

const hookSchema = z
  .strictObject({
    /** owner/name of a repository hook. */
    repo: z
      .string()
      .regex(/^[^/\s]+\/[^/\s]+$/, "owner/name")
      .optional(),
    /** Organization of an organization hook. */
    org: z
      .string()
      .regex(/^[^/\s]+$/, "an organization login")
      .optional(),
    /** The hook's id: the number in its settings URL (…/settings/hooks/<id>). */
    hook_id: z.number().int().positive().optional(),
    /** Refused with an explanation: see APP_HOOKS_REFUSED. */
    app: z.unknown().optional(),
  })
  .superRefine((hook, ctx) => {
    if (hook.app !== undefined) {
      ctx.addIssue({ code: "custom", message: APP_HOOKS_REFUSED });
      return;
    }
    if ((hook.repo === undefined) === (hook.org === undefined)) {
      ctx.addIssue({ code: "custom", message: "give either `repo` (owner/name) or `org`, with `hook_id`" });
    }
    if (hook.hook_id === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["hook_id"],
        message: "the hook's id is required (the number in …/settings/hooks/<id>)",
      });
    }
  })
  .transform((hook): GitHubHookTarget =>
    hook.repo !== undefined
      ? { repo: hook.repo, hookId: hook.hook_id! }
      : { org: hook.org!, hookId: hook.hook_id! },
  );

export const githubRedeliveryOptions = z.strictObject({
  hooks: z.array(hookSchema).default([]),
  /** How far back to look for failed deliveries (GitHub keeps 72 hours). */
  look_back_hours: z.number().int().positive().max(GITHUB_DELIVERY_LOG_HOURS).default(24),
  /** Attempts per delivery in all (the original included) before it is left alone. */
  max_attempts: z.number().int().min(2).max(20).default(4),
  /** Redeliveries asked per run, so a long outage is worked off without hitting GitHub's rate limits. */
  max_per_run: z.number().int().positive().max(1000).default(100),
});

export type GitHubRedeliveryOptions = z.infer<typeof githubRedeliveryOptions>;

const describeHook = (hook: GitHubHookTarget) =>
  "repo" in hook ? `${hook.repo} hook ${hook.hookId}` : `${hook.org} organization hook ${hook.hookId}`;

/**
 * The deliveries to ask again for, one per failed guid (its latest attempt), oldest first: pure, from the
 * hook's log and the guids already in the inbox.
 */
export function failedDeliveries(
  log: readonly GitHubHookDelivery[],
  stored: ReadonlySet<string>,
  maxAttempts: number,
): GitHubHookDelivery[] {
  const byGuid = new Map<string, GitHubHookDelivery[]>();
  for (const delivery of log) byGuid.set(delivery.guid, [...(byGuid.get(delivery.guid) ?? []), delivery]);
  const failed: GitHubHookDelivery[] = [];
  for (const [guid, attempts] of byGuid) {
    if (stored.has(guid)) continue;
    if (attempts.some((attempt) => attempt.statusCode >= 200 && attempt.statusCode < 300)) continue;
    if (attempts.length >= maxAttempts) continue;
    const latest = attempts.reduce((a, b) => (Date.parse(b.deliveredAt) > Date.parse(a.deliveredAt) ? b : a));
    failed.push(latest);
  }
  return failed.sort((a, b) => Date.parse(a.deliveredAt) - Date.parse(b.deliveredAt));
}

export const githubRedelivery = defineJob({
  name: "github-redelivery",
  description: "Ask GitHub to redeliver webhook deliveries that failed and never reached the inbox",
  defaultSchedule: "*/30 * * * *",
  enabledByDefault: false,
  catchUpByDefault: true,
  needsChannel: false,
  defaultLookBackMs: 24 * HOUR_MS,
  options: githubRedeliveryOptions,
  async run({ dryRun, now, options, services, logger }) {
    const github = services.github;
    if (!github) {
      throw new Error("The GitHub API is not configured: set GITHUB_TOKEN.");
    }
    if (options.hooks.length === 0) {
      throw new Error(
        "No webhooks to check: list them under options.hooks ({ repo: owner/name, hook_id: N } or " +
          "{ org: name, hook_id: N }; the id is the number in the hook's settings URL).",
      );
    }
    const sinceIso = new Date(now - options.look_back_hours * HOUR_MS).toISOString();
    const planned: Array<{ hook: GitHubHookTarget; delivery: GitHubHookDelivery }> = [];
    for (const hook of options.hooks) {
      const log = await github.listHookDeliveries(hook, { since: sinceIso });
      const guids = [...new Set(log.map((delivery) => delivery.guid))];
      const stored = new Set<string>();
      // Chunked: SQLite binds at most 999 parameters per statement in older builds.
      for (let start = 0; start < guids.length; start += 500) {
        const rows = await services.store.db
          .selectFrom("inbox")
          .select("delivery_id")
          .where("source", "=", "github")
          .where("delivery_id", "in", guids.slice(start, start + 500))
          .execute();
        for (const row of rows) stored.add(row.delivery_id);
      }
      const failed = failedDeliveries(log, stored, options.max_attempts);
      logger.debug(
        { hook: describeHook(hook), deliveries: log.length, failed: failed.length },
        "Checked hook",
      );
      planned.push(...failed.map((delivery) => ({ hook, delivery })));
    }

    const chosen = planned.slice(0, options.max_per_run);
    const later = planned.length - chosen.length;
    const describe = (list: typeof chosen) =>
      list.map(
        ({ delivery }) => `${delivery.event}${delivery.action ? `.${delivery.action}` : ""} ${delivery.guid}`,
      );
    const rest = later > 0 ? `; ${later} more next run` : "";
    if (chosen.length === 0) {
      return {
        items: 0,
        summary: `No failed deliveries to redeliver in ${options.hooks.map(describeHook).join(", ")}.`,
      };
    }
    if (dryRun) {
      return {
        items: chosen.length,
        summary: `Would redeliver ${chosen.length} failed deliver${chosen.length === 1 ? "y" : "ies"}: ${briefList(describe(chosen))}${rest}.`,
      };
    }
    for (const { hook, delivery } of chosen) {
      await github.redeliverHookDelivery(hook, delivery.id);
      logger.info(
        { hook: describeHook(hook), guid: delivery.guid, event: delivery.event, status: delivery.statusCode },
        "Asked GitHub to redeliver a failed delivery",
      );
    }
    return {
      items: chosen.length,
      summary: `Asked GitHub to redeliver ${chosen.length} failed deliver${chosen.length === 1 ? "y" : "ies"}: ${briefList(describe(chosen))}${rest}.`,
    };
  },
});
