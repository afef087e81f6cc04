/**
 * Enqueue-time deduplication: the producer's claim on a dedup key, in the tierq table.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { KeyPrefix, TableSchema } from '../declaration.js';
import { ConfigError } from '../errors.js';

/**
 * The outcome of claiming a dedup key: ours, or already held by the task `taskId`.
 *
 * @example
 * ```ts
 * const claim: DedupClaim = await dedup.claim('order-42', 60, id);
 * ```
 */
export type DedupClaim = { readonly claimed: true } | { readonly claimed: false; readonly taskId: string };

/**
 * Enqueue-time deduplication on the tierq table: one row per key (`pk` `dedup#<key>`, `sk`
 * `dedup`) naming the first task, expiring by TTL on `expiresAt`. DynamoDB deletes expired rows
 * lazily, so the condition also accepts a row whose `expiresAt` has passed.
 *
 * @example
 * ```ts
 * const dedup = new DedupStore(dynamodb, 'tierq');
 * const claim = await dedup.claim('order-42', 60, 'task-1');
 * if (!claim.claimed) return { id: claim.taskId, status: 'deduplicated' };
 * ```
 */
export class DedupStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Claims `key` for `taskId` for `windowSeconds`. SDK errors propagate. */
  async claim(key: string, windowSeconds: number, taskId: string): Promise<DedupClaim> {
    if (!key) throw new ConfigError('enqueue: dedup.key must not be empty');
    if (!(Number.isFinite(windowSeconds) && windowSeconds > 0)) {
      throw new ConfigError(`enqueue: dedup.windowSeconds must be positive, got ${windowSeconds}`);
    }
    const nowSeconds = Math.floor(this.now() / 1000);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            pk: { S: pk(key) },
            sk: { S: 'dedup' },
            taskId: { S: taskId },
            [TableSchema.ttlAttribute]: { N: String(nowSeconds + Math.ceil(windowSeconds)) },
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt < :now',
          ExpressionAttributeNames: {
            '#pk': TableSchema.partitionKey,
            '#expiresAt': TableSchema.ttlAttribute,
          },
          ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = error.Item?.taskId?.S ?? (await this.holder(key));
      // The row vanished between the two calls (TTL): nothing holds the key, so claim again.
      return existing === undefined
        ? this.claim(key, windowSeconds, taskId)
        : { claimed: false, taskId: existing };
    }
  }

  /** Releases a claim this task holds, after its send failed, so a retry is not deduplicated. */
  async release(key: string, taskId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { pk: { S: pk(key) }, sk: { S: 'dedup' } },
          ConditionExpression: 'taskId = :id',
          ExpressionAttributeValues: { ':id': { S: taskId } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** For emulators that do not return the old item on a failed condition. */
  private async holder(key: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { pk: { S: pk(key) }, sk: { S: 'dedup' } },
        ConsistentRead: true,
      }),
    );
    return Item?.taskId?.S;
  }
}

const pk = (key: string) => `${KeyPrefix.dedup}${key}`;
