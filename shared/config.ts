import { ConfigError } from './errors.js';

/** One tier as the consumer sees it at run time. */
export interface TierEndpoint {
  readonly name: string;
  readonly queueUrl: string;
}

/** Everything the consumer reads from its environment, validated at module load. */
export interface ConsumerConfig {
  readonly tableName: string;
  readonly deadLetterQueueUrl: string;
  /** Highest priority first. */
  readonly tiers: readonly TierEndpoint[];
  /** The tier queues' redrive `maxReceiveCount`. */
  readonly maxReceiveCount: number;
  /** Longest single delay hop for not-yet-due tasks (`TIERQ_MAX_HOP_SECONDS`, 1–900, default 900). */
  readonly maxHopSeconds: number;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`environment variable ${name} is required but not set`);
  }
  return value;
}

/** `bulk-email` → `BULK_EMAIL`, as the construct names the per-tier variables. */
export function tierEnvName(tier: string): string {
  return `TIERQ_QUEUE_URL_${tier.replace(/-/g, '_').toUpperCase()}`;
}

/**
 * Reads and validates the consumer's environment (set by the `TaskQueue` construct), throwing a
 * `ConfigError` that names the first missing or malformed variable.
 *
 * @example
 * const config = loadConsumerConfig(process.env);
 */
export function loadConsumerConfig(env: NodeJS.ProcessEnv): ConsumerConfig {
  const tierNames = required(env, 'TIERQ_TIERS')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (tierNames.length === 0) throw new ConfigError('TIERQ_TIERS lists no tiers');
  const maxReceiveCount = Number(required(env, 'TIERQ_MAX_RECEIVE_COUNT'));
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1) {
    throw new ConfigError(
      `TIERQ_MAX_RECEIVE_COUNT must be a positive integer, got "${env.TIERQ_MAX_RECEIVE_COUNT}"`,
    );
  }
  const maxHopSeconds = Number(env.TIERQ_MAX_HOP_SECONDS ?? '900');
  if (!Number.isInteger(maxHopSeconds) || maxHopSeconds < 1 || maxHopSeconds > 900) {
    throw new ConfigError(
      `TIERQ_MAX_HOP_SECONDS must be an integer 1–900, got "${env.TIERQ_MAX_HOP_SECONDS}"`,
    );
  }
  return {
    maxHopSeconds,
    tableName: required(env, 'TIERQ_TABLE_NAME'),
    deadLetterQueueUrl: required(env, 'TIERQ_DLQ_URL'),
    tiers: tierNames.map((name) => ({ name, queueUrl: required(env, tierEnvName(name)) })),
    maxReceiveCount,
  };
}

/** The queue name at the end of an SQS queue URL or ARN. */
export function queueNameOf(urlOrArn: string): string {
  return urlOrArn.split(/[/:]/).pop() ?? urlOrArn;
}

/**
 * Finds the tier a record came from by matching its `eventSourceARN`'s queue name against the
 * tier queue URLs.
 *
 * @example
 * tierOfSource(config.tiers, 'arn:aws:sqs:us-east-1:123:tierq-CriticalQueue-ab12'); // 'critical'
 */
export function tierOfSource(tiers: readonly TierEndpoint[], eventSourceArn: string): string | undefined {
  const name = queueNameOf(eventSourceArn);
  return tiers.find((t) => queueNameOf(t.queueUrl) === name)?.name;
}
