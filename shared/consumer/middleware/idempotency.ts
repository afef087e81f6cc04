/**
 * Middleware: idempotency and task state around the run, by each task's mode.
 */
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { effectiveIdempotencyKey } from '../../contract.js';
import { logger } from '../../logger.js';
import { IdempotencyMode } from '../../registry.js';
import { type CompleteInput, payloadHash, refId, type WriteResult } from '../../stores/task-store.js';
import { deadLetterOrFail, describeError } from '../dead-letter.js';
import { deadlineMarginMs } from '../deadline.js';
import { deferOrFail } from '../defer.js';
import { lockStrategy } from '../idempotency/lock.js';
import { offStrategy } from '../idempotency/off.js';
import { onceStrategy } from '../idempotency/once.js';
import { type Claim, type IdempotencyStrategy, taskWrite } from '../idempotency/strategy.js';
import { batchOf, fail, pending, type RecordState } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/** How long task records (and so idempotency) last by default: a day, like Cloud Tasks' dedup window. */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

const STRATEGIES: Readonly<Record<IdempotencyMode, IdempotencyStrategy>> = {
  lock: lockStrategy,
  once: onceStrategy,
  off: offStrategy,
};

/**
 * Idempotency and task state, per the task's mode (see `idempotency/`: `lock` by default,
 * `once`, `off`). Before the run, each mode checks its records of the batch; duplicates of
 * completed tasks are acknowledged with the stored result, duplicates in progress deferred, a
 * key reused with another payload dead-lettered. After the run, the batch's successes under
 * `lock` and `once` are stored together, releasing the locks: one BatchWriteItem per 25 tasks
 * (unconditional, as Powertools' completion is), so a batch of 10 costs `lock` 10 writes + 1,
 * `once` 1 read + 1 write request; `off` stores each success with its own UpdateItem. A failed
 * attempt records `retrying` or `dead` and releases the lock (one write).
 *
 * @example
 * middy(core).use(idempotency(runtime)).use(retries(runtime));
 */
export function idempotency(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'store' | 'maxHopSeconds'>,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const claims = new WeakMap<RecordState, Claim & { mode: IdempotencyMode }>();

  const idempotencyBefore: Fn = async (request) => {
    const byMode = new Map<IdempotencyMode, Claim[]>();
    for (const state of pending(batchOf(request.event))) {
      if (!state.envelope || !state.task) continue;
      const mode = state.task.idempotency?.mode ?? IdempotencyMode.lock;
      const claim = {
        state,
        mode,
        key: effectiveIdempotencyKey(state.envelope),
        task: state.task.name,
        hash: payloadHash(state.task.name, state.envelope.payload),
        ttlSeconds: state.task.idempotency?.ttlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS,
      };
      claims.set(state, claim);
      byMode.set(mode, [...(byMode.get(mode) ?? []), claim]);
    }
    const context = {
      runtime,
      lockExpiresAtMs: runtime.now() + request.context.getRemainingTimeInMillis(),
    };
    const checked = await Promise.all(
      [...byMode].map(([mode, modeClaims]) => STRATEGIES[mode].check(modeClaims, context)),
    );
    await Promise.all([
      deferOrFail(
        runtime,
        checked.flatMap((c) => c.defer),
      ),
      deadLetterOrFail(
        runtime,
        checked.flatMap((c) => c.deadLetter),
      ),
    ]);
  };

  const idempotencyAfter: Fn = async (request) => {
    const completions: { state: RecordState; input: CompleteInput }[] = [];
    const writes: Promise<void>[] = [];
    const nowMs = runtime.now();
    const batch = batchOf(request.event);
    const marginMs = deadlineMarginMs(batch.budgetMs);
    for (const state of batch.records) {
      const claim = claims.get(state);
      if (!claim || !state.run) continue;
      const { outcome, run } = state;
      if (outcome.kind === 'succeeded' && run.ok) {
        const input: CompleteInput = {
          ...taskWrite(claim, nowMs),
          result: run.result,
          createdAt: claim.createdAt,
          ...(claim.lock === undefined
            ? {}
            : { lock: { owner: claim.lock.owner, check: mayBeTakenOver(claim.lock, nowMs, marginMs) } }),
        };
        if (STRATEGIES[claim.mode].completion === 'single') {
          writes.push(settle(state, runtime.store.complete(input)));
        } else {
          completions.push({ state, input });
        }
      } else if (!run.ok) {
        // Failed and left for SQS, re-sent for a later retry, or dead-lettered.
        const status = outcome.kind === 'deadLettered' ? 'dead' : 'retrying';
        const failure = {
          ...taskWrite(claim, nowMs),
          error: describeError(run.error),
          status,
          ...(claim.lock === undefined ? {} : { owner: claim.lock.owner }),
        } as const;
        writes.push(
          settle(
            state,
            runtime.store.recordFailure(failure).then((written) => {
              if (claim.lock !== undefined) reportLost(state, written);
            }),
          ),
        );
      }
    }
    if (completions.length > 0) {
      writes.push(
        runtime.store.completeMany(completions.map((c) => c.input)).then(
          ({ failed, lost }) => {
            for (const { state, input } of completions) {
              const error = failed.get(refId(input));
              if (error) fail(state, 'could not record the task state', error);
              if (lost.has(refId(input))) {
                // It ran and succeeded, so it is acknowledged; the record is the newer holder's.
                state.outcome = { kind: 'succeeded', lockLost: true };
                reportLost(state, { written: false, record: lost.get(refId(input)) });
              }
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

/**
 * Whether another delivery may have taken the lock over by the time this completion lands: the
 * holder's clock is within the deadline margin of the lock's expiry (a run that stalled). Only
 * then is the completion checked against its owner, each with a write of its own; a completion
 * well inside its lock's life joins the batch's one write, since no delivery can take a lock
 * over before it expires. The margin bounds how long the after-hooks, this write among them,
 * may take to land.
 */
function mayBeTakenOver(lock: { readonly expiresAtMs: number }, nowMs: number, marginMs: number): boolean {
  return nowMs > lock.expiresAtMs - marginMs;
}

/** A write that did not happen because the lock is another owner's: reported, not retried. */
function reportLost(state: RecordState, written: WriteResult): void {
  if (written.written) return;
  logger.warn("lost the lock: this run's state was not written over the newer holder's", {
    messageId: state.record.messageId,
    taskId: state.envelope?.id,
    task: state.task?.name,
    holder: written.record?.taskId,
    status: written.record?.status,
  });
}

/**
 * Waits for one record's state write; a failure fails the record, unless its message is safely
 * dead-lettered or re-sent.
 */
async function settle(state: RecordState, written: Promise<unknown>): Promise<void> {
  try {
    await written;
  } catch (error) {
    if (state.outcome.kind === 'deadLettered' || state.outcome.kind === 'deferred') {
      // The message is safely in the DLQ or re-sent; only its state row is stale.
      logger.error('could not record the task state', { messageId: state.record.messageId, error });
    } else {
      fail(state, 'could not record the task state', error);
    }
  }
}
