/**
 * `createConsumer`: the Middy handler that runs a batch of SQS records through the consumer's
 * middleware chain.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type AnyTask, validateTask } from '../registry.js';
import { resendProblem } from './defer.js';
import { backPressure, checkBreakers, circuitBreaker } from './middleware/circuit-breaker.js';
import { deadLetterInvalid } from './middleware/dead-letter-invalid.js';
import { deferNotDue } from './middleware/defer-not-due.js';
import { idempotency } from './middleware/idempotency.js';
import { deadLetterOnLastReceive } from './middleware/last-receive.js';
import { pausedTasks } from './middleware/paused.js';
import { rateLimit } from './middleware/rate-limit.js';
import { retries } from './middleware/retries.js';
import { sqsBatch } from './middleware/sqs-batch.js';
import { startInTime } from './middleware/start-in-time.js';
import { taskMetrics } from './middleware/task-metrics.js';
import { checkTenantLimits, tenantLimits } from './middleware/tenant-limits.js';
import { validateRecords } from './middleware/validate-records.js';
import { batchOf } from './record-state.js';
import { runTasks } from './run-tasks.js';
import type { ConsumerRuntime } from './runtime.js';

/** What {@link createConsumer} needs: the runtime plus a Powertools Metrics instance. */
export interface ConsumerOptions extends ConsumerRuntime {
  readonly metrics: Metrics;
}

/**
 * Builds the tierq consumer: a Middy handler for SQS batches. Records run concurrently; each
 * goes through validate → not-yet-due → paused → time enough to finish → circuit breaker →
 * rate limit → per-tenant limits → idempotency → run → back-pressure, retry or dead-letter,
 * and the handler returns a partial batch response naming only the records SQS must redeliver.
 *
 * Every registered task's options are checked first: a bad one is a `ConfigError` naming the
 * task and the option, at cold start rather than on the first record.
 *
 * Middleware order matters: `before` hooks run top to bottom, `after` hooks bottom to top, so
 * retries are decided before the task state is written, a record still failed on its last
 * receive is dead-lettered once every state is written, and the response is built last.
 *
 * @example
 * export const handler = createConsumer({
 *   config, registry: new TaskRegistry([sendEmail]), sqs, store, limiter, pauses, metrics,
 *   now: Date.now, maxHopSeconds: 900,
 * });
 */
export function createConsumer(options: ConsumerOptions) {
  // Definitions may come as plain objects, never checked by defineTask.
  for (const name of options.registry.names()) validateTask(options.registry.get(name) as AnyTask);
  checkBreakers(options.registry, options.breakers);
  checkTenantLimits(
    options.registry.names().map((name) => options.registry.get(name) as AnyTask),
    options.leases,
  );
  const core = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    await runTasks(batchOf(event), context);
    // sqsBatch's `after` builds the real response from the settled outcomes.
    return { batchItemFailures: [] };
  };
  return middy<SQSEvent, SQSBatchResponse, Error, Context>(core)
    .use(sqsBatch({ tiers: options.config.tiers }))
    .use(taskMetrics(options.metrics))
    .use(deadLetterOnLastReceive(options))
    .use(
      validateRecords({
        registry: options.registry,
        onInvalid: deadLetterInvalid(options),
        resendProblem: (state) => resendProblem(state, options.config),
      }),
    )
    .use(deferNotDue(options))
    .use(pausedTasks(options))
    .use(startInTime(options))
    .use(circuitBreaker(options))
    .use(rateLimit(options))
    .use(tenantLimits(options))
    .use(idempotency(options))
    .use(retries(options, options.random))
    .use(backPressure(options));
}
