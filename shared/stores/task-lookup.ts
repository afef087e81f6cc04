/**
 * Reading task records by key: what `tierq task` and the tests do. Kept apart from the
 * consumer's store so the operator's code reaches only the `GetItem` and `Query` it is granted,
 * and the consumer's bundle holds no `Query`.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TableSchema } from '../declaration.js';
import { ConfigError } from '../errors.js';
import { type DynamoClientLike, DynamoTable, type StoredItem } from './dynamo-table.js';
import { readTaskRecord, taskPk, toTaskRecord } from './dynamo-task-item.js';
import type { TaskRecord, TaskState } from './task-record.js';

export type { TaskState } from './task-record.js';

/**
 * Every task's record under idempotency key `key` (one Query on its partition, consistent),
 * ordered by task name.
 *
 * @example
 * ```ts
 * const records = await listTaskRecords(new DynamoTable(ddb, 'tierq'), 'order-42');
 * ```
 */
export async function listTaskRecords(table: DynamoTable, key: string): Promise<TaskRecord[]> {
  const items: StoredItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.call('task.list', (c) =>
      c.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TableSchema.partitionKey },
          ExpressionAttributeValues: { ':pk': taskPk(key) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      ),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items.map(toTaskRecord);
}

/** Where the records are: a client and the table's name. */
export interface TaskSource {
  readonly client: DynamoClientLike;
  readonly tableName: string;
}

function stateOf(id: string, record: TaskRecord): TaskState {
  return {
    id,
    taskId: record.taskId,
    task: record.task,
    status: record.status,
    attempts: record.attempts,
    result: record.result,
    error: record.lastError,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/**
 * The state of every task recorded under `key` (a task id, or the idempotency key the producer
 * set): one per task name, empty when there is no record.
 *
 * @example
 * ```ts
 * for (const state of await findTaskStates({ client, tableName: 'tierq' }, 'order-42')) console.log(state.task, state.status);
 * ```
 */
export async function findTaskStates(source: TaskSource, key: string): Promise<TaskState[]> {
  const records = await listTaskRecords(new DynamoTable(source.client, source.tableName), key);
  return records.map((record) => stateOf(key, record));
}

/**
 * A task's state under `key` (its id, the default idempotency key), or status `unknown` when
 * there is no record. Give `task` when several tasks were enqueued under one key; without it, a
 * key that holds the records of several tasks is a {@link ConfigError} naming them.
 *
 * @example
 * ```ts
 * console.log(await getTaskState({ client: new DynamoDBClient({}), tableName: 'tierq' }, 'task-123'));
 * await getTaskState(source, 'order-42', 'charge-card');
 * ```
 */
export async function getTaskState(source: TaskSource, key: string, task?: string): Promise<TaskState> {
  const table = new DynamoTable(source.client, source.tableName);
  if (task !== undefined) {
    const record = await readTaskRecord(table, key, task);
    return record === undefined ? { id: key, status: 'unknown' } : stateOf(key, record);
  }
  const records = await listTaskRecords(table, key);
  const [only] = records;
  if (only === undefined) return { id: key, status: 'unknown' };
  if (records.length > 1) {
    const tasks = records.map((r) => r.task).join(', ');
    throw new ConfigError(`key "${key}" holds the records of several tasks (${tasks}): name one`);
  }
  return stateOf(key, only);
}
