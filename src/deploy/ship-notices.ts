/**
 * Ship notices: once a deployment succeeds, every Linear issue named in the commits it shipped gets a comment
 * saying where and in which version it shipped, and moves to the environment's `linear_state`.
 *
 * The tracker stores one notice per successful deployment in the webhook's transaction; this worker works
 * them off outside it, with retries. Each issue is recorded in `done_keys` right after it is handled, so a
 * retry carries on where the failure was instead of commenting twice. (A crash between Linear's answer and
 * that record can still repeat one comment: Linear's createComment takes no idempotency key.)
 */
import type { Kysely } from "kysely";
import type { EnvironmentConfig } from "../config/config-file.js";
import { NotFoundError, RateLimitedError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { backoffMs, createWorkerLoop } from "../pipeline/worker-loop.js";
import type { WorkerLoop } from "../pipeline/worker-loop.js";
import type { GitHubApi } from "../sources/github/github-api.js";
import type { LinearApi } from "../sources/linear/linear-api.js";
import { findDeployment } from "../store/deployment-repository.js";
import type { DeploymentRow } from "../store/deployment-repository.js";
import { findReleaseByTag } from "../store/release-repository.js";
import type { DatabaseSchema } from "../store/schema.js";
import {
  claimShipNotice,
  finishShipNotice,
  listDueShipNotices,
  recordShipNoticeKeys,
  scheduleShipNoticeRetry,
} from "../store/ship-notice-repository.js";
import type { ShipNoticeRow } from "../store/ship-notice-repository.js";
import { linearKeysOfCommits } from "./release-planner.js";
import { deploymentLabel } from "../discord/render/deployment-card.js";

const BATCH_SIZE = 10;
/** How long a worker holds a notice it took; another process may take it after that (the first one died). */
const CLAIM_MS = 10 * 60_000;
/**
 * Notices older than this are dropped rather than sent: a Linear key configured weeks after the deploys
 * should not bury issues in stale "shipped" comments.
 */
const MAX_AGE_MS = 7 * 24 * 3_600_000;

export interface ShipNoticeWorkerOptions {
  db: Kysely<DatabaseSchema>;
  github: Pick<GitHubApi, "compareCommits" | "listPullRequests">;
  linear: Pick<LinearApi, "createComment" | "moveIssueToState">;
  environments: readonly EnvironmentConfig[];
  logger: Logger;
  metrics: Pick<Metrics, "shipNotices">;
  /** Attempts per notice before it is marked failed. Default 8. */
  maxAttempts?: number;
  /** First retry delay; later ones double, with jitter, up to `retryMaxMs`. Default 30 s and 30 min. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How often to look for due notices when not woken. Default 2 s. */
  pollMs?: number;
  clock?: () => number;
  random?: () => number;
}

export function createShipNoticeWorker(
  options: ShipNoticeWorkerOptions,
): WorkerLoop & { processDue(): Promise<number> } {
  const { db } = options;
  const clock = options.clock ?? Date.now;
  const retry = {
    baseMs: options.retryBaseMs ?? 30_000,
    maxMs: options.retryMaxMs ?? 30 * 60_000,
    random: options.random ?? Math.random,
  };
  const maxAttempts = options.maxAttempts ?? 8;

  async function processDue(): Promise<number> {
    const due = await listDueShipNotices(db, clock(), BATCH_SIZE);
    let handled = 0;
    for (const notice of due) {
      if (!(await claimShipNotice(db, notice, clock() + CLAIM_MS))) continue;
      await handle(notice);
      handled++;
    }
    return handled;
  }

  async function handle(notice: ShipNoticeRow): Promise<void> {
    const log = options.logger.child({ shipNotice: notice.id, deployment: notice.deployment_id });
    const deployment = await findDeployment(db, notice.deployment_id);
    if (!deployment) {
      await finishShipNotice(db, notice.id, { status: "failed", error: "The deployment no longer exists" });
      return;
    }
    if (clock() - notice.created_at > MAX_AGE_MS) {
      await finishShipNotice(db, notice.id, { status: "failed", error: "Too old to announce" });
      log.info("Ship notice dropped: older than a week");
      return;
    }
    try {
      const keys = await shippedKeys(deployment);
      const environment = options.environments.find((env) => env.name === deployment.environment);
      const done: string[] = JSON.parse(notice.done_keys) as string[];
      const comment = await shippedComment(deployment);
      for (const key of keys) {
        if (done.includes(key)) continue;
        await notifyIssue(key, comment, environment?.linear_state, log);
        done.push(key);
        await recordShipNoticeKeys(db, notice.id, done);
      }
      await finishShipNotice(db, notice.id, { status: "done" });
      log.info({ issues: keys.length }, "Shipped issues told in Linear");
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const attempt = notice.attempts + 1;
      if (attempt >= maxAttempts) {
        await finishShipNotice(db, notice.id, { status: "failed", error: reason });
        log.error({ err: error, attempt }, "Ship notice failed repeatedly and was given up");
        return;
      }
      const wait = Math.max(
        backoffMs(attempt, retry),
        error instanceof RateLimitedError ? (error.retryAfterMs ?? 0) : 0,
      );
      await scheduleShipNoticeRetry(db, notice.id, { at: clock() + wait, error: reason });
      log.warn({ err: error, attempt, retryInMs: Math.round(wait) }, "Ship notice failed; will retry");
    }
  }

  /**
   * Moves the issue first: a move is idempotent ("already there" is success), so a retry after a failed
   * comment repeats nothing visible. A key that names no issue (a false match) is skipped.
   */
  async function notifyIssue(
    key: string,
    comment: string,
    linearState: string | undefined,
    log: Logger,
  ): Promise<void> {
    try {
      if (linearState) {
        const moved = await options.linear.moveIssueToState(key, linearState);
        if (!moved) {
          log.warn(
            { issue: key, state: linearState },
            "The issue's team has no such workflow state: check linear_state in the environment's config",
          );
        }
      }
      await options.linear.createComment(key, comment);
      options.metrics.shipNotices.inc({ outcome: "ok" });
    } catch (error) {
      if (!(error instanceof NotFoundError)) {
        options.metrics.shipNotices.inc({ outcome: "error" });
        throw error;
      }
      options.metrics.shipNotices.inc({ outcome: "skipped" });
      log.info({ issue: key }, "No Linear issue has this key; skipped");
    }
  }

  /**
   * The Linear keys the shipped commits name: from what ran before (the deployment's previous commit) to its
   * commit. A first deployment has no start; the release's own keys stand in when it deployed a release.
   */
  async function shippedKeys(deployment: DeploymentRow): Promise<string[]> {
    const base = deployment.previous_sha;
    if (!base) {
      const release = await findReleaseByTag(db, deployment.repo, deployment.ref);
      return release ? (JSON.parse(release.linear_keys) as string[]) : [];
    }
    if (base === deployment.sha) return [];
    // A rollback compares "behind": nothing in head that is not in base, so nothing is announced as shipped.
    const comparison = await options.github.compareCommits(deployment.repo, base, deployment.sha);
    return linearKeysOfCommits(options.github, deployment.repo, comparison.commits);
  }

  async function shippedComment(deployment: DeploymentRow): Promise<string> {
    const release = await findReleaseByTag(db, deployment.repo, deployment.ref);
    const link = release?.url ?? deployment.log_url;
    const where = `Shipped to **${deployment.environment}** in ${shippedVersion(deployment)}`;
    return link && /^https?:\/\//i.test(link) ? `${where} (${link})` : where;
  }

  const loop = createWorkerLoop({
    runBatch: async () => ((await processDue()) === BATCH_SIZE ? 0 : (options.pollMs ?? 2000)),
    onError: (error) => options.logger.error({ err: error }, "Ship notice worker batch failed"),
  });
  return { ...loop, processDue };
}

/** `v1.2.3` when the ref is the release's tag, else the version or the ref. */
export function shippedVersion(deployment: Pick<DeploymentRow, "version" | "ref">): string {
  if (deployment.version && deployment.ref.endsWith(deployment.version)) return deployment.ref;
  return deploymentLabel(deployment);
}
