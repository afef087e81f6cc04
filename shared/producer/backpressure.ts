import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError, QueueFullError } from '../errors.js';

/**
 * What a producer does when a tier's backlog has reached `maxDepth`:
 * `block` waits (with backoff, up to `blockTimeoutMs`) for the depth to fall below it, then sends
 * or throws {@link QueueFullError}; `drop` sends nothing and returns status `dropped`; `error`
 * throws {@link QueueFullError} at once.
 *
 * @example
 * ```ts
 * const strategy: BackpressureStrategy = 'block';
 * ```
 */
export type BackpressureStrategy = 'block' | 'drop' | 'error';

/**
 * Backpressure on enqueue, like BullMQ's or Celery's bounded queues. Depth is SQS's
 * `ApproximateNumberOfMessages` (visible backlog), read at most once per `cacheMs` per tier and
 * shared by concurrent enqueues; messages this producer sent since the read are added to it, so
 * a burst cannot overshoot the bound by a whole cache period's worth of sends.
 *
 * @example
 * ```ts
 * const backpressure: BackpressureOptions = { maxDepth: { low: 10_000 }, strategy: 'drop' };
 * ```
 */
export interface BackpressureOptions {
  /** One bound for every tier, or a bound per tier (tiers not named are unbounded). */
  readonly maxDepth: number | Readonly<Record<string, number>>;
  readonly strategy: BackpressureStrategy;
  /** How long `block` waits before giving up with a QueueFullError. Default 30 000. */
  readonly blockTimeoutMs?: number;
  /** How long one depth reading is trusted. Default 1 000. */
  readonly cacheMs?: number;
}

interface Reading {
  depth: number;
  readAt: number;
  pending?: Promise<number>;
}

/** Pauses of `block` between readings: doubling from 100 ms to 2 s. */
const BLOCK_BACKOFF = { firstMs: 100, maxMs: 2_000 } as const;

/**
 * Tracks tier depths for one producer and applies its {@link BackpressureOptions}.
 *
 * @example
 * ```ts
 * const gate = new DepthGate(sqs, { maxDepth: 1_000, strategy: 'error' });
 * if ((await gate.admit('low', lowUrl)) === 'drop') return;
 * gate.sent('low', 1);
 * ```
 */
export class DepthGate {
  private readonly readings = new Map<string, Reading>();
  private readonly blockTimeoutMs: number;
  private readonly cacheMs: number;

  constructor(
    private readonly sqs: SQSClient,
    private readonly options: BackpressureOptions,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    const bounds =
      typeof options.maxDepth === 'number' ? [options.maxDepth] : Object.values(options.maxDepth);
    for (const bound of bounds) {
      if (!(Number.isInteger(bound) && bound > 0)) {
        throw new ConfigError(`producer backpressure: maxDepth must be a positive integer, got ${bound}`);
      }
    }
    if (!['block', 'drop', 'error'].includes(options.strategy)) {
      throw new ConfigError(
        `producer backpressure: strategy must be block, drop or error, got ${options.strategy}`,
      );
    }
    this.blockTimeoutMs = options.blockTimeoutMs ?? 30_000;
    this.cacheMs = options.cacheMs ?? 1_000;
  }

  /**
   * Resolves `'send'` when the tier has room (after waiting, for `block`), `'drop'` when the
   * strategy is `drop` and it has none; throws {@link QueueFullError} for `error`, or for
   * `block` once the deadline has passed. Errors reading the depth propagate (nothing sent).
   */
  async admit(tier: string, queueUrl: string): Promise<'send' | 'drop'> {
    const maxDepth = this.boundOf(tier);
    if (maxDepth === undefined) return 'send';
    const deadline = this.now() + this.blockTimeoutMs;
    let pauseMs: number = BLOCK_BACKOFF.firstMs;
    for (;;) {
      const read = await this.depth(tier, queueUrl);
      // Concurrent callers share one reading; the claims made since it are in reading.depth,
      // checked and bumped without an await in between, so the bound holds within this producer.
      const depth = this.readings.get(tier)?.depth ?? read;
      if (depth < maxDepth) {
        // Claim the slot now, so concurrent enqueues see it before the send completes.
        this.sent(tier, 1);
        return 'send';
      }
      if (this.options.strategy === 'drop') return 'drop';
      if (this.options.strategy === 'error' || this.now() + pauseMs > deadline) {
        throw new QueueFullError({ tier, depth, maxDepth });
      }
      await this.sleep(pauseMs);
      pauseMs = Math.min(pauseMs * 2, BLOCK_BACKOFF.maxMs);
      this.readings.delete(tier); // a wait ends with a fresh reading, not a stale one
    }
  }

  /** Counts messages sent to `tier` since the last reading (negative to give a slot back). */
  sent(tier: string, count: number): void {
    const reading = this.readings.get(tier);
    if (reading !== undefined) reading.depth += count;
  }

  private boundOf(tier: string): number | undefined {
    const { maxDepth } = this.options;
    return typeof maxDepth === 'number' ? maxDepth : maxDepth[tier];
  }

  private async depth(tier: string, queueUrl: string): Promise<number> {
    const cached = this.readings.get(tier);
    if (cached?.pending) return cached.pending;
    if (cached !== undefined && this.now() - cached.readAt < this.cacheMs) return cached.depth;
    const reading: Reading = cached ?? { depth: 0, readAt: 0 };
    reading.pending = this.read(queueUrl).then(
      (depth) => {
        Object.assign(reading, { depth, readAt: this.now(), pending: undefined });
        return depth;
      },
      (error: unknown) => {
        this.readings.delete(tier);
        throw error;
      },
    );
    this.readings.set(tier, reading);
    return reading.pending;
  }

  private async read(queueUrl: string): Promise<number> {
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(Attributes.ApproximateNumberOfMessages ?? 0);
  }
}
