/**
 * The contract between the idempotency middleware and its modes (`lock`, `once`, `off`): each
 * mode checks its records against the task store before they run, and says how their successes
 * are stored.
 */
import type { TaskRef, TaskWrite } from '../../stores/task-store.js';
import type { DeadLetter } from '../dead-letter.js';
import type { Deferral } from '../defer.js';
import type { RecordState } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';

/**
 * One record's claim on its idempotency key, made before the run.
 *
 * @example
 * const claim: Claim = { state, key: 'order-42', task: 'charge-card', hash, ttlSeconds: 86_400 };
 */
export interface Claim extends TaskRef {
  readonly state: RecordState;
  /** The payload hash the record's key is bound to. */
  readonly hash: string;
  readonly ttlSeconds: number;
  /** The record's `createdAt`, when the check saw the record (completions keep it). */
  createdAt?: string;
  /** Under `lock`, the lock this record holds: its owner token and when it expires (epoch ms). */
  lock?: { readonly owner: string; readonly expiresAtMs: number };
}

/** What the checks of a batch decided, besides the records they settled themselves. */
export interface CheckResult {
  /** Wait and look again (a duplicate in progress). */
  readonly defer: readonly Deferral[];
  /** Never runnable (the key used with another payload). */
  readonly deadLetter: readonly DeadLetter[];
}

/** What a check may use: the store, the clock, and when this invocation's locks expire. */
export interface CheckContext {
  readonly runtime: Pick<ConsumerRuntime, 'store' | 'now'>;
  /** Epoch ms: the Lambda's deadline, after which another delivery may take a lock over. */
  readonly lockExpiresAtMs: number;
}

/**
 * One idempotency mode. `check` runs before the task, on this mode's records of the batch: it
 * settles duplicates of completed tasks (and records it cannot check, as failed) and returns the
 * records to defer or dead-letter. `completion` says how a success is stored: with the batch's
 * other completions in one `completeMany`, or alone.
 *
 * @example
 * const strategies: Record<IdempotencyMode, IdempotencyStrategy> = { lock, once, off };
 */
export interface IdempotencyStrategy {
  check(claims: readonly Claim[], context: CheckContext): Promise<CheckResult>;
  readonly completion: 'batch' | 'single';
}

/**
 * The fields every task store write names, for one claim at `nowMs`.
 *
 * @example
 * await store.recordFailure({ ...taskWrite(claim, Date.now()), error, status: 'retrying' });
 */
export function taskWrite(claim: Claim, nowMs: number): TaskWrite {
  const { state } = claim;
  return {
    key: claim.key,
    taskId: state.envelope?.id ?? state.record.messageId,
    task: claim.task,
    payloadHash: claim.hash,
    attempt: state.attempt,
    ttlSeconds: claim.ttlSeconds,
    nowMs,
  };
}

/** A result with nothing to defer or dead-letter. */
export const NOTHING: CheckResult = { defer: [], deadLetter: [] };
