/**
 * The task store's interface: what the consumer needs of task state and idempotency, in one
 * record per key. It imports no implementation; `DynamoTaskStore` implements it.
 */
import type { TaskRecord, TaskRef } from './task-record.js';

export {
  canonicalJson,
  capError,
  capResult,
  MAX_ERROR_BYTES,
  MAX_RESULT_BYTES,
  payloadHash,
  refId,
  type TaskRecord,
  type TaskRef,
  type TaskState,
  TaskStatus,
} from './task-record.js';

/**
 * What every write names: the record's key, the task, the attempt and the time of the write.
 *
 * @example
 * ```ts
 * const write: TaskWrite = { key: id, taskId: id, task: 'send-email', payloadHash: payloadHash('send-email', payload),
 *   attempt: 1, ttlSeconds: 7 * 86_400, nowMs: Date.now() };
 * ```
 */
export interface TaskWrite extends TaskRef {
  taskId: string;
  /** SHA-256 of the task's name and payload as canonical JSON, see `payloadHash`. */
  payloadHash: string;
  /** This delivery's attempt number (SQS ApproximateReceiveCount). */
  attempt: number;
  /** How long the record lives after this write. */
  ttlSeconds: number;
  nowMs: number;
}

/**
 * Input of {@link TaskStore.acquire}.
 *
 * @example
 * ```ts
 * const input: AcquireInput = { key, taskId, task, payloadHash, attempt, ttlSeconds, nowMs, lockExpiresAtMs: nowMs + 60_000, owner: randomUUID() };
 * ```
 */
export interface AcquireInput extends TaskWrite {
  /** Epoch ms after which another delivery may take over (the holder is presumed crashed). */
  lockExpiresAtMs: number;
  /**
   * A token unique to this acquisition (a random UUID): the lock's owner. Only its owner may
   * release the lock with a failure, or complete it with a check.
   */
  owner: string;
}

/**
 * Input of {@link TaskStore.complete} and {@link TaskStore.completeMany}.
 *
 * @example
 * ```ts
 * await store.complete({ ...write, result: { sent: true } });
 * ```
 */
export interface CompleteInput extends TaskWrite {
  /** Any JSON value; stored capped at `MAX_RESULT_BYTES`. */
  result: unknown;
  /**
   * When the record was first written, for {@link TaskStore.completeMany}, which replaces the
   * whole item: from `acquire` or `lookup`. The completion's time when there was no record.
   */
  createdAt?: string;
  /**
   * The lock this completion releases (`lock` mode). With `check`, the completion is written
   * only while `owner` still holds the lock (a conditional UpdateItem of its own), and one whose
   * lock was taken over is returned in `lost`, not written over the newer holder's state.
   * Without, it joins the batch's one unconditional BatchWriteItem: for a lock that cannot have
   * been taken over yet, the holder's own clock being well before the lock's expiry.
   */
  lock?: { readonly owner: string; readonly check: boolean };
}

/**
 * What {@link TaskStore.completeMany} could not write, by record (`refId`), with the reason;
 * the caller fails those records so SQS redelivers them.
 *
 * @example
 * ```ts
 * const { failed } = await store.completeMany(inputs);
 * for (const [key, error] of failed) logger.error('completion not stored', { key, error });
 * ```
 */
export interface CompleteManyResult {
  readonly failed: ReadonlyMap<string, Error>;
  /**
   * Checked completions not written because their lock is another owner's now, by `refId`,
   * with the record that stands there (undefined when there is none).
   */
  readonly lost: ReadonlyMap<string, TaskRecord | undefined>;
}

/**
 * Input of {@link TaskStore.recordFailure}.
 *
 * @example
 * ```ts
 * await store.recordFailure({ ...write, error: String(error), status: 'retrying' });
 * ```
 */
export interface RecordFailureInput extends TaskWrite {
  /** The error message; stored capped at `MAX_ERROR_BYTES`. */
  error: string;
  status: 'retrying' | 'dead';
  /** The lock's owner (`lock` mode): the failure is written only while it still holds the lock. */
  owner?: string;
}

/**
 * `acquired`: run the task (`createdAt` is the record's, for its completion). `completed`: a
 * duplicate of a task that already succeeded; ack it and return `record.result`.
 *
 * @example
 * ```ts
 * const acquired = await store.acquire(input);
 * if (acquired.outcome === 'completed') return acquired.record.result;
 * ```
 */
export type AcquireResult =
  | { outcome: 'acquired'; createdAt: string }
  | { outcome: 'completed'; record: TaskRecord };

/**
 * A conditional write that did not happen — a completed record was there, or the lock is
 * another owner's — with the record that stood in the way; not an error.
 *
 * @example
 * ```ts
 * const written: WriteResult = await store.recordFailure(input);
 * if (!written.written) logger.info('another run completed first', { at: written.record.updatedAt });
 * ```
 */
export type WriteResult = { written: true } | { written: false; record: TaskRecord | undefined };

/**
 * Task state and idempotency in one record per key. Every method makes exactly one request
 * (batches aside) and throws `StoreError` on any storage failure (`completeMany` returns its
 * failures by key instead), so the caller fails the SQS record and it is redelivered.
 *
 * @example
 * ```ts
 * const store: TaskStore = new DynamoTaskStore(ddb, process.env.TIERQ_TABLE ?? 'tierq');
 * ```
 */
export interface TaskStore {
  /**
   * `lock` mode: takes the lock with one conditional write; the record then lives at least until
   * the lock expires, whatever `ttlSeconds` says. Throws `IdempotencyConflictError`
   * when the key was used with another payload, `IdempotencyInProgressError` while another
   * delivery holds an unexpired lock.
   */
  acquire(input: AcquireInput): Promise<AcquireResult>;
  /**
   * Records success and the result, releasing the lock: one unconditional UpdateItem that
   * keeps `createdAt` (idempotency `off`, where nothing read the record first).
   */
  complete(input: CompleteInput): Promise<void>;
  /**
   * Records the successes of a batch at once, releasing their locks: unconditional, like
   * `complete`, as whole items (one BatchWriteItem per 25 records; a record named twice keeps
   * its last input) — except completions whose `lock` asks for a check, each a conditional
   * write of its own. Unprocessed items are retried a few times; what still fails is returned,
   * as are lost locks, not thrown.
   */
  completeMany(inputs: readonly CompleteInput[]): Promise<CompleteManyResult>;
  /** `once` mode's pre-check: the live (unexpired) records among `refs`, by `refId`, in batched reads. */
  lookup(refs: readonly TaskRef[], nowMs?: number): Promise<Map<string, TaskRecord>>;
  /**
   * Records a failed attempt and releases the lock, creating the record if needed. With
   * `owner`, only while that owner still holds the lock; without, it leaves a live completed
   * record alone (a duplicate run failed after another succeeded).
   */
  recordFailure(input: RecordFailureInput): Promise<WriteResult>;
  /** The task's record under `key`, read consistently; `undefined` when there is none. */
  get(key: string, task: string): Promise<TaskRecord | undefined>;
}
