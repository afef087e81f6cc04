import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '../errors.js';
import type { BackpressureOptions } from './backpressure.js';

/**
 * Where a producer sends tasks. `queues` maps each tier to its queue URL, highest priority first.
 *
 * @example
 * ```ts
 * const config: ProducerConfig = {
 *   region: 'eu-west-1',
 *   queues: { critical: criticalUrl, normal: normalUrl },
 *   table: 'tierq',
 *   defaultTier: 'normal',
 * };
 * ```
 */
export interface ProducerConfig<Tier extends string = string> {
  readonly region: string;
  /** Emulator endpoints; when set, clients the producer creates use them. */
  readonly endpoints?: { readonly sqs: string; readonly dynamodb: string };
  /** Queue URL per tier, highest priority first; the tier names type `priority`. */
  readonly queues: Readonly<Record<Tier, string>>;
  /** The tierq table, used for enqueue-time deduplication. */
  readonly table: string;
  /** Static credentials for the clients the producer creates (emulators accept any). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly sqs?: SQSClient;
  readonly dynamodb?: DynamoDBClient;
  /** Tier used when an enqueue names none. Default: the middle tier, rounding towards lower priority. */
  readonly defaultTier?: NoInfer<Tier>;
  /** Bound each tier's backlog; without it the producer never checks depth. */
  readonly backpressure?: BackpressureOptions;
  /**
   * Check each payload against its task's contract (schema) before sending, when the task is
   * given as a contract or definition rather than a name. Default true.
   */
  readonly validatePayloads?: boolean;
}

/**
 * Checks a config where it enters; returns the tier names (highest first) and the default tier.
 *
 * @example
 * ```ts
 * const { tiers, defaultTier } = validateProducerConfig(config);
 * ```
 */
export function validateProducerConfig<Tier extends string>(
  config: ProducerConfig<Tier>,
): { tiers: string[]; defaultTier: string } {
  const tiers = Object.keys(config.queues);
  if (tiers.length === 0) throw new ConfigError('producer config: queues must name at least one tier');
  if (!config.table) throw new ConfigError('producer config: table is required');
  const defaultTier = config.defaultTier ?? (tiers[Math.floor(tiers.length / 2)] as string);
  if (!tiers.includes(defaultTier)) {
    throw new ConfigError(`producer config: defaultTier "${defaultTier}" is not one of ${tiers.join(', ')}`);
  }
  return { tiers, defaultTier };
}
