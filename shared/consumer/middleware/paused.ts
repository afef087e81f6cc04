/**
 * Middleware: records of a task an operator paused (`tierq pause task`) wait as deferred copies,
 * without running and without spending an attempt, and come back to look again until resumed.
 */
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../../logger.js';
import { PAUSED_RECHECK_MS } from '../../stores/pause-store.js';
import { type Deferral, deferOrFail } from '../defer.js';
import { batchOf, DeferCause, fail, pending } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/**
 * Defers every record whose task is paused: re-enqueued to its tier for 30–60 s (or the test
 * hop, `maxHopSeconds`, when shorter) and acknowledged; its attempts are unchanged, so a pause
 * never moves a task toward the DLQ. The paused tasks are read from the store's cache (one Query
 * per container and second), and only when the batch has a valid record; a store that fails
 * fails those records, so SQS redelivers them — nothing is run or acknowledged unchecked. Use it
 * after `deferNotDue` and before `startInTime`, the rate limit and idempotency.
 *
 * @example
 * middy(core).use(deferNotDue(runtime)).use(pausedTasks(runtime)).use(startInTime(runtime));
 */
export function pausedTasks(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'maxHopSeconds' | 'pauses' | 'random'>,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const random = runtime.random ?? Math.random;
  const pausedTasksBefore: Fn = async (request) => {
    const states = pending(batchOf(request.event)).filter((s) => s.task !== undefined);
    if (states.length === 0) return;
    let paused: ReadonlySet<string>;
    try {
      paused = await runtime.pauses.pausedTasks();
    } catch (error) {
      logger.error('paused tasks unavailable; records will be redelivered', { error });
      for (const state of states) fail(state, 'paused tasks unavailable', error);
      return;
    }
    if (paused.size === 0) return;
    const deferrals: Deferral[] = [];
    for (const state of states) {
      const name = state.task?.name ?? '';
      if (!paused.has(name)) continue;
      deferrals.push({
        state,
        delayMs: PAUSED_RECHECK_MS * (1 + random()),
        cause: DeferCause.paused,
        reason: `task ${name} is paused`,
      });
    }
    await deferOrFail(runtime, deferrals);
  };
  return { before: pausedTasksBefore };
}
