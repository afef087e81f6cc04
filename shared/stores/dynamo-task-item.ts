/**
 * How a task record is laid out as a DynamoDB item: its keys, and reading an item back as a
 * {@link TaskRecord}. Shared by the task store and the operator's lookup.
 */
import { KeyPrefix, TableSchema } from '../declaration.js';
import type { StoredItem } from './dynamo-table.js';
import type { TaskRecord, TaskStatus } from './task-record.js';

/** Partition key of a task's item. */
export const taskPk = (key: string): string => `${KeyPrefix.task}${key}`;
/** The idempotency key of a task item's partition key. */
export const keyOfPk = (pk: unknown): string => String(pk).slice(KeyPrefix.task.length);
/** Sort key of every task item. */
export const TASK_SK = 'task';

/**
 * Reads a stored item back as a {@link TaskRecord}, parsing the stored result JSON.
 *
 * @example
 * ```ts
 * const record = toTaskRecord(Item);
 * ```
 */
export function toTaskRecord(item: StoredItem): TaskRecord {
  const record: TaskRecord = {
    key: keyOfPk(item.pk),
    taskId: String(item.taskId),
    task: String(item.task),
    status: item.status as TaskStatus,
    attempts: Number(item.attempts ?? 0),
    payloadHash: String(item.payloadHash),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    expiresAt: Number(item[TableSchema.ttlAttribute]),
  };
  if (typeof item.lockExpiresAt === 'number') record.lockExpiresAt = item.lockExpiresAt;
  if (typeof item.result === 'string') record.result = parseStoredJson(item.result);
  if (typeof item.lastError === 'string') record.lastError = item.lastError;
  return record;
}

function parseStoredJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // Written by something else; show it as it is rather than fail a read.
  }
}
