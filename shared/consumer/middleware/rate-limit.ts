/**
 * Middleware: each task's distributed rate limit; records over it are deferred.
 */
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { RateLimitedError } from '../../errors.js';
import { logger } from '../../logger.js';
import { taskWideRateLimit } from '../../tenant-limits.js';
import { type Deferral, deferOrFail } from '../defer.js';
import { batchOf, DeferCause, fail, pending, type RecordState } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/**
 * Enforces each task's `rateLimit` with the distributed token bucket: one acquire per task name
 * per batch (asking for as many tokens as the batch has records of that task). Records beyond
 * the grant are deferred — re-enqueued to run when tokens will be available, spread at the
 * task's rate — and never counted as attempts; so are all of them when the bucket is too
 * contended to take from (`RateLimitedError`). Only a limiter that fails fails its records.
 *
 * @example
 * middy(core).use(rateLimit(runtime));
 */
export function rateLimit(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'limiter' | 'maxHopSeconds'>,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const rateLimitBefore: Fn = async (request) => {
    const groups = new Map<string, RecordState[]>();
    for (const state of pending(batchOf(request.event))) {
      if (!state.task || taskWideRateLimit(state.task) === undefined) continue;
      groups.set(state.task.name, [...(groups.get(state.task.name) ?? []), state]);
    }
    const deferrals: Deferral[] = [];
    await Promise.all(
      [...groups].map(async ([name, states]) => {
        const limit = states[0]?.task && taskWideRateLimit(states[0].task);
        if (!limit) return;
        try {
          const { granted, retryAfterMs } = await runtime.limiter.acquire(
            name,
            limit,
            states.length,
            runtime.now(),
          );
          const spacingMs = 1_000 / limit.perSecond;
          states.slice(granted).forEach((state, i) => {
            const reason = `rate limited (${limit.perSecond}/s)`;
            deferrals.push({
              state,
              delayMs: retryAfterMs + i * spacingMs,
              cause: DeferCause.rateLimited,
              reason,
            });
          });
        } catch (error) {
          if (error instanceof RateLimitedError) {
            // A contended bucket: wait and ask again, as for tokens not yet refilled.
            states.forEach((state, i) => {
              const delayMs = error.retryAfterMs + i * (1_000 / limit.perSecond);
              deferrals.push({ state, delayMs, cause: DeferCause.rateLimited, reason: error.message });
            });
            return;
          }
          logger.error('rate limiter unavailable; records will be redelivered', { task: name, error });
          for (const state of states) fail(state, 'rate limiter unavailable', error);
        }
      }),
    );
    await deferOrFail(runtime, deferrals);
  };
  return { before: rateLimitBefore };
}
