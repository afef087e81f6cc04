/**
 * Middleware: after a task fails, a retry with backoff or the DLQ with a reason.
 */
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { PermanentTaskError } from '../../errors.js';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  MAX_BATCHING_WINDOW_MS,
  type RetryPolicy,
  visibilityLeftSeconds,
  visibilityTimeoutSeconds,
} from '../backoff.js';
import { type DeadLetter, DeadLetterReason, deadLetterOrFail, describeError } from '../dead-letter.js';
import { type Deferral, deferOrFail } from '../defer.js';
import { type BatchState, batchOf, DeferCause, type RecordState } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';
import { tierQueueUrl } from '../runtime.js';
import { type RetryLater, scheduleRetries } from '../sqs-dispatch.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/** The task's retry policy with defaults filled in. */
export function retryPolicyOf(state: RecordState): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...state.task?.retry };
}

/**
 * The earliest this record's receive can have been: its first receive (exact on the first one),
 * and no earlier than Lambda's longest batching window before the invocation began.
 */
function receivedNoEarlierThan(state: RecordState, batch: BatchState): number {
  const firstReceive = Number(state.record.attributes?.ApproximateFirstReceiveTimestamp);
  const windowStart = batch.startedAtMs - MAX_BATCHING_WINDOW_MS;
  return Number.isFinite(firstReceive) ? Math.max(firstReceive, windowStart) : windowStart;
}

/** Why a failed attempt should go to the DLQ now, or undefined to retry it. */
function deadLetterReason(
  state: RecordState,
  error: unknown,
  maxReceiveCount: number,
): DeadLetterReason | undefined {
  if (error instanceof PermanentTaskError) return DeadLetterReason.PermanentError;
  if (state.attempt >= retryPolicyOf(state).maxAttempts) return DeadLetterReason.MaxAttempts;
  // Dead-letter ourselves on the last receive SQS allows, so the dead letter carries its reason and tier.
  if (state.receiveCount >= maxReceiveCount) return DeadLetterReason.MaxReceives;
  return undefined;
}

/**
 * Decides what happens after a task fails. A transient failure keeps the record failed (SQS
 * redelivers it) and sets its visibility timeout to the backoff delay: exponential with full
 * jitter, per the task's policy. SQS hides a message at most 12 hours from its receive, so a
 * delay the visibility timeout can no longer hold is a copy re-sent with that `runAt` instead
 * (in delay hops, like a not-yet-due task), carrying this attempt, and the original is
 * acknowledged. A `PermanentTaskError`, or the task's `maxAttempts` reached
 * before the queue's `maxReceiveCount`, sends the original message to the DLQ with the reason,
 * last error, attempts and tier, and acknowledges it — unless that send fails, in which case the
 * record stays failed and SQS redelivers it.
 *
 * @example
 * middy(core).use(idempotency(runtime)).use(retries(runtime));
 */
export function retries(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'maxHopSeconds'>,
  random: () => number = Math.random,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const retriesAfter: Fn = async (request) => {
    const deadLetters: DeadLetter[] = [];
    const later: RetryLater[] = [];
    const resends: Deferral[] = [];
    const batch = batchOf(request.event);
    for (const state of batch.records) {
      const { outcome, run } = state;
      // Only a failure of the task itself: infrastructure failures are SQS's to redeliver.
      if (outcome.kind !== 'failed' || run?.ok !== false) continue;
      const reason = deadLetterReason(state, run.error, runtime.config.maxReceiveCount);
      if (reason) {
        deadLetters.push({ state, reason, error: describeError(run.error), attempts: state.attempt });
        continue;
      }
      const delayMs = backoffDelayMs(state.attempt, retryPolicyOf(state), random);
      const visibilitySeconds = visibilityTimeoutSeconds(delayMs);
      // SQS measures its 12 hours on its own clock, from the receive: so does this.
      if (visibilitySeconds > visibilityLeftSeconds(receivedNoEarlierThan(state, batch), Date.now())) {
        resends.push({
          state,
          delayMs,
          cause: DeferCause.retry,
          reason: `retry in ${Math.round(delayMs / 1_000)} s, longer than its visibility timeout can still hold it`,
          attemptSpent: true,
          runAt: new Date(runtime.now() + delayMs).toISOString(),
        });
        continue;
      }
      state.outcome = { ...outcome, retryInMs: delayMs };
      const queueUrl = tierQueueUrl(runtime, state.tier);
      if (queueUrl) later.push({ state, queueUrl, visibilitySeconds });
    }
    await Promise.all([
      deadLetterOrFail(runtime, deadLetters),
      scheduleRetries(runtime.sqs, later),
      deferOrFail(runtime, resends),
    ]);
  };
  return { after: retriesAfter };
}
