import { readFile } from 'node:fs/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '../errors.js';

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
export interface ProducerConfig {
  readonly region: string;
  /** Emulator endpoints; when set, clients the producer creates use them. */
  readonly endpoints?: { readonly sqs: string; readonly dynamodb: string };
  readonly queues: Readonly<Record<string, string>>;
  /** The tierq table, used for enqueue-time deduplication. */
  readonly table: string;
  /** Static credentials for the clients the producer creates (emulators accept any). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly sqs?: SQSClient;
  readonly dynamodb?: DynamoDBClient;
  /** Tier used when an enqueue names none. Default: the middle tier, rounding towards lower priority. */
  readonly defaultTier?: string;
}

/** The emulators accept any credentials; these keep the SDK from looking for real ones. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * Reads the connection file the local stack writes (`npm start`) and returns a producer config.
 * Throws {@link ConfigError} naming the path when it is missing or malformed.
 *
 * @example
 * ```ts
 * const producer = createProducer(await loadLocalConfig());
 * ```
 */
export async function loadLocalConfig(path = '.tierq/local.json'): Promise<ProducerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read ${path}; start the local stack with npm start`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${path} is not valid JSON; restart the local stack with npm start`, { cause });
  }
  const info = raw as Partial<Record<'region' | 'table', unknown>> & {
    endpoints?: { sqs?: unknown; dynamodb?: unknown };
    queues?: unknown;
  };
  const queues = info.queues;
  const valid =
    typeof info.region === 'string' &&
    typeof info.table === 'string' &&
    typeof info.endpoints?.sqs === 'string' &&
    typeof info.endpoints?.dynamodb === 'string' &&
    typeof queues === 'object' &&
    queues !== null &&
    Object.keys(queues).length > 0 &&
    Object.values(queues).every((url) => typeof url === 'string');
  if (!valid) {
    throw new ConfigError(
      `${path} lacks region, endpoints, queues or table; restart the local stack with npm start`,
    );
  }
  return {
    region: info.region as string,
    endpoints: { sqs: info.endpoints?.sqs as string, dynamodb: info.endpoints?.dynamodb as string },
    queues: queues as Record<string, string>,
    table: info.table as string,
    credentials: LOCAL_CREDENTIALS,
  };
}

/**
 * Checks a config where it enters; returns the tier names (highest first) and the default tier.
 *
 * @example
 * ```ts
 * const { tiers, defaultTier } = validateProducerConfig(config);
 * ```
 */
export function validateProducerConfig(config: ProducerConfig): { tiers: string[]; defaultTier: string } {
  const tiers = Object.keys(config.queues);
  if (tiers.length === 0) throw new ConfigError('producer config: queues must name at least one tier');
  if (!config.table) throw new ConfigError('producer config: table is required');
  const defaultTier = config.defaultTier ?? (tiers[Math.floor(tiers.length / 2)] as string);
  if (!tiers.includes(defaultTier)) {
    throw new ConfigError(`producer config: defaultTier "${defaultTier}" is not one of ${tiers.join(', ')}`);
  }
  return { tiers, defaultTier };
}
