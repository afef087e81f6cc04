/**
 * Reading one task's record by its key: what `tierq task` and the tests do. Kept apart from the
 * consumer's store so the operator's code reaches only the `GetItem` it is granted.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { type DynamoClientLike, DynamoTable } from './dynamo-table.js';
import { TASK_SK, taskPk, toTaskRecord } from './dynamo-task-item.js';
import type { TaskRecord, TaskState } from './task-record.js';

export type { TaskState } from './task-record.js';

/**
 * The record stored under idempotency key `key` (consistent read), or undefined.
 *
 * @example
 * ```ts
 * const record = await readTaskRecord(new DynamoTable(ddb, 'tierq'), 'task-123');
 * ```
 */
export async function readTaskRecord(table: DynamoTable, key: string): Promise<TaskRecord | undefined> {
  const Key = { pk: taskPk(key), sk: TASK_SK };
  const { Item } = await table.call('task.get', (c) =>
    c.send(new GetCommand({ TableName: table.tableName, Key, ConsistentRead: true })),
  );
  return Item === undefined ? undefined : toTaskRecord(Item);
}

/**
 * A task's state by id (its default idempotency key), or status `unknown` when there is no record.
 *
 * @example
 * ```ts
 * console.log(await getTaskState({ client: new DynamoDBClient({}), tableName: 'tierq' }, 'task-123'));
 * ```
 */
export async function getTaskState(
  source:
    | { get(key: string): Promise<TaskRecord | undefined> }
    | { client: DynamoClientLike; tableName: string },
  id: string,
): Promise<TaskState> {
  const record =
    'get' in source
      ? await source.get(id)
      : await readTaskRecord(new DynamoTable(source.client, source.tableName), id);
  if (record === undefined) return { id, status: 'unknown' };
  return {
    id,
    task: record.task,
    status: record.status,
    attempts: record.attempts,
    result: record.result,
    error: record.lastError,
    updatedAt: record.updatedAt,
  };
}
