/**
 * The task store on DynamoDB: task state and idempotency in one item per key.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TableSchema } from '../declaration.js';
import { IdempotencyConflictError, IdempotencyInProgressError, StoreError } from '../errors.js';
import { batchGetItems, batchPutItems } from './dynamo-batch.js';
import { type DynamoClientLike, DynamoTable, epochSeconds, type StoredItem } from './dynamo-table.js';
import { keyOfPk, readTaskRecord, taskItemKey, toTaskRecord } from './dynamo-task-item.js';
import { capError, capResult, refId, type TaskRecord, type TaskRef, TaskStatus } from './task-record.js';
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

const ATTRIBUTES = ['pk', 'sk', 'taskId', 'task', 'status', 'attempts', 'payloadHash', 'lockExpiresAt']
  .concat(['result', 'lastError', 'createdAt', 'updatedAt', 'expiresAt'])
  .map((name) => `#${name}`);

// Fields every write sets; createdAt survives retries.
const BASE_SET =
  '#taskId = :taskId, #task = :task, #payloadHash = :hash, #attempts = :attempt, ' +
  '#createdAt = if_not_exists(#createdAt, :now), #updatedAt = :now, #expiresAt = :expiresAt';
// A record whose TTL passed counts as absent: AWS may keep it for days after expiry.
const NO_LIVE_SUCCESS = 'attribute_not_exists(#pk) OR #status <> :succeeded OR #expiresAt < :nowSeconds';
// The lock is still this acquisition's: nobody took it over, nobody completed the task.
const HELD_BY_OWNER = '#lockOwner = :owner';
const ACQUIRABLE =
  'attribute_not_exists(#pk) OR #expiresAt < :nowSeconds OR (#payloadHash = :hash AND (' +
  '(#status <> :running AND #status <> :succeeded) OR (#status = :running AND #lockExpiresAt < :nowMs)))';

/**
 * {@link TaskStore} on one DynamoDB table (`pk = task#<key>`, `sk = <task name>`, TTL `expiresAt`).
 *
 * @example
 * ```ts
 * const ddb = new DynamoDBClient({}); // module scope: reused across invocations
 * const store = new DynamoTaskStore(ddb, process.env.TIERQ_TABLE ?? 'tierq');
 * const acquired = await store.acquire({ key, taskId, task, payloadHash: payloadHash(task, payload), attempt: 1,
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
      set: `${BASE_SET}, #status = :running, #lockExpiresAt = :lock, #lockOwner = :owner`,
      remove: ['#result'],
      condition: ACQUIRABLE,
      values: {
        ':running': TaskStatus.Running,
        ':succeeded': TaskStatus.Succeeded,
        ':lock': input.lockExpiresAtMs,
        ':owner': input.owner,
        // A record whose TTL passed counts as absent, so it must outlive the lock it holds.
        ':expiresAt': Math.max(
          epochSeconds(input.nowMs) + input.ttlSeconds,
          Math.ceil(input.lockExpiresAtMs / 1_000),
        ),
      },
      returnCreatedAt: true,
    });
    if (written.written) return { outcome: 'acquired', createdAt: String(written.item?.createdAt) };
    const { record } = written;
    if (record === undefined) {
      throw new StoreError({ operation, message: `${operation}: condition failed but no item was returned` });
    }
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
    const lost = new Map<string, TaskRecord | undefined>();
    // One request cannot name an item twice; the last completion of a record is the one stored.
    const batched = new Map<string, StoredItem>();
    const checked = new Map<string, CompleteInput>();
    for (const input of inputs) {
      const id = refId(input);
      batched.delete(id);
      checked.delete(id);
      if (input.lock?.check) {
        checked.set(id, input);
        continue;
      }
      try {
        batched.set(id, completedItem(input));
      } catch (cause) {
        // A result JSON cannot represent (a BigInt, a cycle) fails its own record, not the batch.
        failed.set(id, new StoreError({ operation: 'task.completeMany' }, { cause }));
      }
    }
    await Promise.all([
      batchPutItems(this.table, 'task.completeMany', [...batched.values()]).then((unwritten) => {
        for (const { item, error } of unwritten) {
          failed.set(refId({ key: keyOfPk(item.pk), task: String(item.sk) }), error);
        }
      }),
      ...[...checked].map(async ([id, input]) => {
        try {
          const written = await this.update('task.completeMany', input, succeeded(input));
          if (!written.written) lost.set(id, written.record);
        } catch (error) {
          failed.set(id, error as StoreError);
        }
      }),
    ]);
    return { failed, lost };
  }

  async recordFailure(input: RecordFailureInput): Promise<WriteResult> {
    return this.update('task.recordFailure', input, {
      set: `${BASE_SET}, #status = :status, #lastError = :error`,
      remove: ['#lockExpiresAt', '#lockOwner'],
      // Under a lock, only its holder may release it; otherwise, never over a live success.
      condition: input.owner === undefined ? NO_LIVE_SUCCESS : HELD_BY_OWNER,
      values: {
        ':status': input.status,
        ':error': capError(input.error),
        ...(input.owner === undefined ? { ':succeeded': TaskStatus.Succeeded } : { ':owner': input.owner }),
      },
    });
  }

  async lookup(refs: readonly TaskRef[], nowMs = Date.now()): Promise<Map<string, TaskRecord>> {
    const unique = new Map(refs.map((ref) => [refId(ref), taskItemKey(ref)]));
    const items = await batchGetItems(this.table, 'task.lookup', [...unique.values()], {
      projection: ATTRIBUTES.join(', '),
      names: namesIn(ATTRIBUTES),
    });
    const found = new Map<string, TaskRecord>();
    for (const item of items) {
      const record = toTaskRecord(item);
      if (record.expiresAt >= epochSeconds(nowMs)) found.set(refId(record), record);
    }
    return found;
  }

  async get(key: string, task: string): Promise<TaskRecord | undefined> {
    return readTaskRecord(this.table, key, task);
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
          Key: taskItemKey(input),
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
    return { written: false, record: written.old === undefined ? undefined : toTaskRecord(written.old) };
  }
}

interface UpdateSpec {
  set: string;
  remove: string[];
  condition?: string;
  values: StoredItem;
  returnCreatedAt?: boolean;
}

/** A write, or the record that stood in its way (undefined when there was none). */
type Updated =
  | { written: true; item?: StoredItem | undefined }
  | { written: false; record: TaskRecord | undefined };

/** The whole item a completion stores: what `succeeded` sets, as one PutItem writes it. */
function completedItem(input: CompleteInput): StoredItem {
  const now = new Date(input.nowMs).toISOString();
  const result = capResult(input.result);
  return {
    // No `result` attribute for a task that returned nothing (not even an undefined one).
    ...(result === undefined ? {} : { result }),
    ...taskItemKey(input),
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
  const remove = ['#lockExpiresAt', '#lockOwner', '#lastError'];
  const values: StoredItem = { ':succeeded': TaskStatus.Succeeded };
  const owned = input.lock?.check ? { condition: HELD_BY_OWNER } : {};
  if (input.lock?.check) values[':owner'] = input.lock.owner;
  if (result === undefined) {
    return { set: `${BASE_SET}, #status = :succeeded`, remove: [...remove, '#result'], values, ...owned };
  }
  return {
    set: `${BASE_SET}, #status = :succeeded, #result = :result`,
    remove,
    values: { ...values, ':result': result },
    ...owned,
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
