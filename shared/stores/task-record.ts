/**
 * A task's record as the domain sees it — its state, its idempotency fields and the helpers that
 * shape what is stored — with nothing of how a store keeps it.
 */
import { createHash } from 'node:crypto';

/**
 * Where a task stands. `retrying` and `dead` both release the lock; only `succeeded` is final.
 *
 * @example
 * ```ts
 * if (record.status === TaskStatus.Succeeded) return record.result;
 * ```
 */
export const TaskStatus = {
  Running: 'running',
  Succeeded: 'succeeded',
  Retrying: 'retrying',
  Dead: 'dead',
} as const;

/** One of the values of {@link TaskStatus}. */
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

/**
 * The single item that is both a task's state and its idempotency record, one per task and key.
 *
 * @example
 * ```ts
 * const record: TaskRecord | undefined = await store.get('order-42');
 * ```
 */
export interface TaskRecord {
  /** The idempotency key (the task id unless the producer chose one). */
  key: string;
  taskId: string;
  /** The task's registered name. */
  task: string;
  status: TaskStatus;
  attempts: number;
  payloadHash: string;
  /** Epoch ms until which a `running` record is locked. */
  lockExpiresAt?: number;
  /** The task's result, or `{ truncated: true, bytes }` when it exceeded {@link MAX_RESULT_BYTES}. */
  result?: unknown;
  lastError?: string;
  createdAt: string;
  updatedAt: string;
  /** TTL, epoch seconds. */
  expiresAt: number;
}

/**
 * Largest stored result, in UTF-8 bytes of its JSON; larger ones are replaced by a marker.
 *
 * @example
 * ```ts
 * if (Buffer.byteLength(JSON.stringify(value)) > MAX_RESULT_BYTES) console.warn('result will be truncated');
 * ```
 */
export const MAX_RESULT_BYTES = 32 * 1024;

/**
 * Largest stored error message, in UTF-8 bytes.
 *
 * @example
 * ```ts
 * const shown = capError(String(error)); // at most MAX_ERROR_BYTES bytes
 * ```
 */
export const MAX_ERROR_BYTES = 2 * 1024;

/**
 * Which record: a task's record under an idempotency key. Keys are scoped per task, so two tasks
 * enqueued under one key each have their own record.
 *
 * @example
 * ```ts
 * const ref: TaskRef = { key: 'order-42', task: 'charge-card' };
 * ```
 */
export interface TaskRef {
  /** The idempotency key: the task id unless the producer chose one. */
  readonly key: string;
  /** The task's registered name. */
  readonly task: string;
}

/**
 * One string per record, for maps: `<task>#<key>` (a task name never holds `#`).
 *
 * @example
 * ```ts
 * refId({ key: 'order-42', task: 'charge-card' }); // 'charge-card#order-42'
 * ```
 */
export function refId(ref: TaskRef): string {
  return `${ref.task}#${ref.key}`;
}

/**
 * SHA-256 (hex) of the canonical JSON of the task's name and `payload`: object keys sorted at
 * every depth, so two producers serializing the same payload differently still get the same
 * hash, and the hash binds a key to one task and one payload.
 *
 * @example
 * ```ts
 * payloadHash('sync', { b: 1, a: [2, 3] }) === payloadHash('sync', { a: [2, 3], b: 1 }); // true
 * ```
 */
export function payloadHash(task: string, payload: unknown): string {
  return createHash('sha256')
    .update(canonicalJson([task, payload]))
    .digest('hex');
}

/**
 * JSON with object keys sorted (arrays keep their order); `undefined` serializes as `null`.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: { d: 2, c: 3 } }); // '{"a":{"c":3,"d":2},"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  // The replacer sees values after toJSON(), so Dates and the like are already strings.
  return (
    JSON.stringify(value, (_key, current: unknown) => {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return current;
      const source = current as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(source)
          .sort()
          .map((key) => [key, source[key]]),
      );
    }) ?? 'null'
  );
}

/**
 * The JSON text to store for a result: the value itself, or `{"truncated":true,"bytes":N}`
 * when its JSON exceeds `maxBytes`; `undefined` for a task that returned nothing.
 *
 * @example
 * ```ts
 * capResult('x'.repeat(40_000)); // '{"truncated":true,"bytes":40002}'
 * ```
 */
export function capResult(result: unknown, maxBytes = MAX_RESULT_BYTES): string | undefined {
  const json = JSON.stringify(result);
  if (json === undefined) return undefined;
  const bytes = Buffer.byteLength(json, 'utf8');
  return bytes > maxBytes ? JSON.stringify({ truncated: true, bytes }) : json;
}

/**
 * Cuts an error message to at most `maxBytes` UTF-8 bytes, never inside a character, marking
 * the cut with an ellipsis.
 *
 * @example
 * ```ts
 * capError('é'.repeat(5_000)).length; // about 1,000 characters
 * ```
 */
export function capError(message: string, maxBytes = MAX_ERROR_BYTES): string {
  if (Buffer.byteLength(message, 'utf8') <= maxBytes) return message;
  const ellipsis = '…';
  const cut = Buffer.from(message, 'utf8')
    .subarray(0, maxBytes - Buffer.byteLength(ellipsis))
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return cut + ellipsis;
}

/**
 * What `tierq task <id>` prints.
 *
 * @example
 * ```ts
 * const state: TaskState = await getTaskState({ client, tableName }, 'task-123');
 * ```
 */
export type TaskState =
  | {
      /** The key looked up: the idempotency key, which is the task id unless the producer set one. */
      id: string;
      /** The id of the task that wrote the record. */
      taskId: string;
      task: string;
      status: TaskStatus;
      attempts: number;
      result: unknown;
      error: string | undefined;
      /** When the record was first written: the task's first attempt. */
      createdAt: string;
      updatedAt: string;
    }
  | { id: string; status: 'unknown' };
