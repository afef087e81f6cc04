import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { loadConsumerConfig } from '../shared/config.js';
import { createConsumer } from '../shared/consumer.js';
import { logger } from '../shared/logger.js';
import { TaskRegistry } from '../shared/registry.js';
import { exampleTasks } from './tasks.js';

// Validated once at cold start: a missing variable fails loudly instead of per record.
const config = loadConsumerConfig(process.env);

/** The default tierq consumer, running the example tasks (echo, sleep, flaky). */
export const handler = createConsumer({ config, registry: new TaskRegistry(exampleTasks) }).use(
  injectLambdaContext(logger),
);
