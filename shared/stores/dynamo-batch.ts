/**
 * DynamoDB's batch operations in one place: chunking to their per-request limits, and sending
 * again whatever DynamoDB left unprocessed, with a short jittered backoff. Every store that reads
 * or writes many items at once goes through here.
 */
import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '../errors.js';
import type { DynamoTable, StoredItem } from './dynamo-table.js';

/** Keys per BatchGetItem request. */
export const BATCH_GET_LIMIT = 100;
/** Puts per BatchWriteItem request. */
export const BATCH_WRITE_LIMIT = 25;
/** Requests sent again for what DynamoDB left unprocessed, after the first. */
export const UNPROCESSED_RETRIES = 5;

/** The sleep before resend `attempt` (1-based): `10 × 2^attempt` ms, jittered by ±50 %. */
function backoffMs(attempt: number, random: number): number {
  return 10 * 2 ** attempt * (0.5 + random);
}

/**
 * The longest all the resends of one batch request may sleep in total (930 ms): part of what the
 * consumer keeps back from its deadline for its after-hooks.
 *
 * @example
 * const margin = UNPROCESSED_BACKOFF_MAX_MS + requests * budget;
 */
export const UNPROCESSED_BACKOFF_MAX_MS = Array.from({ length: UNPROCESSED_RETRIES }, (_, i) =>
  backoffMs(i + 1, 1),
).reduce((sum, ms) => sum + ms, 0);

/**
 * `items` in consecutive runs of at most `size`: DynamoDB's batch operations cap their keys.
 *
 * @example
 * chunksOf([1, 2, 3], 2); // [[1, 2], [3]]
 */
export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Sends `items`, then whatever DynamoDB left unprocessed, up to {@link UNPROCESSED_RETRIES} more
 * times. Returns what is still unprocessed, and the error that stopped it early if a request
 * failed (everything still pending then counts as unprocessed).
 */
async function drainUnprocessed<T>(
  items: T[],
  send: (pending: T[]) => Promise<T[]>,
): Promise<{ left: T[]; error?: unknown }> {
  let pending = items;
  for (let attempt = 0; pending.length > 0 && attempt <= UNPROCESSED_RETRIES; attempt += 1) {
    if (attempt > 0) await sleep(backoffMs(attempt, Math.random()));
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

/** What BatchGetItem reads besides the keys: a projection, read consistently. */
export interface BatchGetOptions {
  readonly projection: string;
  readonly names: Record<string, string>;
}

/**
 * Reads `keys` with BatchGetItem (consistent reads), chunked and drained; throws a
 * {@link StoreError} if a request fails or keys stay unprocessed.
 *
 * @example
 * const items = await batchGetItems(table, 'task.lookup', [{ pk: 'task#a', sk: 'echo' }], options);
 */
export async function batchGetItems(
  table: DynamoTable,
  operation: string,
  keys: readonly StoredItem[],
  options: BatchGetOptions,
): Promise<StoredItem[]> {
  const chunks = chunksOf(keys, BATCH_GET_LIMIT);
  return (await Promise.all(chunks.map((chunk) => batchGetChunk(table, operation, chunk, options)))).flat();
}

async function batchGetChunk(
  table: DynamoTable,
  operation: string,
  keys: StoredItem[],
  options: BatchGetOptions,
): Promise<StoredItem[]> {
  const items: StoredItem[] = [];
  const { left, error } = await drainUnprocessed(keys, async (pending) => {
    const request = {
      Keys: pending,
      ConsistentRead: true,
      ProjectionExpression: options.projection,
      ExpressionAttributeNames: options.names,
    };
    const output = await table.call(operation, (c) =>
      c.send(new BatchGetCommand({ RequestItems: { [table.tableName]: request } })),
    );
    items.push(...(output.Responses?.[table.tableName] ?? []));
    return output.UnprocessedKeys?.[table.tableName]?.Keys ?? [];
  });
  if (error !== undefined) throw error;
  if (left.length > 0) throw unprocessed(operation, left.length);
  return items;
}

/** An item a batch write left unwritten (as DynamoDB handed it back), and why. */
export interface Unwritten {
  readonly item: StoredItem;
  readonly error: StoreError;
}

/**
 * Puts whole items with BatchWriteItem, chunked and drained, all chunks at once. Never throws:
 * returns the items left unwritten, each with why.
 *
 * @example
 * const unwritten = await batchPutItems(table, 'task.completeMany', items);
 * for (const { item, error } of unwritten) logger.error('not stored', { pk: item.pk, error });
 */
export async function batchPutItems(
  table: DynamoTable,
  operation: string,
  items: readonly StoredItem[],
): Promise<Unwritten[]> {
  const chunks = chunksOf(items, BATCH_WRITE_LIMIT);
  return (await Promise.all(chunks.map((chunk) => batchPutChunk(table, operation, chunk)))).flat();
}

async function batchPutChunk(
  table: DynamoTable,
  operation: string,
  items: StoredItem[],
): Promise<Unwritten[]> {
  const { left, error } = await drainUnprocessed(
    items.map((Item) => ({ PutRequest: { Item } })),
    async (pending) => {
      const output = await table.call(operation, (c) =>
        c.send(new BatchWriteCommand({ RequestItems: { [table.tableName]: pending } })),
      );
      return (output.UnprocessedItems?.[table.tableName] ?? []) as typeof pending;
    },
  );
  if (left.length === 0) return [];
  const why = error instanceof StoreError ? error : unprocessed(operation, left.length);
  return left.map((put) => ({ item: put.PutRequest.Item, error: why }));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
