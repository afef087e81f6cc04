/**
 * Middleware: records whose `runAt` is ahead wait as deferred copies instead of running.
 */
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type Deferral, deferOrFail } from '../defer.js';
import { batchOf, DeferCause, pending } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/**
 * Defers records whose `runAt` is still in the future: each is re-enqueued to its tier with the
 * remaining delay (in hops of at most `maxHopSeconds`, SQS allows 900) and the original is
 * acknowledged. Any distance in the future works; no attempt is consumed.
 *
 * @example
 * middy(core).use(deferNotDue(runtime));
 */
export function deferNotDue(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'maxHopSeconds'>,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const deferNotDueBefore: Fn = async (request) => {
    const now = runtime.now();
    const deferrals: Deferral[] = [];
    for (const state of pending(batchOf(request.event))) {
      const runAt = state.envelope?.runAt ? Date.parse(state.envelope.runAt) : Number.NaN;
      // Never early: a sub-second remainder still waits a whole second (SQS's delay unit).
      if (!(runAt > now)) continue;
      const reason = `not due until ${state.envelope?.runAt}`;
      deferrals.push({ state, delayMs: runAt - now, cause: DeferCause.notDue, reason });
    }
    await deferOrFail(runtime, deferrals);
  };
  return { before: deferNotDueBefore };
}
