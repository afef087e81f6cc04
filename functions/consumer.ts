import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { loadConsumerConfig } from '../shared/consumer/config.js';
import { createDefaultConsumer } from '../shared/consumer/default-consumer.js';
import { logger } from '../shared/logger.js';
import { TaskRegistry } from '../shared/registry.js';
import { exampleTasks } from './tasks.js';

/** The default tierq consumer, running the example tasks (echo, sleep, flaky, ...). */
export const handler = createDefaultConsumer({
  // Validated once at cold start: a missing variable fails loudly instead of per record.
  config: loadConsumerConfig(process.env),
  registry: new TaskRegistry(exampleTasks),
}).use(injectLambdaContext(logger));
