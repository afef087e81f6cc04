import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { batchOf } from './batch.js';
import type { ConsumerConfig } from './config.js';
import { sqsBatch } from './middleware/sqs-batch.js';
import { validateRecords } from './middleware/validate-records.js';
import type { TaskRegistry } from './registry.js';
import { runTasks } from './run-tasks.js';

/** What {@link createConsumer} needs. */
export interface ConsumerOptions {
  readonly config: ConsumerConfig;
  readonly registry: TaskRegistry;
}

/**
 * Builds the tierq consumer: a Middy handler for SQS batches that validates each record, runs
 * its task, and returns a partial batch response naming only the failed records.
 *
 * @example
 * export const handler = createConsumer({
 *   config: loadConsumerConfig(process.env),
 *   registry: new TaskRegistry([sendEmail, resizeImage]),
 * });
 */
export function createConsumer(options: ConsumerOptions) {
  const core = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    await runTasks(batchOf(event), context);
    // sqsBatch's `after` builds the real response from the settled outcomes.
    return { batchItemFailures: [] };
  };
  return middy<SQSEvent, SQSBatchResponse, Error, Context>(core)
    .use(sqsBatch({ tiers: options.config.tiers }))
    .use(validateRecords({ registry: options.registry }));
}
