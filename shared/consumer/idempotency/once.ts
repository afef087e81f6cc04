/**
 * Idempotency mode `once`: a completion marker only. One BatchGetItem per batch finds the keys
 * already completed; a concurrent duplicate may run (the task said it tolerates that).
 */
import { refId, TaskStatus } from '../../stores/task-record.js';
import type { DeadLetter } from '../dead-letter.js';
import { DeadLetterReason } from '../dead-letter.js';
import { fail } from '../record-state.js';
import { type CheckResult, type IdempotencyStrategy, NOTHING } from './strategy.js';

/**
 * `once`: a duplicate of a completed task is acknowledged with the stored result; the same key
 * with another payload goes to the DLQ, as under `lock`; the last of concurrent duplicates to
 * finish leaves its result in the record.
 *
 * @example
 * await onceStrategy.check(claims, { runtime, lockExpiresAtMs });
 */
export const onceStrategy: IdempotencyStrategy = {
  completion: 'batch',
  async check(claims, { runtime }): Promise<CheckResult> {
    if (claims.length === 0) return NOTHING;
    const deadLetter: DeadLetter[] = [];
    try {
      const found = await runtime.store.lookup(claims, runtime.now());
      for (const claim of claims) {
        const record = found.get(refId(claim));
        if (record !== undefined && record.payloadHash !== claim.hash) {
          deadLetter.push({
            state: claim.state,
            reason: DeadLetterReason.IdempotencyConflict,
            error: `idempotency key "${claim.key}" was already used with a different payload`,
            attempts: claim.state.attempt - 1,
          });
        } else if (record?.status === TaskStatus.Succeeded) {
          claim.state.outcome = { kind: 'duplicate', result: record.result };
        } else if (record) {
          claim.createdAt = record.createdAt;
        }
      }
    } catch (error) {
      for (const claim of claims) fail(claim.state, 'task store unavailable', error);
    }
    return { defer: [], deadLetter };
  },
};
