/**
 * The distributed token bucket on DynamoDB: one conditional write per task name per batch.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { KeyPrefix, TableSchema } from '../declaration.js';
import { RateLimitedError } from '../errors.js';
import { type BucketState, type RateLimit, tryTake } from '../token-bucket.js';
import { type DynamoClientLike, DynamoTable, epochSeconds, type StoredItem } from './dynamo-table.js';
import type { RateLimiter, RateLimitGrant } from './rate-limiter.js';

/** A stored bucket and the version that guards its next write. */
type Cached = { state: BucketState; version: number };

const MAX_WRITES = 8;
/** How long records wait, jittered ±50 %, when the bucket is too contended to take from. */
const CONTENDED_RETRY_MS = 500;
const IDLE_TTL_SECONDS = 86_400;

/**
 * {@link RateLimiter} on DynamoDB (`pk = ratelimit#<task>`, `sk = bucket`). Optimistic: it
 * remembers the last bucket it saw per task, computes the new state locally with `tryTake`, and
 * writes it with one PutItem conditioned on the stored `version` being the one it saw. In the
 * common case that is one request per task per SQS batch, however many tokens it takes.
 *
 * - A failed condition returns the current item (`ALL_OLD`): the cache is refreshed and the
 *   take recomputed at once (the item is as fresh as it gets; waiting only ages it), with a
 *   jitter of a few ms from the third write. Every failed write means another consumer's write
 *   succeeded, so the consumers as a whole always progress; one that loses 8 times in a row
 *   gets a `RateLimitedError`, and its records are deferred for about half a second.
 * - When the remembered state grants nothing, the bucket is re-read once (consistent GetItem)
 *   instead of written: the cache may be behind a consumer whose clock runs ahead. Nothing is
 *   written for a grant of 0.
 * - The guard is a version counter, not `updatedAtMs`: a write in the same millisecond, or by
 *   a consumer whose clock lags, keeps the stored timestamp, so a timestamp check would let two
 *   consumers spend the same tokens. `tryTake` never moves a timestamp back, so a backward
 *   clock earns nothing.
 *
 * @example
 * ```ts
 * const limiter = new DynamoRateLimiter(new DynamoDBClient({}), process.env.TIERQ_TABLE ?? 'tierq');
 * const { granted, retryAfterMs } = await limiter.acquire('call-api', { perSecond: 5, burst: 10 }, 4);
 * ```
 */
export class DynamoRateLimiter implements RateLimiter {
  private readonly table: DynamoTable;
  private readonly cache = new Map<string, Cached>();

  constructor(client: DynamoClientLike, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  /** DynamoDB requests this limiter has sent (writes, conflicts and re-reads). */
  get requests(): number {
    return this.table.requests;
  }

  async acquire(
    taskName: string,
    limit: RateLimit,
    requested: number,
    nowMs = Date.now(),
  ): Promise<RateLimitGrant> {
    let cached = this.cache.get(taskName);
    let fresh = false;
    for (let writes = 0; writes < MAX_WRITES; ) {
      const take = tryTake(cached?.state, limit, requested, nowMs);
      if (take.granted === 0) {
        if (fresh || requested === 0) return { granted: 0, retryAfterMs: take.retryAfterMs };
        cached = await this.read(taskName);
        fresh = true;
        continue;
      }
      writes += 1;
      const written = await this.write(taskName, take.state, cached, nowMs);
      if (written.ok) return { granted: take.granted, retryAfterMs: take.retryAfterMs };
      cached = written.current;
      fresh = true;
      if (writes > 1) await sleep(Math.random() * writes);
    }
    // Every lost write was another consumer's successful take: the bucket is busy, not broken.
    throw new RateLimitedError({
      taskName,
      retryAfterMs: Math.ceil(CONTENDED_RETRY_MS * (0.5 + Math.random())),
      reason: `its bucket changed under ${MAX_WRITES} consecutive writes`,
    });
  }

  /**
   * Empties the bucket until `untilMs` (its refill starts then): one conditional write, repeated
   * with the fresh bucket when another consumer's write came first. A bucket already held as long
   * is left as it is.
   */
  async holdOff(taskName: string, limit: RateLimit, untilMs: number, nowMs = Date.now()): Promise<void> {
    let cached = this.cache.get(taskName);
    for (let writes = 0; writes < MAX_WRITES; writes += 1) {
      if (cached && cached.state.tokens < 1 && cached.state.updatedAtMs >= untilMs) return;
      const state = { tokens: 0, updatedAtMs: Math.max(untilMs, cached?.state.updatedAtMs ?? 0) };
      const written = await this.write(taskName, state, cached, nowMs);
      if (written.ok) return;
      cached = written.current;
    }
    throw new RateLimitedError({
      taskName,
      retryAfterMs: 0,
      reason: `could not hold its bucket: it changed under ${MAX_WRITES} consecutive writes (limit ${limit.perSecond}/s)`,
    });
  }

  /** Consistent read of the stored bucket; `undefined` (a full bucket) when there is none. */
  private async read(taskName: string): Promise<Cached | undefined> {
    const { Item } = await this.table.call('rate-limit.read', (c) =>
      c.send(new GetCommand({ TableName: this.table.tableName, Key: key(taskName), ConsistentRead: true })),
    );
    return this.remember(taskName, Item);
  }

  private async write(
    taskName: string,
    state: BucketState,
    seen: Cached | undefined,
    nowMs: number,
  ): Promise<{ ok: true } | { ok: false; current: Cached | undefined }> {
    const version = (seen?.version ?? 0) + 1;
    const item = {
      ...key(taskName),
      ...state,
      version,
      [TableSchema.ttlAttribute]: epochSeconds(nowMs) + IDLE_TTL_SECONDS,
    };
    // A missing item is a fresh (full) bucket: whether it was never created or deleted by TTL.
    const guard =
      seen === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: 'version = :version',
            ExpressionAttributeValues: { ':version': seen.version },
          };
    const written = await this.table.conditional('rate-limit.acquire', (c) =>
      c.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: item,
          ...guard,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    if (written.ok) {
      this.cache.set(taskName, { state, version });
      return { ok: true };
    }
    return { ok: false, current: this.remember(taskName, written.old) };
  }

  private remember(taskName: string, item: StoredItem | undefined): Cached | undefined {
    if (item === undefined) {
      this.cache.delete(taskName);
      return undefined;
    }
    const cached = {
      state: { tokens: Number(item.tokens), updatedAtMs: Number(item.updatedAtMs) },
      version: Number(item.version),
    };
    this.cache.set(taskName, cached);
    return cached;
  }
}

const key = (taskName: string) => ({ pk: `${KeyPrefix.rateLimit}${taskName}`, sk: 'bucket' });

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
