/**
 * `createDefaultConsumer`: the consumer wired to the stack's table, SQS and Powertools Metrics,
 * as a Lambda entry point wants it.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { TaskRegistry } from '../registry.js';
import { DynamoBreakerStore } from '../stores/dynamo-breaker-store.js';
import { DynamoPausedTasks } from '../stores/dynamo-pause-store.js';
import { DynamoRateLimiter } from '../stores/dynamo-rate-limiter.js';
import { DynamoTaskStore } from '../stores/dynamo-task-store.js';
import { DynamoTenantLeases } from '../stores/dynamo-tenant-leases.js';
import type { ConsumerConfig } from './config.js';
import { createConsumer } from './consumer.js';

/** What {@link createDefaultConsumer} needs; the clients default to the SDK's own configuration. */
export interface DefaultConsumerOptions {
  readonly config: ConsumerConfig;
  readonly registry: TaskRegistry;
  readonly dynamodb?: DynamoDBClient;
  readonly sqs?: SQSClient;
}

/**
 * The consumer a Lambda entry point usually wants: {@link createConsumer} with the task store
 * rate limiter and paused tasks on the stack's table, Powertools Metrics and the real clock. Call it at module
 * scope, so its clients are reused across invocations. Endpoints come from `AWS_ENDPOINT_URL_*`
 * locally.
 *
 * @example
 * export const handler = createDefaultConsumer({
 *   config: loadConsumerConfig(process.env),
 *   registry: new TaskRegistry([sendEmail]),
 * });
 */
export function createDefaultConsumer(options: DefaultConsumerOptions) {
  const { config, registry } = options;
  const dynamodb = options.dynamodb ?? new DynamoDBClient({});
  return createConsumer({
    config,
    registry,
    sqs: options.sqs ?? new SQSClient({}),
    store: new DynamoTaskStore(dynamodb, config.tableName),
    limiter: new DynamoRateLimiter(dynamodb, config.tableName),
    breakers: new DynamoBreakerStore(dynamodb, config.tableName),
    pauses: new DynamoPausedTasks(dynamodb, config.tableName),
    leases: new DynamoTenantLeases(dynamodb, config.tableName),
    metrics: new Metrics(),
    now: Date.now,
    maxHopSeconds: config.maxHopSeconds,
  });
}
