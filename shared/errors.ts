/**
 * Base class of every error tierq throws on purpose, so callers can tell "ours" from a bug.
 * Subclasses carry the domain fields a handler needs to decide: retry, defer or dead-letter.
 *
 * @example
 * ```ts
 * if (error instanceof TierqError) logger.warn(error.message, { name: error.name });
 * ```
 */
export class TierqError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // Set explicitly rather than from the constructor: bundlers may minify class names.
    this.name = 'TierqError';
  }
}

/**
 * Thrown by a task to say "retrying will not help": the message goes to the DLQ at once
 * instead of consuming the remaining attempts (like BullMQ's `UnrecoverableError`).
 *
 * @example
 * ```ts
 * if (!user) throw new PermanentTaskError(`user ${payload.userId} does not exist`);
 * ```
 */
export class PermanentTaskError extends TierqError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentTaskError';
  }
}

/**
 * A task ran longer than its configured timeout. Retried like any other failure.
 *
 * @example
 * ```ts
 * throw new TaskTimeoutError({ taskName: 'send-email', timeoutMs: 30_000 });
 * ```
 */
export class TaskTimeoutError extends TierqError {
  readonly taskName: string;
  readonly timeoutMs: number;
  constructor(props: { taskName: string; timeoutMs: number }, options?: ErrorOptions) {
    super(`task "${props.taskName}" timed out after ${props.timeoutMs} ms`, options);
    this.name = 'TaskTimeoutError';
    ({ taskName: this.taskName, timeoutMs: this.timeoutMs } = props);
  }
}

/**
 * Why a message was rejected before any task ran; such messages go to the DLQ at once.
 *
 * @example
 * ```ts
 * if (error.code === InvalidMessageCode.UnsupportedVersion) alarmOnFutureProducer();
 * ```
 */
export const InvalidMessageCode = {
  InvalidJson: 'invalid-json',
  InvalidEnvelope: 'invalid-envelope',
  UnsupportedVersion: 'unsupported-version',
  UnknownTask: 'unknown-task',
  InvalidPayload: 'invalid-payload',
} as const;

/** One of the values of {@link InvalidMessageCode}. */
export type InvalidMessageCode = (typeof InvalidMessageCode)[keyof typeof InvalidMessageCode];

/**
 * A message that can never be processed: not JSON, not a v1 envelope, an unknown task or a
 * payload the task rejects. `reason` is a readable sentence recorded on the DLQ message.
 *
 * @example
 * ```ts
 * throw new InvalidMessageError({ code: InvalidMessageCode.UnknownTask, reason: 'no task "sendMail"' });
 * ```
 */
export class InvalidMessageError extends TierqError {
  readonly code: InvalidMessageCode;
  readonly reason: string;
  constructor(props: { code: InvalidMessageCode; reason: string }, options?: ErrorOptions) {
    super(props.reason, options);
    this.name = 'InvalidMessageError';
    ({ code: this.code, reason: this.reason } = props);
  }
}

/**
 * The idempotency key was already used with a different payload hash (a producer bug).
 *
 * @example
 * ```ts
 * throw new IdempotencyConflictError({ key: 'order-42' });
 * ```
 */
export class IdempotencyConflictError extends TierqError {
  readonly key: string;
  constructor(props: { key: string }, options?: ErrorOptions) {
    super(`idempotency key "${props.key}" was already used with a different payload`, options);
    this.name = 'IdempotencyConflictError';
    this.key = props.key;
  }
}

/**
 * Another invocation holds the idempotency lock for this key until `lockExpiresAt` (ms epoch).
 *
 * @example
 * ```ts
 * throw new IdempotencyInProgressError({ key: 'order-42', lockExpiresAt: Date.now() + 60_000 });
 * ```
 */
export class IdempotencyInProgressError extends TierqError {
  readonly key: string;
  readonly lockExpiresAt: number;
  constructor(props: { key: string; lockExpiresAt: number }, options?: ErrorOptions) {
    const until = new Date(props.lockExpiresAt).toISOString();
    super(`idempotency key "${props.key}" is being processed; its lock expires at ${until}`, options);
    this.name = 'IdempotencyInProgressError';
    ({ key: this.key, lockExpiresAt: this.lockExpiresAt } = props);
  }
}

/**
 * The task's rate limit grants no token now: its bucket is too contended to take from (every
 * write lost to another consumer's). The records are deferred by `retryAfterMs`, not failed.
 *
 * @example
 * ```ts
 * throw new RateLimitedError({ taskName: 'call-partner-api', retryAfterMs: 250 });
 * ```
 */
export class RateLimitedError extends TierqError {
  readonly taskName: string;
  readonly retryAfterMs: number;
  constructor(props: { taskName: string; retryAfterMs: number; reason?: string }, options?: ErrorOptions) {
    const why = props.reason === undefined ? '' : ` (${props.reason})`;
    super(`task "${props.taskName}" is rate limited${why}; retry after ${props.retryAfterMs} ms`, options);
    this.name = 'RateLimitedError';
    ({ taskName: this.taskName, retryAfterMs: this.retryAfterMs } = props);
  }
}

/**
 * The producer refused to enqueue because the tier's backlog reached its configured maximum.
 *
 * @example
 * ```ts
 * throw new QueueFullError({ tier: 'bulk', depth: 100_000, maxDepth: 100_000 });
 * ```
 */
export class QueueFullError extends TierqError {
  readonly tier: string;
  readonly depth: number;
  readonly maxDepth: number;
  constructor(props: { tier: string; depth: number; maxDepth: number }, options?: ErrorOptions) {
    super(`tier "${props.tier}" is full: ${props.depth} messages, maximum ${props.maxDepth}`, options);
    this.name = 'QueueFullError';
    ({ tier: this.tier, depth: this.depth, maxDepth: this.maxDepth } = props);
  }
}

/**
 * A message is larger than its queue's MaximumMessageSize accepts — counting its attributes and
 * the bookkeeping tierq adds to a copy it re-sends; nothing was sent.
 *
 * @example
 * ```ts
 * if (error instanceof MessageTooLargeError) storeInS3AndSendPointer(payload, error.bytes);
 * ```
 */
export class MessageTooLargeError extends TierqError {
  readonly bytes: number;
  readonly limit: number;
  constructor(props: { task: string; bytes: number; limit: number }, options?: ErrorOptions) {
    super(
      `message for task "${props.task}" is ${props.bytes} bytes with the tier attribute and the ` +
        `bookkeeping tierq adds when it re-sends a task, over its queue's limit of ${props.limit} bytes`,
      options,
    );
    this.name = 'MessageTooLargeError';
    ({ bytes: this.bytes, limit: this.limit } = props);
  }
}

/**
 * An enqueue named a priority tier the producer has no queue for; nothing was sent.
 *
 * @example
 * ```ts
 * throw new UnknownTierError({ tier: 'urgent', tiers: ['critical', 'normal'] });
 * ```
 */
export class UnknownTierError extends TierqError {
  readonly tier: string;
  readonly tiers: readonly string[];
  constructor(props: { tier: string; tiers: readonly string[] }, options?: ErrorOptions) {
    super(`unknown priority "${props.tier}"; the tiers are: ${props.tiers.join(', ')}`, options);
    this.name = 'UnknownTierError';
    ({ tier: this.tier, tiers: this.tiers } = props);
  }
}

/**
 * A missing or invalid environment variable or configuration value, found where it enters.
 *
 * @example
 * ```ts
 * if (!process.env.TIERQ_TABLE) throw new ConfigError('environment variable TIERQ_TABLE is not set');
 * ```
 */
export class ConfigError extends TierqError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/**
 * A storage call failed in a way the domain cannot handle; the SDK error is the `cause`.
 *
 * @example
 * ```ts
 * throw new StoreError({ operation: 'idempotency.acquire' }, { cause: sdkError });
 * ```
 */
export class StoreError extends TierqError {
  /** The logical operation that failed, e.g. `idempotency.acquire` or `rate-limit.take`. */
  readonly operation: string;
  constructor(props: { operation: string; message?: string }, options?: ErrorOptions) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(props.message ?? `store operation "${props.operation}" failed${detail}`, options);
    this.name = 'StoreError';
    this.operation = props.operation;
  }
}

/**
 * Thrown by a task when its downstream pushes back (an HTTP 429, a 503 with `Retry-After`): the
 * record is deferred by `retryAfterMs` (held to 1 s – 12 h) without spending an attempt, the
 * task's rate limiter (if it has one) holds off until then, and a circuit breaker does not count
 * it as a failure.
 *
 * @example
 * ```ts
 * if (response.status === 429) {
 *   throw new BackPressureError({ retryAfterMs: retryAfterMs(response.headers.get('retry-after')) ?? 5_000 });
 * }
 * ```
 */
export class BackPressureError extends TierqError {
  readonly retryAfterMs: number;
  /** The bounds a wait is held to: at least a second (no busy loop), at most 12 hours. */
  static readonly MIN_MS = 1_000;
  static readonly MAX_MS = 12 * 3_600_000;

  constructor(props: { retryAfterMs: number; reason?: string }, options?: ErrorOptions) {
    const asked = Number.isFinite(props.retryAfterMs)
      ? Math.ceil(props.retryAfterMs)
      : BackPressureError.MIN_MS;
    const retryAfterMs = Math.min(BackPressureError.MAX_MS, Math.max(BackPressureError.MIN_MS, asked));
    const why = props.reason === undefined ? 'the downstream pushed back' : props.reason;
    super(`${why}; retry after ${retryAfterMs} ms`, options);
    this.name = 'BackPressureError';
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The wait an HTTP `Retry-After` header asks for, in ms: delay-seconds or an HTTP date
 * (RFC 9110 §10.2.3). `undefined` when the header is missing or unreadable.
 *
 * @example
 * retryAfterMs('120'); // 120_000
 * retryAfterMs('Wed, 21 Oct 2026 07:28:00 GMT', Date.parse('Wed, 21 Oct 2026 07:27:00 GMT')); // 60_000
 */
export function retryAfterMs(header: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  // An HTTP date names its weekday and month; Date.parse alone would take "-5" as a year.
  const at = /^[A-Za-z]{3}, /.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
