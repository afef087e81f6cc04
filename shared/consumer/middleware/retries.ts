import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { PermanentTaskError } from '../../errors.js';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
  visibilityTimeoutSeconds,
} from '../backoff.js';
import { DeadLetterReason, deadLetterSend, describeError } from '../dead-letter.js';
import { batchOf, Outcome, type RecordState } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';
import { tierQueueUrl } from '../runtime.js';
import { type RetryLater, type Send, scheduleRetries, sendForRecords } from '../sqs-dispatch.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/** The task's retry policy with defaults filled in. */
export function retryPolicyOf(state: RecordState): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...state.task?.retry };
}

/** Why a failed attempt should go to the DLQ now, or undefined to retry it. */
function deadLetterReason(state: RecordState, maxReceiveCount: number): DeadLetterReason | undefined {
  if (state.error instanceof PermanentTaskError) return DeadLetterReason.PermanentError;
  if (state.attempt >= retryPolicyOf(state).maxAttempts) return DeadLetterReason.MaxAttempts;
  // Dead-letter ourselves on the last receive SQS allows, so the dead letter carries its reason and tier.
  if (state.receiveCount >= maxReceiveCount) return DeadLetterReason.MaxReceives;
  return undefined;
}

/**
 * Decides what happens after a task fails. A transient failure keeps the record failed (SQS
 * redelivers it) and sets its visibility timeout to the backoff delay: exponential with full
 * jitter, per the task's policy. A `PermanentTaskError`, or the task's `maxAttempts` reached
 * before the queue's `maxReceiveCount`, sends the original message to the DLQ with the reason,
 * last error, attempts and tier, and acknowledges it — unless that send fails, in which case the
 * record stays failed and SQS redelivers it.
 *
 * @example
 * middy(core).use(idempotency(runtime)).use(retries(runtime));
 */
export function retries(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now'>,
  random: () => number = Math.random,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const retriesAfter: Fn = async (request) => {
    const failed = batchOf(request.event).records.filter(
      (s) => s.outcome === Outcome.failed && s.taskFailure,
    );
    const deadLetters: Send[] = [];
    const later: RetryLater[] = [];
    const now = new Date(runtime.now());
    for (const state of failed) {
      const reason = deadLetterReason(state, runtime.config.maxReceiveCount);
      if (reason) {
        deadLetters.push(
          deadLetterSend(
            { state, reason, error: describeError(state.error), attempts: state.attempt },
            runtime.config.deadLetterQueueUrl,
            now,
          ),
        );
        continue;
      }
      const queueUrl = tierQueueUrl(runtime, state.tier);
      const delayMs = backoffDelayMs(state.attempt, retryPolicyOf(state), random);
      state.retryDelayMs = delayMs;
      if (queueUrl) later.push({ state, queueUrl, visibilitySeconds: visibilityTimeoutSeconds(delayMs) });
    }
    await Promise.all([sendForRecords(runtime.sqs, deadLetters), scheduleRetries(runtime.sqs, later)]);
  };
  return { after: retriesAfter };
}
