import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import type { ConsumerConfig } from '../shared/consumer/config.js';
import { createConsumer } from '../shared/consumer/consumer.js';
import { SQS_MAX_MESSAGE_BYTES } from '../shared/declaration.js';
import { defineTask, type IdempotencyMode, TaskRegistry } from '../shared/registry.js';
import { DynamoBreakerStore } from '../shared/stores/dynamo-breaker-store.js';
import { DynamoPausedTasks } from '../shared/stores/dynamo-pause-store.js';
import { DynamoRateLimiter } from '../shared/stores/dynamo-rate-limiter.js';
import { DynamoTaskStore } from '../shared/stores/dynamo-task-store.js';
import { RequestCounter } from './lib/counting.js';
import { createQueue, createTable, dynamoClient, type Endpoints, uniqueName } from './lib/resources.js';
import { createPowertoolsConsumer } from './peers/powertools-consumer.js';

/** An SQS batch handler, whichever library built it. */
export type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** One consumer under test, with the counters on the clients it was given. */
export interface ConsumerVariant {
  readonly name: VariantName;
  readonly description: string;
  readonly handler: BatchHandler;
  readonly dynamodb: RequestCounter;
  readonly sqs: RequestCounter;
  readonly table: string;
  readonly client: ReturnType<typeof dynamoClient>;
  /** How many times the task's own code ran: a redelivered duplicate must not add one. */
  runs(): number;
}

/** The variants of the consumer-overhead benchmark, in report order. */
export const VARIANTS = [
  'tierq-lock-rl',
  'tierq-once-rl',
  'tierq-lock',
  'tierq-lock-rl-breaker',
  'powertools',
] as const;
export type VariantName = (typeof VARIANTS)[number];

// High enough that a benchmark never waits for tokens: the limiter's cost, not its effect.
const NO_DEFERRAL_LIMIT = { perSecond: 1_000_000, burst: 1_000_000 };

const DESCRIPTIONS: Record<VariantName, string> = {
  'tierq-lock-rl': 'tierq, idempotency `lock`, rate limit on',
  'tierq-once-rl': 'tierq, idempotency `once`, rate limit on',
  'tierq-lock': 'tierq, idempotency `lock`, no rate limit (for reference)',
  'tierq-lock-rl-breaker': 'tierq, idempotency `lock`, rate limit on, a circuit breaker (closed)',
  powertools: 'Middy + Powertools BatchProcessor + makeIdempotent (baseline)',
};

/**
 * The tier queues and DLQ the tierq consumer is configured with. The records' eventSourceARN
 * names the `normal` queue; nothing is sent to these queues unless a record is deferred or
 * dead-lettered, which the benchmark treats as an error.
 */
export async function consumerQueues(
  sqs: SQSClient,
): Promise<{ config: Omit<ConsumerConfig, 'tableName'>; arn: string }> {
  const tiers = ['critical', 'high', 'normal', 'low'];
  const queues = await Promise.all(tiers.map((tier) => createQueue(sqs, uniqueName(`bench-${tier}`))));
  const dlq = await createQueue(sqs, uniqueName('bench-dlq'));
  return {
    config: {
      deadLetterQueueUrl: dlq.url,
      tiers: tiers.map((name, i) => ({ name, queueUrl: (queues[i] as { url: string }).url })),
      maxReceiveCount: 10,
      maxHopSeconds: 900,
      maxMessageBytes: SQS_MAX_MESSAGE_BYTES,
    },
    arn: (queues[2] as { arn: string }).arn,
  };
}

/**
 * Builds one variant on fresh clients and its own table on the shared DynamoDB Local.
 *
 * @example
 * const v = await createVariant('tierq-lock-rl', endpoints, queues.config, sqs, sqsCounter);
 */
export async function createVariant(
  name: VariantName,
  endpoints: Endpoints,
  queueConfig: Omit<ConsumerConfig, 'tableName'>,
  sqs: SQSClient,
  sqsCounter: RequestCounter,
): Promise<ConsumerVariant> {
  const dynamodb = new RequestCounter({ consumedCapacity: true });
  const client = dynamodb.attach(dynamoClient(endpoints));
  const table = uniqueName(`bench-${name}`);
  await createTable(client, table, name === 'powertools' ? 'id' : 'pk-sk');
  let runs = 0;
  const work = () => {
    runs += 1;
    return { ok: true };
  };
  const common = {
    name,
    description: DESCRIPTIONS[name],
    dynamodb,
    sqs: sqsCounter,
    table,
    client,
    runs: () => runs,
  };
  if (name === 'powertools') {
    return { ...common, handler: createPowertoolsConsumer({ dynamodb: client, tableName: table, work }) };
  }
  const mode: IdempotencyMode = name === 'tierq-once-rl' ? 'once' : 'lock';
  const noop = defineTask({
    name: 'noop',
    schema: z.unknown(),
    idempotency: { mode },
    ...(name === 'tierq-lock' ? {} : { rateLimit: NO_DEFERRAL_LIMIT }),
    ...(name === 'tierq-lock-rl-breaker' ? { breaker: { name: 'downstream' } } : {}),
    handler: work,
  });
  const config: ConsumerConfig = { ...queueConfig, tableName: table };
  const handler = createConsumer({
    config,
    registry: new TaskRegistry([noop]),
    sqs,
    store: new DynamoTaskStore(client, table),
    limiter: new DynamoRateLimiter(client, table),
    breakers: new DynamoBreakerStore(client, table),
    pauses: new DynamoPausedTasks(client, table),
    metrics: new Metrics({ namespace: 'tierq-bench' }),
    now: Date.now,
    maxHopSeconds: config.maxHopSeconds,
  });
  return { ...common, handler: (event, context) => handler(event, context) };
}
