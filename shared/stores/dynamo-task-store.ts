import { BatchGetCommand, BatchWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TableSchema } from '../declaration.js';
import { IdempotencyConflictError, IdempotencyInProgressError, StoreError } from '../errors.js';
import { type DynamoClientLike, DynamoTable, epochSeconds, type StoredItem } from './dynamo-table.js';
import { readTaskRecord } from './task-lookup.js';
import {
  capError,
  capResult,
  keyOfPk,
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
  CompleteManyResult,
  RecordFailureInput,
  TaskStore,
  TaskWrite,
  WriteResult,
} from './task-store.js';

const BATCH_GET_LIMIT = 100;
const BATCH_WRITE_LIMIT = 25;
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
      returnCreatedAt: true,
    });
    if (written.written) return { outcome: 'acquired', createdAt: String(written.item?.createdAt) };
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

  async completeMany(inputs: readonly CompleteInput[]): Promise<CompleteManyResult> {
    const failed = new Map<string, StoreError>();
    // One request cannot name a key twice; the last completion of a key is the one stored.
    const byKey = new Map<string, StoredItem>();
    for (const input of inputs) {
      try {
        byKey.set(input.key, completedItem(input));
      } catch (cause) {
        // A result JSON cannot represent (a BigInt, a cycle) fails its own record, not the batch.
        byKey.delete(input.key);
        failed.set(input.key, new StoreError({ operation: 'task.completeMany' }, { cause }));
      }
    }
    const chunks = chunksOf([...byKey.values()], BATCH_WRITE_LIMIT);
    for (const unwritten of await Promise.all(chunks.map((chunk) => this.batchWrite(chunk)))) {
      for (const [key, error] of unwritten) failed.set(key, error);
    }
    return { failed };
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

  async lookup(keys: readonly string[], nowMs = Date.now()): Promise<Map<string, TaskRecord>> {
    const chunks = chunksOf([...new Set(keys)], BATCH_GET_LIMIT);
    const items = (await Promise.all(chunks.map((chunk) => this.batchGet(chunk)))).flat();
    const found = new Map<string, TaskRecord>();
    for (const item of items) {
      const record = toTaskRecord(item);
      if (record.expiresAt >= epochSeconds(nowMs)) found.set(record.key, record);
    }
    return found;
  }

  async get(key: string): Promise<TaskRecord | undefined> {
    return readTaskRecord(this.table, key);
  }

  /**
   * One UpdateItem (an upsert); a failed condition returns the record that stood in the way.
   * With `returnCreatedAt`, a successful write returns the item's `createdAt` (`UPDATED_NEW`).
   */
  private async update(operation: string, input: TaskWrite, spec: UpdateSpec): Promise<Updated> {
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
          ReturnValues: spec.returnCreatedAt ? 'UPDATED_NEW' : undefined,
        }),
      ),
    );
    if (written.ok) return { written: true, item: written.output.Attributes };
    if (written.old === undefined) {
      throw new StoreError({ operation, message: `${operation}: condition failed but no item was returned` });
    }
    return { written: false, record: toTaskRecord(written.old) };
  }

  /** One chunk of at most 100 keys. */
  private async batchGet(keys: string[]): Promise<StoredItem[]> {
    const operation = 'task.lookup';
    const items: StoredItem[] = [];
    const first: StoredItem[] = keys.map((key) => ({ pk: taskPk(key), sk: TASK_SK }));
    const { left, error } = await drainUnprocessed(first, async (pending) => {
      const request = {
        Keys: pending,
        ConsistentRead: true,
        ProjectionExpression: ATTRIBUTES.join(', '),
        ExpressionAttributeNames: namesIn(ATTRIBUTES),
      };
      const output = await this.table.call(operation, (c) =>
        c.send(new BatchGetCommand({ RequestItems: { [this.table.tableName]: request } })),
      );
      items.push(...(output.Responses?.[this.table.tableName] ?? []));
      return output.UnprocessedKeys?.[this.table.tableName]?.Keys ?? [];
    });
    if (error !== undefined) throw error;
    if (left.length > 0) throw unprocessed(operation, left.length);
    return items;
  }

  /** One chunk of at most 25 puts; returns the keys left unwritten, each with why. */
  private async batchWrite(items: StoredItem[]): Promise<Map<string, StoreError>> {
    const operation = 'task.completeMany';
    const { left, error } = await drainUnprocessed(
      items.map((Item) => ({ PutRequest: { Item } })),
      async (pending) => {
        const output = await this.table.call(operation, (c) =>
          c.send(new BatchWriteCommand({ RequestItems: { [this.table.tableName]: pending } })),
        );
        return (output.UnprocessedItems?.[this.table.tableName] ?? []) as typeof pending;
      },
    );
    if (left.length === 0) return new Map();
    const why = error instanceof StoreError ? error : unprocessed(operation, left.length);
    return new Map(left.map((put) => [keyOfPk(put.PutRequest?.Item?.pk), why]));
  }
}

/**
 * Sends `items`, then whatever DynamoDB left unprocessed, with a short jittered backoff, up to
 * {@link UNPROCESSED_RETRIES} more times. Returns what is still unprocessed, and the error that
 * stopped it early if a request failed (everything still pending then counts as unprocessed).
 */
async function drainUnprocessed<T>(
  items: T[],
  send: (pending: T[]) => Promise<T[]>,
): Promise<{ left: T[]; error?: unknown }> {
  let pending = items;
  for (let attempt = 0; pending.length > 0 && attempt <= UNPROCESSED_RETRIES; attempt += 1) {
    if (attempt > 0) await sleep(10 * 2 ** attempt * (0.5 + Math.random()));
    try {
      pending = await send(pending);
    } catch (error) {
      return { left: pending, error };
    }
  }
  return { left: pending };
}

function unprocessed(operation: string, count: number): StoreError {
  const message = `${operation}: ${count} keys still unprocessed after ${UNPROCESSED_RETRIES + 1} requests`;
  return new StoreError({ operation, message });
}

interface UpdateSpec {
  set: string;
  remove: string[];
  condition?: string;
  values: StoredItem;
  returnCreatedAt?: boolean;
}

type Updated = { written: true; item?: StoredItem | undefined } | { written: false; record: TaskRecord };

/** The whole item a completion stores: what `succeeded` sets, as one PutItem writes it. */
function completedItem(input: CompleteInput): StoredItem {
  const now = new Date(input.nowMs).toISOString();
  const result = capResult(input.result);
  return {
    // No `result` attribute for a task that returned nothing (not even an undefined one).
    ...(result === undefined ? {} : { result }),
    pk: taskPk(input.key),
    sk: TASK_SK,
    taskId: input.taskId,
    task: input.task,
    payloadHash: input.payloadHash,
    attempts: input.attempt,
    status: TaskStatus.Succeeded,
    createdAt: input.createdAt ?? now,
    updatedAt: now,
    [TableSchema.ttlAttribute]: epochSeconds(input.nowMs) + input.ttlSeconds,
  };
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
  // `#expiresAt` is the table's TTL attribute, whatever the declaration calls it.
  return Object.fromEntries(
    names.map((name) => [name, name === '#expiresAt' ? TableSchema.ttlAttribute : name.slice(1)]),
  );
}

/** `items` in consecutive runs of at most `size`: DynamoDB's batch operations cap their keys. */
function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
