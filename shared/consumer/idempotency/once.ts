/**
 * Idempotency mode `once`: a completion marker only. One BatchGetItem per batch finds the keys
 * already completed; a concurrent duplicate may run (the task said it tolerates that).
 */
import { TaskStatus } from '../../stores/task-record.js';
import { fail } from '../record-state.js';
import { type CheckResult, type IdempotencyStrategy, NOTHING } from './strategy.js';

/**
 * `once`: a duplicate of a completed task is acknowledged with the stored result; the last of
 * concurrent duplicates to finish leaves its result in the record.
 *
 * @example
 * await onceStrategy.check(claims, { runtime, lockExpiresAtMs });
 */
export const onceStrategy: IdempotencyStrategy = {
  completion: 'batch',
  async check(claims, { runtime }): Promise<CheckResult> {
    if (claims.length === 0) return NOTHING;
    try {
      const found = await runtime.store.lookup(
        claims.map((c) => c.key),
        runtime.now(),
      );
      for (const claim of claims) {
        const record = found.get(claim.key);
        if (record?.status === TaskStatus.Succeeded) {
          claim.state.outcome = { kind: 'duplicate', result: record.result };
        } else if (record) {
          claim.createdAt = record.createdAt;
        }
      }
    } catch (error) {
      for (const claim of claims) fail(claim.state, 'task store unavailable', error);
    }
    return NOTHING;
  },
};
