/**
 * Middleware: no task is started that could not finish before the deadline margin. Such a
 * record is deferred to a fresh invocation — before it takes a rate-limit token or a lock —
 * and spends no attempt, where a run cut short by the deadline would spend one.
 */
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { BEFORE_RUN_BUDGET_MS, deadlineMarginMs } from '../deadline.js';
import { type Deferral, deferOrFail } from '../defer.js';
import { batchOf, DeferCause, pending } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/** How long a record waits for a fresh invocation. */
const RETRY_SOON_MS = 1_000;

/**
 * Defers each record whose task cannot finish in what is left of the invocation, less the
 * deadline margin and what the rate limit and idempotency steps may still need: one with a
 * `timeoutMs` longer than that, if a fresh invocation would have room for it (a task longer
 * than any invocation runs, cut at the margin, as it always would); any task when nothing is
 * left — unless even a fresh invocation would have no room, where waiting cannot help. Use it
 * before `rateLimit`.
 *
 * @example
 * middy(core).use(deferNotDue(runtime)).use(startInTime(runtime)).use(rateLimit(runtime));
 */
export function startInTime(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'maxHopSeconds'>,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const startInTimeBefore: Fn = async (request) => {
    const batch = batchOf(request.event);
    const margin = deadlineMarginMs(batch.budgetMs) + BEFORE_RUN_BUDGET_MS;
    const left = request.context.getRemainingTimeInMillis() - margin;
    const fresh = batch.budgetMs - margin;
    const deferrals: Deferral[] = [];
    for (const state of pending(batch)) {
      const needs = state.task?.timeoutMs;
      // Waiting helps only if a fresh invocation has room: on a very short function, run it anyway.
      const tooLate = fresh > 0 && (left <= 0 || (needs !== undefined && needs > left && needs <= fresh));
      if (!tooLate) continue;
      const reason = `${Math.max(0, Math.round(left))} ms left before the deadline margin, too little to run it`;
      deferrals.push({ state, delayMs: RETRY_SOON_MS, cause: DeferCause.noTime, reason });
    }
    await deferOrFail(runtime, deferrals);
  };
  return { before: startInTimeBefore };
}
