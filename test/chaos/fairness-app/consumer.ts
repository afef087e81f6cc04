/**
 * The fairness app's consumer: tierq's own consumer with the fairness tasks, bundled through
 * `TaskQueue`'s `consumerEntry` as an application would.
 */
import { loadConsumerConfig } from '../../../shared/consumer/config.js';
import { createDefaultConsumer } from '../../../shared/consumer/default-consumer.js';
import { ConfigError } from '../../../shared/errors.js';
import { TaskRegistry } from '../../../shared/registry.js';
import { fairTasks } from './tasks.js';

const recorderUrl = process.env.FAIR_RECORDER_URL;
if (!recorderUrl) throw new ConfigError('environment variable FAIR_RECORDER_URL is required but not set');

export const handler = createDefaultConsumer({
  config: loadConsumerConfig(process.env),
  registry: new TaskRegistry(fairTasks(recorderUrl)),
});
