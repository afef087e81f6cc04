/**
 * How a task record is laid out as a DynamoDB item: its keys, reading an item back as a
 * {@link TaskRecord}, and reading one record. Shared by the consumer's task store and the
 * operator's lookup, so it sends nothing but the `GetItem` both are granted.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { KeyPrefix, TableSchema } from '../declaration.js';
import type { DynamoTable, StoredItem } from './dynamo-table.js';
import type { TaskRecord, TaskRef, TaskStatus } from './task-record.js';

/** Partition key of a task's item. */
export const taskPk = (key: string): string => `${KeyPrefix.task}${key}`;
/** The idempotency key of a task item's partition key. */
export const keyOfPk = (pk: unknown): string => String(pk).slice(KeyPrefix.task.length);
/**
 * The key of a task's item: `pk = task#<key>`, `sk = <task name>`. One partition per
 * idempotency key (so IAM's `task#` prefix covers it and a Query lists every task's record under
 * a key), one item per task in it.
 *
 * @example
 * ```ts
 * taskItemKey({ key: 'order-42', task: 'charge-card' }); // { pk: 'task#order-42', sk: 'charge-card' }
 * ```
 */
export function taskItemKey(ref: TaskRef): { pk: string; sk: string } {
  return { pk: taskPk(ref.key), sk: ref.task };
}

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
    task: String(item.task ?? item.sk),
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

/**
 * The record `task` stored under idempotency key `key` (consistent read), or undefined.
 *
 * @example
 * ```ts
 * const record = await readTaskRecord(new DynamoTable(ddb, 'tierq'), 'order-42', 'charge-card');
 * ```
 */
export async function readTaskRecord(
  table: DynamoTable,
  key: string,
  task: string,
): Promise<TaskRecord | undefined> {
  const { Item } = await table.call('task.get', (c) =>
    c.send(
      new GetCommand({ TableName: table.tableName, Key: taskItemKey({ key, task }), ConsistentRead: true }),
    ),
  );
  return Item === undefined ? undefined : toTaskRecord(Item);
}
