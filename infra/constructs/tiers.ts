import { Duration } from 'aws-cdk-lib';

/**
 * One priority tier: a standard SQS queue with its own event source mapping.
 *
 * @example
 * const tier: TierConfig = { name: 'critical', weight: 8, batchSize: 5 };
 */
export interface TierConfig {
  /** Lowercase name, 1–32 chars of `[a-z0-9-]`; used in queue names, env vars and outputs. */
  readonly name: string;
  /** Relative share of consumer capacity. Higher tiers get larger weights. */
  readonly weight: number;
  /** Records per invocation (1–10 without a batching window, up to 10,000 with one). Default 10. */
  readonly batchSize?: number;
  /** How long the event source mapping gathers records before invoking. Default: none. */
  readonly maxBatchingWindow?: Duration;
  /** Alarm when the oldest message in this tier is older than this. */
  readonly maxMessageAge?: Duration;
}

/** A tier with every default filled in and its computed concurrency share. */
export interface ResolvedTier {
  readonly name: string;
  readonly weight: number;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration | undefined;
  readonly maxMessageAge: Duration;
  readonly maxConcurrency: number;
}

/**
 * The default tiers: weights 8/4/2/1 favour higher tiers; every tier keeps at least the
 * AWS minimum of 2 concurrent invocations, so `low` never starves.
 */
export const DEFAULT_TIERS: readonly TierConfig[] = [
  { name: 'critical', weight: 8, batchSize: 5, maxMessageAge: Duration.minutes(1) },
  { name: 'high', weight: 4, batchSize: 10, maxMessageAge: Duration.minutes(5) },
  { name: 'normal', weight: 2, batchSize: 10, maxMessageAge: Duration.minutes(15) },
  {
    name: 'low',
    weight: 1,
    batchSize: 10,
    maxBatchingWindow: Duration.seconds(5),
    maxMessageAge: Duration.hours(1),
  },
];

/** AWS bounds for an SQS event source mapping's `ScalingConfig.MaximumConcurrency`. */
export const MIN_ESM_CONCURRENCY = 2;
export const MAX_ESM_CONCURRENCY = 1000;

const TIER_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** Most tiers a queue may have (the managed policies name every tier queue). */
export const MAX_TIERS = 10;

/**
 * Splits `total` concurrent invocations across tiers in proportion to their weights
 * (largest-remainder rounding), then raises any share below the AWS minimum of 2.
 * The sum can therefore exceed `total` by at most 2 per tier.
 *
 * @example
 * allocateConcurrency(20, [8, 4, 2, 1]); // [11, 5, 3, 2]
 */
export function allocateConcurrency(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((x, i) => ({ i, r: x - Math.floor(x), w: weights[i] ?? 0 }))
    .sort((a, b) => b.r - a.r || b.w - a.w || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left <= 0) break;
    shares[i] = (shares[i] ?? 0) + 1;
    left -= 1;
  }
  return shares.map((s) => Math.min(MAX_ESM_CONCURRENCY, Math.max(MIN_ESM_CONCURRENCY, s)));
}

/**
 * Validates tier configuration once, where it enters, and fills in defaults.
 * Throws an `Error` naming the offending tier and field.
 *
 * @example
 * const tiers = resolveTiers(DEFAULT_TIERS, 20);
 */
export function resolveTiers(tiers: readonly TierConfig[], totalConcurrency: number): ResolvedTier[] {
  if (tiers.length === 0) throw new Error('TaskQueue: at least one tier is required');
  // Each tier adds its queue's ARN to several statements of the operator's managed policy, which
  // IAM caps at 6,144 characters.
  if (tiers.length > MAX_TIERS) throw new Error(`TaskQueue: at most ${MAX_TIERS} tiers, got ${tiers.length}`);
  if (!Number.isInteger(totalConcurrency) || totalConcurrency < MIN_ESM_CONCURRENCY) {
    throw new Error(
      `TaskQueue: consumerConcurrency must be an integer >= ${MIN_ESM_CONCURRENCY}, got ${totalConcurrency}`,
    );
  }
  const seen = new Set<string>();
  for (const tier of tiers) {
    if (!TIER_NAME.test(tier.name)) {
      throw new Error(`TaskQueue: tier name "${tier.name}" must match ${TIER_NAME}`);
    }
    if (seen.has(tier.name)) throw new Error(`TaskQueue: tier "${tier.name}" is defined twice`);
    seen.add(tier.name);
    if (!(Number.isFinite(tier.weight) && tier.weight > 0)) {
      throw new Error(`TaskQueue: tier "${tier.name}" weight must be a positive number, got ${tier.weight}`);
    }
    const batchSize = tier.batchSize ?? 10;
    const limit = tier.maxBatchingWindow ? 10_000 : 10;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > limit) {
      throw new Error(`TaskQueue: tier "${tier.name}" batchSize must be 1–${limit}, got ${batchSize}`);
    }
  }
  const shares = allocateConcurrency(
    totalConcurrency,
    tiers.map((t) => t.weight),
  );
  return tiers.map((tier, i) => ({
    name: tier.name,
    weight: tier.weight,
    batchSize: tier.batchSize ?? 10,
    maxBatchingWindow: tier.maxBatchingWindow,
    maxMessageAge: tier.maxMessageAge ?? Duration.minutes(15),
    maxConcurrency: shares[i] ?? MIN_ESM_CONCURRENCY,
  }));
}

/** `critical` → `Critical`, `bulk-email` → `BulkEmail`: for construct ids and output names. */
export function pascalCase(name: string): string {
  return name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

/** `bulk-email` → `BULK_EMAIL`: for environment variable names. */
export function envCase(name: string): string {
  return name.replace(/-/g, '_').toUpperCase();
}
