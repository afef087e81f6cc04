import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadConsumerConfig } from '../shared/config.js';
import { createConsumer } from '../shared/consumer.js';
import { logger } from '../shared/logger.js';
import { TaskRegistry } from '../shared/registry.js';
import { DynamoRateLimiter } from '../shared/stores/rate-limiter.js';
import { DynamoTaskStore } from '../shared/stores/task-store.js';
import { exampleTasks } from './tasks.js';

// Validated once at cold start: a missing variable fails loudly instead of per record.
const config = loadConsumerConfig(process.env);
// Clients at module scope, reused across invocations. Endpoints come from AWS_ENDPOINT_URL_* locally.
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});

/** The default tierq consumer, running the example tasks (echo, sleep, flaky, ...). */
export const handler = createConsumer({
  config,
  registry: new TaskRegistry(exampleTasks),
  sqs,
  store: new DynamoTaskStore(dynamodb, config.tableName),
  limiter: new DynamoRateLimiter(dynamodb, config.tableName),
  metrics: new Metrics(),
  now: Date.now,
  maxHopSeconds: config.maxHopSeconds,
}).use(injectLambdaContext(logger));
