import { BatchGetCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { IdempotencyConflictError, IdempotencyInProgressError, StoreError } from '../errors.js';
import { type DynamoClientLike, DynamoTable, epochSeconds, type StoredItem } from './dynamo-table.js';
import {
  capError,
  capResult,
  TASK_SK,
  type TaskRecord,
  TaskStatus,
  taskPk,
  toTaskRecord,
} from './task-record.js';
import type {
  AcquireInput,
  AcquireResult,
  CompleteInput,
  RecordFailureInput,
  TaskStore,
  TaskWrite,
  WriteResult,
} from './task-store.js';

const BATCH_GET_LIMIT = 100;
const UNPROCESSED_RETRIES = 5;
const ATTRIBUTES = ['pk', 'taskId', 'task', 'status', 'attempts', 'payloadHash', 'lockExpiresAt']
  .concat(['result', 'lastError', 'createdAt', 'updatedAt', 'expiresAt'])
  .map((name) => `#${name}`);

// Fields every write sets; createdAt survives retries.
const BASE_SET =
  '#taskId = :taskId, #task = :task, #payloadHash = :hash, #attempts = :attempt, ' +
  '#createdAt = if_not_exists(#createdAt, :now), #updatedAt = :now, #expiresAt = :expiresAt';
// A record whose TTL passed counts as absent: AWS may keep it for days after expiry.
const NO_LIVE_SUCCESS = 'attribute_not_exists(#pk) OR #status <> :succeeded OR #expiresAt < :nowSeconds';
const ACQUIRABLE =
  'attribute_not_exists(#pk) OR #expiresAt < :nowSeconds OR (#payloadHash = :hash AND (' +
  '(#status <> :running AND #status <> :succeeded) OR (#status = :running AND #lockExpiresAt < :nowMs)))';

/**
 * {@link TaskStore} on one DynamoDB table (`pk = task#<key>`, `sk = task`, TTL `expiresAt`).
 *
 * @example
 * ```ts
 * const ddb = new DynamoDBClient({}); // module scope: reused across invocations
 * const store = new DynamoTaskStore(ddb, process.env.TIERQ_TABLE ?? 'tierq');
 * const acquired = await store.acquire({ key, taskId, task, payloadHash: payloadHash(payload), attempt: 1,
 *   lockExpiresAtMs: Date.now() + 60_000, ttlSeconds: 86_400, nowMs: Date.now() });
 * ```
 */
export class DynamoTaskStore implements TaskStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoClientLike, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  /** DynamoDB requests this store has sent, retries of unprocessed keys included. */
  get requests(): number {
    return this.table.requests;
  }

  async acquire(input: AcquireInput): Promise<AcquireResult> {
    const operation = 'task.acquire';
    const written = await this.update(operation, input, {
      set: `${BASE_SET}, #status = :running, #lockExpiresAt = :lock`,
      remove: ['#result'],
      condition: ACQUIRABLE,
      values: {
        ':running': TaskStatus.Running,
        ':succeeded': TaskStatus.Succeeded,
        ':lock': input.lockExpiresAtMs,
      },
    });
    if (written.written) return { outcome: 'acquired' };
    const { record } = written;
    // Hash first: a completed record under another payload is a producer bug, not a duplicate.
    if (record.payloadHash !== input.payloadHash) throw new IdempotencyConflictError({ key: input.key });
    if (record.status === TaskStatus.Succeeded) return { outcome: 'completed', record };
    if (record.status === TaskStatus.Running) {
      throw new IdempotencyInProgressError({
        key: input.key,
        lockExpiresAt: record.lockExpiresAt ?? input.nowMs,
      });
    }
    throw new StoreError({
      operation,
      message: `${operation}: condition failed on a ${record.status} record`,
    });
  }

  async complete(input: CompleteInput): Promise<void> {
    await this.update('task.complete', input, succeeded(input));
  }

  async markCompletedOnce(input: CompleteInput): Promise<WriteResult> {
    return this.update('task.markCompletedOnce', input, { ...succeeded(input), condition: NO_LIVE_SUCCESS });
  }

  async recordFailure(input: RecordFailureInput): Promise<WriteResult> {
    return this.update('task.recordFailure', input, {
      set: `${BASE_SET}, #status = :status, #lastError = :error`,
      remove: ['#lockExpiresAt'],
      condition: NO_LIVE_SUCCESS,
      values: {
        ':status': input.status,
        ':error': capError(input.error),
        ':succeeded': TaskStatus.Succeeded,
      },
    });
  }

  async findCompleted(keys: readonly string[], nowMs = Date.now()): Promise<Map<string, TaskRecord>> {
    const unique = [...new Set(keys)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
      chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
    }
    const items = (await Promise.all(chunks.map((chunk) => this.batchGet(chunk)))).flat();
    const found = new Map<string, TaskRecord>();
    for (const item of items) {
      const record = toTaskRecord(item);
      if (record.status === TaskStatus.Succeeded && record.expiresAt >= epochSeconds(nowMs)) {
        found.set(record.key, record);
      }
    }
    return found;
  }

  async get(key: string): Promise<TaskRecord | undefined> {
    const Key = { pk: taskPk(key), sk: TASK_SK };
    const { Item } = await this.table.call('task.get', (c) =>
      c.send(new GetCommand({ TableName: this.table.tableName, Key, ConsistentRead: true })),
    );
    return Item === undefined ? undefined : toTaskRecord(Item);
  }

  /** One UpdateItem (an upsert); a failed condition returns the record that stood in the way. */
  private async update(operation: string, input: TaskWrite, spec: UpdateSpec): Promise<WriteResult> {
    const remove = spec.remove.length > 0 ? ` REMOVE ${spec.remove.join(', ')}` : '';
    const expressions = [`SET ${spec.set}${remove}`, spec.condition ?? ''];
    const values: StoredItem = {
      ':taskId': input.taskId,
      ':task': input.task,
      ':hash': input.payloadHash,
      ':attempt': input.attempt,
      ':now': new Date(input.nowMs).toISOString(),
      ':expiresAt': epochSeconds(input.nowMs) + input.ttlSeconds,
      ...spec.values,
    };
    if (spec.condition?.includes(':nowSeconds')) values[':nowSeconds'] = epochSeconds(input.nowMs);
    if (spec.condition?.includes(':nowMs')) values[':nowMs'] = input.nowMs;
    const written = await this.table.conditional(operation, (c) =>
      c.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk: taskPk(input.key), sk: TASK_SK },
          UpdateExpression: expressions[0],
          ConditionExpression: spec.condition,
          ExpressionAttributeNames: namesIn(expressions),
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: spec.condition === undefined ? undefined : 'ALL_OLD',
        }),
      ),
    );
    if (written.ok) return { written: true };
    if (written.old === undefined) {
      throw new StoreError({ operation, message: `${operation}: condition failed but no item was returned` });
    }
    return { written: false, record: toTaskRecord(written.old) };
  }

  /** One chunk of at most 100 keys; unprocessed keys are retried with a short backoff. */
  private async batchGet(keys: string[]): Promise<StoredItem[]> {
    const items: StoredItem[] = [];
    let pending: StoredItem[] = keys.map((key) => ({ pk: taskPk(key), sk: TASK_SK }));
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > UNPROCESSED_RETRIES) {
        const message = `task.findCompleted: ${pending.length} keys still unprocessed after ${attempt} requests`;
        throw new StoreError({ operation: 'task.findCompleted', message });
      }
      if (attempt > 0) await sleep(10 * 2 ** attempt * (0.5 + Math.random()));
      const request = {
        Keys: pending,
        ConsistentRead: true,
        ProjectionExpression: ATTRIBUTES.join(', '),
        ExpressionAttributeNames: namesIn(ATTRIBUTES),
      };
      const output = await this.table.call('task.findCompleted', (c) =>
        c.send(new BatchGetCommand({ RequestItems: { [this.table.tableName]: request } })),
      );
      items.push(...(output.Responses?.[this.table.tableName] ?? []));
      pending = output.UnprocessedKeys?.[this.table.tableName]?.Keys ?? [];
    }
    return items;
  }
}

interface UpdateSpec {
  set: string;
  remove: string[];
  condition?: string;
  values: StoredItem;
}

function succeeded(input: CompleteInput): UpdateSpec {
  const result = capResult(input.result);
  const remove = ['#lockExpiresAt', '#lastError'];
  const values: StoredItem = { ':succeeded': TaskStatus.Succeeded };
  if (result === undefined)
    return { set: `${BASE_SET}, #status = :succeeded`, remove: [...remove, '#result'], values };
  return {
    set: `${BASE_SET}, #status = :succeeded, #result = :result`,
    remove,
    values: { ...values, ':result': result },
  };
}

/** DynamoDB rejects unused names, so each request declares exactly the `#name`s it uses. */
function namesIn(expressions: readonly string[]): Record<string, string> {
  const names = expressions.join(' ').match(/#\w+/g) ?? [];
  return Object.fromEntries(names.map((name) => [name, name.slice(1)]));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
