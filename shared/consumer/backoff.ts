/**
 * How long a failed task waits before its next attempt: exponential backoff with full jitter,
 * and the retry policy's limits.
 */
import { ConfigError } from '../errors.js';

/**
 * How often and how patiently a failing task is retried.
 * `maxAttempts` counts every attempt, the first included.
 *
 * @example
 * ```ts
 * const policy: RetryPolicy = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 60_000 };
 * ```
 */
export type RetryPolicy = { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };

/**
 * SQS's longest visibility timeout (12 hours). It bounds how long a message can be hidden
 * counting from its receive, not from the change: a retry waiting longer is re-sent instead.
 */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

/**
 * Lambda's longest batching window: a record may have been received this long before the
 * invocation that handles it began.
 */
export const MAX_BATCHING_WINDOW_MS = 300_000;

/**
 * Five attempts, starting around one second and never waiting more than five minutes.
 *
 * @example
 * ```ts
 * const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 10 };
 * ```
 */
export const DEFAULT_RETRY_POLICY = {
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 300_000,
} as const satisfies RetryPolicy;

/**
 * Checks a policy where it enters (CDK props, task options) and returns it unchanged.
 * Throws {@link ConfigError} naming the first bad field.
 *
 * @example
 * ```ts
 * const policy = validateRetryPolicy({ ...DEFAULT_RETRY_POLICY, ...options.retry });
 * ```
 */
export function validateRetryPolicy(policy: RetryPolicy): RetryPolicy {
  const { maxAttempts, baseDelayMs, maxDelayMs } = policy;
  const maxDelayLimitMs = MAX_VISIBILITY_TIMEOUT_SECONDS * 1_000;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new ConfigError(`retry.maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  }
  if (!Number.isFinite(baseDelayMs) || baseDelayMs < 0) {
    throw new ConfigError(`retry.baseDelayMs must be a finite number >= 0, got ${baseDelayMs}`);
  }
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < baseDelayMs || maxDelayMs > maxDelayLimitMs) {
    throw new ConfigError(
      `retry.maxDelayMs must be between baseDelayMs (${baseDelayMs}) and ${maxDelayLimitMs} ` +
        `(SQS's 12-hour visibility limit), got ${maxDelayMs}`,
    );
  }
  return policy;
}

/**
 * Delay before retrying after failed attempt number `attempt` (1-based): exponential backoff
 * with full jitter, `random() * min(maxDelayMs, baseDelayMs * 2^(attempt-1))`, in whole ms.
 * Full jitter spreads retries of a burst of failures instead of retrying them in lockstep.
 *
 * @example
 * ```ts
 * backoffDelayMs(3, DEFAULT_RETRY_POLICY, () => 0.5); // 2000
 * ```
 */
export function backoffDelayMs(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  }
  // Capping the exponent keeps 2^n finite, so a zero base never becomes 0 * Infinity = NaN.
  const exponential = policy.baseDelayMs * 2 ** Math.min(attempt - 1, 1_023);
  const ceiling = Math.min(policy.maxDelayMs, exponential);
  // A misbehaving random source must not push the delay outside [0, ceiling).
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON) || 0;
  return Math.floor(r * ceiling);
}

/**
 * The SQS visibility timeout (whole seconds, rounded up, clamped to 0..43200) that hides a
 * message for at least `delayMs`.
 *
 * @example
 * ```ts
 * visibilityTimeoutSeconds(1_500); // 2
 * ```
 */
export function visibilityTimeoutSeconds(delayMs: number): number {
  if (Number.isNaN(delayMs)) return 0;
  const seconds = Math.ceil(delayMs / 1_000);
  return Math.min(Math.max(seconds, 0), MAX_VISIBILITY_TIMEOUT_SECONDS);
}

/**
 * The longest visibility timeout a change may still set on a message received at
 * `receivedAtMs` (or later): SQS holds a message at most 12 hours from its receive, whatever
 * the changes, and refuses one that would hold it longer.
 *
 * @example
 * ```ts
 * visibilityLeftSeconds(Date.now() - 30_000, Date.now()); // 43170
 * ```
 */
export function visibilityLeftSeconds(receivedAtMs: number, nowMs: number): number {
  return Math.max(0, MAX_VISIBILITY_TIMEOUT_SECONDS - Math.ceil((nowMs - receivedAtMs) / 1_000));
}
