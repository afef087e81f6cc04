/**
 * The rate limiter's interface: a token bucket per task name shared by every consumer. It imports
 * no implementation; `DynamoRateLimiter` implements it.
 */
import type { RateLimit } from '../token-bucket.js';

/**
 * What {@link RateLimiter.acquire} grants: between 0 and the requested tokens, and how long to
 * wait before asking again when fewer were granted (0 otherwise).
 *
 * @example
 * ```ts
 * const { granted, retryAfterMs }: RateLimitGrant = await limiter.acquire('call-api', limit, 10);
 * ```
 */
export type RateLimitGrant = { granted: number; retryAfterMs: number };

/**
 * A token bucket per task name shared by every consumer.
 *
 * @example
 * ```ts
 * const limiter: RateLimiter = new DynamoRateLimiter(ddb, 'tierq');
 * const { granted } = await limiter.acquire('call-api', { perSecond: 5, burst: 10 }, records.length);
 * ```
 */
export interface RateLimiter {
  /** Takes up to `requested` tokens; a partial grant is normal, the caller defers the rest. */
  acquire(taskName: string, limit: RateLimit, requested: number, nowMs?: number): Promise<RateLimitGrant>;
  /**
   * Empties the bucket until `untilMs`: the downstream asked for a pause (HTTP 429,
   * `Retry-After`), so no consumer takes a token before then. Optional for custom limiters.
   */
  holdOff?(taskName: string, limit: RateLimit, untilMs: number, nowMs?: number): Promise<void>;
}
