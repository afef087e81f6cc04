/**
 * One table and one document client shared by the stores: request counting, SDK errors as
 * `StoreError`, failed conditions as the old item.
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { StoreError } from '../errors.js';

/**
 * Either SDK client a store accepts; a plain `DynamoDBClient` is wrapped in a document client.
 *
 * @example
 * ```ts
 * const client: DynamoClientLike = new DynamoDBClient({}); // created once, at module scope
 * ```
 */
export type DynamoClientLike = DynamoDBDocumentClient | DynamoDBClient;

/**
 * A stored item as plain JavaScript values.
 *
 * @example
 * ```ts
 * const item: StoredItem = { pk: 'task#t-1', sk: 'echo', attempts: 1 };
 * ```
 */
export type StoredItem = Record<string, unknown>;

/**
 * The outcome of {@link DynamoTable.conditional}: the write happened, or its condition failed
 * and `old` is the item as it stood (`undefined` when there was none).
 *
 * @example
 * ```ts
 * const written: ConditionalResult<PutCommandOutput> = await table.conditional('op', (c) => c.send(put));
 * if (!written.ok) inspect(written.old);
 * ```
 */
export type ConditionalResult<T> = { ok: true; output: T } | { ok: false; old: StoredItem | undefined };

/**
 * One table and one document client, shared by the stores: counts every request it sends and
 * turns SDK failures into {@link StoreError} (the caller fails the record, SQS redelivers it).
 * A failed condition is not a failure: {@link DynamoTable.conditional} returns the old item,
 * taken from `ReturnValuesOnConditionCheckFailure: 'ALL_OLD'` rather than from a second read.
 *
 * @example
 * ```ts
 * const table = new DynamoTable(new DynamoDBClient({}), process.env.TIERQ_TABLE ?? 'tierq');
 * const { Item } = await table.call('task.get', (c) => c.send(new GetCommand({ TableName: table.tableName, Key })));
 * ```
 */
export class DynamoTable {
  readonly client: DynamoDBDocumentClient;
  /** Requests sent so far, retries included: what the tests and metrics count. */
  requests = 0;

  constructor(
    client: DynamoClientLike,
    readonly tableName: string,
  ) {
    // `from` writes its options into the shared client config, so every store passes the same ones.
    this.client =
      client instanceof DynamoDBDocumentClient
        ? client
        : DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** Sends one request; any SDK failure becomes a {@link StoreError} naming `operation`. */
  async call<T>(operation: string, send: (client: DynamoDBDocumentClient) => Promise<T>): Promise<T> {
    this.requests += 1;
    try {
      return await send(this.client);
    } catch (error) {
      throw new StoreError({ operation }, { cause: error });
    }
  }

  /** Sends one conditional write; a failed condition yields the old item instead of an error. */
  async conditional<T>(
    operation: string,
    send: (client: DynamoDBDocumentClient) => Promise<T>,
  ): Promise<ConditionalResult<T>> {
    this.requests += 1;
    try {
      return { ok: true, output: await send(this.client) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw new StoreError({ operation }, { cause: error });
      // The document client does not unmarshall the item carried by the error.
      return { ok: false, old: error.Item === undefined ? undefined : unmarshall(error.Item) };
    }
  }
}

/** By name, not `instanceof`: a second copy of the SDK in a bundle has its own classes. */
function isConditionalCheckFailed(
  error: unknown,
): error is Error & { Item?: Record<string, AttributeValue> | undefined } {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * Seconds since the epoch, the unit DynamoDB TTL attributes use.
 *
 * @example
 * ```ts
 * const expiresAt = epochSeconds(Date.now()) + 86_400;
 * ```
 */
export function epochSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1_000);
}
