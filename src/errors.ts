/**
 * Expected failures, typed so callers decide what to do: show a user the message, retry later, or tell the
 * operator which credential to fix. Anything else is a bug: logged with context, counted, and answered
 * with a reference.
 */

/** The user asked for something that cannot be done; the message says why and what to do instead. */
export class UserError extends Error {
  override readonly name = "UserError";
}

/** An API said "slow down"; retry after `retryAfterMs` when known. */
export class RateLimitedError extends Error {
  override readonly name = "RateLimitedError";
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** A credential was refused; the message names the variable to fix. */
export class AuthError extends Error {
  override readonly name = "AuthError";
}

/** The thing asked for does not exist (a repository, an issue, a team). */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}
