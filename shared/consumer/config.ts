/**
 * The consumer's configuration, read from the environment the `TaskQueue` construct sets and
 * validated once at module load.
 */
import { EnvVar, SQS_MAX_MESSAGE_BYTES, tierQueueUrlVar } from '../declaration.js';
import { ConfigError } from '../errors.js';

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
  /** The tier queues' `MaximumMessageSize`: no copy the consumer sends may exceed it. */
  readonly maxMessageBytes: number;
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

/** An integer variable within [min, max]; `fallback` when unset (required when undefined). */
function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number {
  const raw =
    fallback === undefined || (env[name] ?? '').trim() !== '' ? required(env, name) : String(fallback);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer ${min}–${max}`;
    throw new ConfigError(`${name} must be ${range}, got "${raw}"`);
  }
  return value;
}

/**
 * Reads and validates the consumer's environment (set by the `TaskQueue` construct), throwing a
 * `ConfigError` that names the first missing or malformed variable.
 *
 * @example
 * const config = loadConsumerConfig(process.env);
 */
export function loadConsumerConfig(env: NodeJS.ProcessEnv): ConsumerConfig {
  const tierNames = required(env, EnvVar.tiers)
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (tierNames.length === 0) throw new ConfigError(`${EnvVar.tiers} lists no tiers`);
  const maxReceiveCount = integer(env, EnvVar.maxReceiveCount, undefined, 1, Number.MAX_SAFE_INTEGER);
  return {
    maxHopSeconds: integer(env, EnvVar.maxHopSeconds, 900, 1, 900),
    // Older deployments set no limit: SQS's default queue size is its maximum.
    maxMessageBytes: integer(
      env,
      EnvVar.maxMessageBytes,
      SQS_MAX_MESSAGE_BYTES,
      1_024,
      SQS_MAX_MESSAGE_BYTES,
    ),
    tableName: required(env, EnvVar.tableName),
    deadLetterQueueUrl: required(env, EnvVar.deadLetterQueueUrl),
    tiers: tierNames.map((name) => ({ name, queueUrl: required(env, tierQueueUrlVar(name)) })),
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
