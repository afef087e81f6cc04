import { ConfigError } from './errors.js';

/**
 * A rate limit: tokens refill continuously at `perSecond`, and at most `burst` can be saved up.
 *
 * @example
 * ```ts
 * const limit: RateLimit = { perSecond: 10, burst: 20 };
 * ```
 */
export type RateLimit = { perSecond: number; burst: number };

/**
 * A bucket's stored state: fractional `tokens` as of `updatedAtMs` (ms epoch).
 *
 * @example
 * ```ts
 * const state: BucketState = { tokens: 2.5, updatedAtMs: Date.now() };
 * ```
 */
export type BucketState = { tokens: number; updatedAtMs: number };

/**
 * The outcome of {@link tryTake}: how many tokens were granted, the state to store, and how
 * long to wait for the next token when fewer than requested were granted (0 otherwise).
 *
 * @example
 * ```ts
 * const { granted, retryAfterMs }: TakeResult = tryTake(state, limit, 1, Date.now());
 * ```
 */
export type TakeResult = { granted: number; state: BucketState; retryAfterMs: number };

// Refill arithmetic in floating point can leave 0.9999999999 where exactly 1 token is due.
const EPSILON = 1e-9;

/**
 * Checks a rate limit where it enters and returns it unchanged; throws {@link ConfigError}.
 *
 * @example
 * ```ts
 * const limit = validateRateLimit({ perSecond: 5, burst: 10 });
 * ```
 */
export function validateRateLimit(limit: RateLimit): RateLimit {
  if (!Number.isFinite(limit.perSecond) || limit.perSecond <= 0) {
    throw new ConfigError(`rateLimit.perSecond must be a finite number > 0, got ${limit.perSecond}`);
  }
  if (!Number.isSafeInteger(limit.burst) || limit.burst < 1) {
    throw new ConfigError(`rateLimit.burst must be an integer >= 1, got ${limit.burst}`);
  }
  return limit;
}

/**
 * A new bucket, full: the first `burst` requests go through at once.
 *
 * @example
 * ```ts
 * const state = freshBucket({ perSecond: 1, burst: 5 }, Date.now()); // { tokens: 5, ... }
 * ```
 */
export function freshBucket(limit: RateLimit, nowMs: number): BucketState {
  return { tokens: limit.burst, updatedAtMs: nowMs };
}

/**
 * The state at `nowMs`: tokens earned since `updatedAtMs`, capped at `burst`. `undefined`
 * means a bucket never used, which starts full. A clock that went backwards earns nothing and
 * keeps the later timestamp, so the same interval is never credited twice.
 *
 * @example
 * ```ts
 * refill({ tokens: 0, updatedAtMs: 0 }, { perSecond: 2, burst: 10 }, 1_500); // { tokens: 3, updatedAtMs: 1500 }
 * ```
 */
export function refill(state: BucketState | undefined, limit: RateLimit, nowMs: number): BucketState {
  if (state === undefined) return freshBucket(limit, nowMs);
  const tokens = Math.min(Math.max(state.tokens, 0), limit.burst);
  if (!(nowMs > state.updatedAtMs)) return { tokens, updatedAtMs: state.updatedAtMs };
  const earned = ((nowMs - state.updatedAtMs) * limit.perSecond) / 1_000;
  return { tokens: Math.min(limit.burst, tokens + earned), updatedAtMs: nowMs };
}

/**
 * Takes up to `requested` whole tokens at `nowMs`, granting as many as are available
 * (a partial grant is allowed; the caller defers the rest by `retryAfterMs`).
 *
 * @example
 * ```ts
 * const { granted, state: next, retryAfterMs } = tryTake(stored, limit, batch.length, Date.now());
 * ```
 */
export function tryTake(
  state: BucketState | undefined,
  limit: RateLimit,
  requested: number,
  nowMs: number,
): TakeResult {
  if (!Number.isSafeInteger(requested) || requested < 0) {
    throw new RangeError(`requested tokens must be an integer >= 0, got ${requested}`);
  }
  const current = refill(state, limit, nowMs);
  const available = Math.floor(current.tokens + EPSILON);
  const granted = Math.min(requested, available);
  const tokens = Math.max(0, current.tokens - granted);
  const next = { tokens, updatedAtMs: current.updatedAtMs };
  if (granted === requested) return { granted, state: next, retryAfterMs: 0 };
  const missing = 1 - tokens;
  // A bucket held off (back-pressure) refills only from its timestamp, which is ahead.
  const heldMs = Math.max(0, current.updatedAtMs - nowMs);
  return {
    granted,
    state: next,
    retryAfterMs: heldMs + Math.max(1, Math.ceil((missing * 1_000) / limit.perSecond)),
  };
}
