/**
 * The API clients' typed failures, told to the person who ran the command. The dispatcher shows a
 * UserError's message and treats anything else as a bug, so a command wraps its API calls here: a rate
 * limit becomes "try again in 3 min", refused credentials name the variable the operator must fix (and are
 * logged for the operator too), and anything unexpected goes on to the dispatcher unchanged.
 */
import { AuthError, NotFoundError, RateLimitedError, UserError } from "../errors.js";
import type { Logger } from "../observability/logger.js";

export type ApiService = "GitHub" | "Linear";

export async function explainingApiFailures<T>(
  service: ApiService,
  logger: Logger,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw explainApiFailure(service, logger, error);
  }
}

export function explainApiFailure(service: ApiService, logger: Logger, error: unknown): unknown {
  if (error instanceof RateLimitedError) {
    logger.warn({ err: error, retryAfterMs: error.retryAfterMs }, `${service} API rate limited`);
    return new UserError(
      `${service} is rate limiting Switchboard right now: try again ${waitHint(error.retryAfterMs)}.`,
    );
  }
  if (error instanceof AuthError) {
    logger.error({ err: error }, `${service} refused the configured credentials`);
    return new UserError(error.message);
  }
  if (error instanceof NotFoundError) return new UserError(error.message);
  return error;
}

/** `in 42 s`, `in about 3 min`, `later` when the API did not say. */
export function waitHint(retryAfterMs: number | undefined): string {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return "later";
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  if (seconds < 90) return `in ${seconds} s`;
  return `in about ${Math.ceil(seconds / 60)} min`;
}
