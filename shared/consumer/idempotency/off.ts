/**
 * Idempotency mode `off`: every delivery runs. The task's final state is still recorded, with
 * one UpdateItem per task, since nothing read the record first (an update keeps `createdAt`).
 */
import { type IdempotencyStrategy, NOTHING } from './strategy.js';

/**
 * `off`: no check before the run; each success is stored on its own.
 *
 * @example
 * await offStrategy.check(claims, { runtime, lockExpiresAtMs }); // settles nothing
 */
export const offStrategy: IdempotencyStrategy = {
  completion: 'single',
  check: async () => NOTHING,
};
