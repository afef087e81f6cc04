/**
 * Middleware: a record's last receive never ends bare. When an infrastructure failure (the
 * store unavailable, a state not stored, a send that failed) leaves a record failed on the
 * receive SQS allows last, tierq dead-letters it itself, with the tier and the last error —
 * SQS's own redrive would carry neither.
 */
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type DeadLetter, DeadLetterReason, deadLetterOrFail, describeError } from '../dead-letter.js';
import { batchOf } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/**
 * After every other step, dead-letters with reason `infrastructure-error` each record still
 * failed on its last receive (`ApproximateReceiveCount` ≥ the queue's `maxReceiveCount`). Task
 * failures never reach it on that receive: `retries` dead-letters them as `max-receives`. If
 * this send fails too, the record stays failed and SQS redrives it. Use it right after
 * `taskMetrics`, so its `after` runs once every state is written and before the metrics.
 *
 * @example
 * middy(core).use(sqsBatch({ tiers })).use(taskMetrics(metrics)).use(deadLetterOnLastReceive(runtime));
 */
export function deadLetterOnLastReceive(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now'>,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const lastReceiveAfter: Fn = async (request) => {
    const letters: DeadLetter[] = [];
    for (const state of batchOf(request.event).records) {
      const { outcome } = state;
      if (outcome.kind !== 'failed' || state.receiveCount < runtime.config.maxReceiveCount) continue;
      const cause = outcome.error === undefined ? '' : `: ${describeError(outcome.error)}`;
      letters.push({
        state,
        reason: DeadLetterReason.InfrastructureError,
        error: `${outcome.reason}${cause}`,
        // An attempt that ran counts; one stopped before the task ran does not.
        attempts: state.run === undefined ? state.attempt - 1 : state.attempt,
      });
    }
    await deadLetterOrFail(runtime, letters);
  };
  return { after: lastReceiveAfter };
}
