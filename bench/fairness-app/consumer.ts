/**
 * The fairness benchmark's consumer: one task with `concurrency.perTenant`, which works for
 * `sleepMs` and then tells the benchmark's recorder when it finished (the clock of one machine).
 */
import { z } from 'zod';
import { loadConsumerConfig } from '../../shared/consumer/config.js';
import { createDefaultConsumer } from '../../shared/consumer/default-consumer.js';
import { ConfigError } from '../../shared/errors.js';
import { defineTask, TaskRegistry } from '../../shared/registry.js';

const recorderUrl = process.env.FAIRNESS_RECORDER_URL;
const perTenant = Number(process.env.FAIRNESS_PER_TENANT);
if (!recorderUrl) throw new ConfigError('environment variable FAIRNESS_RECORDER_URL is required but not set');

const tenantWork = defineTask({
  name: 'tenant-work',
  schema: z.object({ tenant: z.string(), sentAt: z.number(), sleepMs: z.int().min(0) }),
  concurrency: { perTenant },
  handler: async ({ tenant, sentAt, sleepMs }) => {
    await new Promise((resolve) => setTimeout(resolve, sleepMs));
    const response = await fetch(recorderUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant, sentAt, doneAt: Date.now() }),
    });
    if (!response.ok) throw new Error(`recorder answered ${response.status}`);
    await response.arrayBuffer();
  },
});

export const handler = createDefaultConsumer({
  config: loadConsumerConfig(process.env),
  registry: new TaskRegistry([tenantWork]),
});
