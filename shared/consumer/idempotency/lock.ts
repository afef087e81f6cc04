/**
 * Idempotency mode `lock` (the default): at most one delivery of a key runs at a time. Before
 * running, one conditional write per record takes a lock that expires with the Lambda's
 * deadline, so a crashed run never blocks its task for good. Each acquisition has an owner
 * token: only its owner may release the lock with a failure, and a completion written after the
 * lock could have been taken over is checked against it.
 */
import { randomUUID } from 'node:crypto';
import { IdempotencyConflictError, IdempotencyInProgressError } from '../../errors.js';
import { DeadLetterReason } from '../dead-letter.js';
import { DeferCause, fail } from '../record-state.js';
import type { CheckResult, Claim, IdempotencyStrategy } from './strategy.js';
import { taskWrite } from './strategy.js';

/**
 * How long a duplicate of an in-progress task waits before it looks again: until the lock
 * expires, but no more than 5 s, since the running copy usually finishes long before.
 *
 * @example
 * inProgressRecheckMs(60_000); // 5_000
 */
export function inProgressRecheckMs(lockRemainingMs: number): number {
  return Math.min(5_000, Math.max(1_000, lockRemainingMs));
}

/**
 * `lock`: a duplicate of a completed task is acknowledged with the stored result; a duplicate of
 * one in progress is deferred and rechecked every few seconds until it completes or its lock
 * expires; the same key with another payload goes to the DLQ.
 *
 * @example
 * const { defer, deadLetter } = await lockStrategy.check(claims, { runtime, lockExpiresAtMs });
 */
export const lockStrategy: IdempotencyStrategy = {
  completion: 'batch',
  async check(claims, { runtime, lockExpiresAtMs }): Promise<CheckResult> {
    const defer: CheckResult['defer'][number][] = [];
    const deadLetter: CheckResult['deadLetter'][number][] = [];
    await Promise.all(
      claims.map(async (claim: Claim) => {
        const { state } = claim;
        const owner = randomUUID();
        try {
          const acquired = await runtime.store.acquire({
            ...taskWrite(claim, runtime.now()),
            lockExpiresAtMs,
            owner,
          });
          if (acquired.outcome === 'completed') {
            state.outcome = { kind: 'duplicate', result: acquired.record.result };
          } else {
            claim.createdAt = acquired.createdAt;
            claim.lock = { owner, expiresAtMs: lockExpiresAtMs };
          }
        } catch (error) {
          if (error instanceof IdempotencyInProgressError) {
            defer.push({
              state,
              delayMs: inProgressRecheckMs(error.lockExpiresAt - runtime.now()),
              cause: DeferCause.inProgress,
              reason: 'a duplicate of this task is in progress',
            });
          } else if (error instanceof IdempotencyConflictError) {
            deadLetter.push({
              state,
              reason: DeadLetterReason.IdempotencyConflict,
              error: `idempotency key "${claim.key}" was already used with a different payload`,
              attempts: state.attempt - 1,
            });
          } else {
            fail(state, 'task store unavailable', error);
          }
        }
      }),
    );
    return { defer, deadLetter };
  },
};
