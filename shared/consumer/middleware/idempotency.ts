import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { effectiveIdempotencyKey } from '../../contract.js';
import { IdempotencyConflictError, IdempotencyInProgressError } from '../../errors.js';
import { logger } from '../../logger.js';
import { IdempotencyMode } from '../../registry.js';
import { type CompleteInput, payloadHash, TaskStatus } from '../../stores/task-store.js';
import { DeadLetterReason, deadLetterSend, describeError } from '../dead-letter.js';
import { deferral } from '../defer.js';
import { batchOf, fail, Outcome, pending, type RecordState } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';
import { type Send, sendForRecords } from '../sqs-dispatch.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/** How long task records (and so idempotency) last by default: a day, like Cloud Tasks' dedup window. */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/**
 * How long a duplicate of an in-progress task waits before it looks again: until the lock
 * expires, but no more than 5 s, since the running copy usually finishes long before.
 */
export function inProgressRecheckMs(lockRemainingMs: number): number {
  return Math.min(5_000, Math.max(1_000, lockRemainingMs));
}

interface Claim {
  readonly key: string;
  readonly hash: string;
  readonly mode: IdempotencyMode;
  readonly ttlSeconds: number;
  /** The record's `createdAt`, when `acquire` or `lookup` saw the record. */
  createdAt?: string;
}

/**
 * Idempotency and task state, per the task's mode:
 * - `lock` (default): before running, one conditional write per task takes an in-progress lock
 *   that expires with the Lambda's remaining time (a crashed run never blocks forever). A
 *   duplicate of a completed task is acknowledged with the stored result; a duplicate of one in
 *   progress is deferred and rechecked every few seconds until it completes or its lock expires;
 *   the same key with another payload goes to the DLQ.
 * - `once`: one BatchGetItem per batch finds completed keys. A concurrent duplicate may run (the
 *   task said it tolerates that); the last of them to finish leaves its result in the record.
 * - In both, the batch's successes are stored together, releasing the locks: one BatchWriteItem
 *   per 25 tasks (unconditional, as Powertools' completion is). So a batch of 10 costs `lock` 10
 *   writes + 1, `once` 1 read + 1 write request.
 * - `off`: no check; the final state is still recorded (one UpdateItem per task).
 * A failed attempt records `retrying` or `dead` and releases the lock (one write).
 *
 * @example
 * middy(core).use(idempotency(runtime)).use(retries(runtime));
 */
export function idempotency(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'store' | 'maxHopSeconds'>,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const claims = new WeakMap<RecordState, Claim>();
  const write = (state: RecordState, claim: Claim) => ({
    key: claim.key,
    taskId: state.envelope?.id ?? state.messageId,
    task: state.task?.name ?? 'unknown',
    payloadHash: claim.hash,
    attempt: state.attempt,
    ttlSeconds: claim.ttlSeconds,
    nowMs: runtime.now(),
  });

  const idempotencyBefore: Fn = async (request) => {
    const states = pending(batchOf(request.event));
    for (const state of states) {
      if (!state.envelope || !state.task) continue;
      claims.set(state, {
        key: effectiveIdempotencyKey(state.envelope),
        hash: payloadHash(state.envelope.payload),
        mode: state.task.idempotency?.mode ?? IdempotencyMode.lock,
        ttlSeconds: state.task.idempotency?.ttlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS,
      });
    }
    const sends: Send[] = [];
    const lockExpiresAtMs = runtime.now() + request.context.getRemainingTimeInMillis();
    const locks = states.filter((s) => claims.get(s)?.mode === IdempotencyMode.lock);
    const once = states.filter((s) => claims.get(s)?.mode === IdempotencyMode.once);
    await Promise.all([
      ...locks.map(async (state) => {
        const claim = claims.get(state) as Claim;
        try {
          const acquired = await runtime.store.acquire({ ...write(state, claim), lockExpiresAtMs });
          if (acquired.outcome === 'completed') {
            state.outcome = Outcome.duplicate;
            state.result = acquired.record.result;
          } else {
            claim.createdAt = acquired.createdAt;
          }
        } catch (error) {
          if (error instanceof IdempotencyInProgressError) {
            const send = deferral(
              state,
              runtime.config.tiers,
              inProgressRecheckMs(error.lockExpiresAt - runtime.now()),
              'a duplicate of this task is in progress',
              runtime.maxHopSeconds,
            );
            if (send) sends.push(send);
            else fail(state, 'duplicate in progress, but its queue is not a known tier');
          } else if (error instanceof IdempotencyConflictError) {
            claims.delete(state); // the existing record belongs to the other payload: leave it alone
            const reason = `idempotency key "${claim.key}" was already used with a different payload`;
            sends.push(
              deadLetterSend(
                {
                  state,
                  reason: DeadLetterReason.IdempotencyConflict,
                  error: reason,
                  attempts: state.attempt - 1,
                },
                runtime.config.deadLetterQueueUrl,
                new Date(runtime.now()),
              ),
            );
          } else {
            fail(state, 'task store unavailable', error);
          }
        }
      }),
      (async () => {
        if (once.length === 0) return;
        try {
          const found = await runtime.store.lookup(
            once.map((s) => (claims.get(s) as Claim).key),
            runtime.now(),
          );
          for (const state of once) {
            const claim = claims.get(state) as Claim;
            const record = found.get(claim.key);
            if (record?.status === TaskStatus.Succeeded) {
              state.outcome = Outcome.duplicate;
              state.result = record.result;
            } else if (record) {
              claim.createdAt = record.createdAt;
            }
          }
        } catch (error) {
          for (const state of once) fail(state, 'task store unavailable', error);
        }
      })(),
    ]);
    if (sends.length > 0) await sendForRecords(runtime.sqs, sends);
  };

  const idempotencyAfter: Fn = async (request) => {
    const completions: { state: RecordState; input: CompleteInput }[] = [];
    const writes: Promise<void>[] = [];
    for (const state of batchOf(request.event).records) {
      const claim = claims.get(state);
      if (!claim) continue;
      if (state.outcome === Outcome.succeeded) {
        const input = { ...write(state, claim), result: state.result, createdAt: claim.createdAt };
        if (claim.mode === IdempotencyMode.off) writes.push(settle(state, runtime.store.complete(input)));
        else completions.push({ state, input });
      } else if (
        state.taskFailure &&
        (state.outcome === Outcome.failed || state.outcome === Outcome.deadLettered)
      ) {
        const status = state.outcome === Outcome.deadLettered ? 'dead' : 'retrying';
        const failure = { ...write(state, claim), error: describeError(state.error), status } as const;
        writes.push(settle(state, runtime.store.recordFailure(failure)));
      }
    }
    if (completions.length > 0) {
      writes.push(
        runtime.store.completeMany(completions.map((c) => c.input)).then(
          ({ failed }) => {
            for (const { state, input } of completions) {
              const error = failed.get(input.key);
              if (error) fail(state, 'could not record the task state', error);
            }
          },
          (error: unknown) => {
            for (const { state } of completions) fail(state, 'could not record the task state', error);
          },
        ),
      );
    }
    await Promise.all(writes);
  };

  return { before: idempotencyBefore, after: idempotencyAfter };
}

/** Waits for one record's state write; a failure fails the record, unless it is safely dead-lettered. */
async function settle(state: RecordState, written: Promise<unknown>): Promise<void> {
  try {
    await written;
  } catch (error) {
    if (state.outcome === Outcome.deadLettered) {
      // The message is safely in the DLQ; only its state row is stale.
      logger.error('could not record dead task state', { messageId: state.messageId, error });
    } else {
      fail(state, 'could not record the task state', error);
    }
  }
}
