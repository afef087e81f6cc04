/**
 * Per-tenant concurrency leases on DynamoDB: one item per task and tenant holding its live
 * leases, taken with one conditional write per task and tenant per batch.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { KeyPrefix, TableSchema } from '../declaration.js';
import { type DynamoClientLike, DynamoTable, epochSeconds, type StoredItem } from './dynamo-table.js';
import type { LeaseGrant, LeaseKey, TenantLeases } from './tenant-leases.js';

/** The item as last seen: lease id → expiry (epoch ms), and the revision that guards the next write. */
type Cached = { leases: Record<string, number>; rev: string };

const MAX_WRITES = 8;
/** How long an item outlives its last lease before DynamoDB's TTL may delete it. */
const IDLE_TTL_SECONDS = 3_600;
/** Expired leases pruned per write at most, to keep the expression small. */
const MAX_PRUNED = 50;

/**
 * {@link TenantLeases} on DynamoDB (`pk = lease#<task>#<tenant>`, `sk = leases`): a map of lease
 * id → expiry (epoch ms) and a random revision `rev`. Optimistic, like the rate limiter: it
 * remembers the item it last saw per key, counts the live leases locally, and adds its own with
 * one `UpdateItem` conditioned on the revision it saw — so two consumers can never both fill the
 * last slot. Expired leases (a crashed invocation's) do not count and are pruned by the next write.
 *
 * - A failed condition returns the current item (`ALL_OLD`): recomputed and written again at
 *   once; after 8 lost writes in a row the grant is empty and `contended`.
 * - When the remembered item has no room, it is re-read once (consistent `GetItem`) before
 *   answering, since releases do not change the revision and the cache may be behind them.
 * - A release removes its ids with one unconditional `UpdateItem` per key (only if the item
 *   exists), keeping the revision: an acquirer whose view still counts a released lease
 *   under-grants, never over-grants, and its write does not bring the lease back.
 * - A random revision rather than a counter: an item deleted by TTL and created anew cannot
 *   match a revision some consumer still remembers.
 *
 * @example
 * ```ts
 * const leases = new DynamoTenantLeases(new DynamoDBClient({}), tableName);
 * const { granted } = await leases.acquire({ task: 'sync', tenant: 'acme' }, 2, ['a', 'b', 'c'], Date.now() + 35_000);
 * ```
 */
export class DynamoTenantLeases implements TenantLeases {
  private readonly table: DynamoTable;
  private readonly cache = new Map<string, Cached>();

  constructor(client: DynamoClientLike, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  /** DynamoDB requests sent so far (writes, conflicts, re-reads, releases). */
  get requests(): number {
    return this.table.requests;
  }

  async acquire(
    key: LeaseKey,
    limit: number,
    ids: readonly string[],
    expiresAtMs: number,
    nowMs = Date.now(),
  ): Promise<LeaseGrant> {
    const pk = pkOf(key);
    if (ids.length === 0) return { granted: [] };
    let seen = this.cache.get(pk);
    let fresh = false;
    for (let writes = 0; writes < MAX_WRITES; ) {
      const live = seen === undefined ? [] : Object.values(seen.leases).filter((at) => at > nowMs);
      const room = Math.max(0, limit - live.length);
      if (room === 0) {
        if (fresh) return { granted: [] };
        seen = await this.read(pk);
        fresh = true;
        continue;
      }
      const granted = ids.slice(0, room);
      writes += 1;
      const written = await this.write(pk, seen, granted, expiresAtMs, nowMs);
      if (written.ok) return { granted };
      seen = written.current;
      fresh = true;
    }
    return { granted: [], contended: true };
  }

  async release(key: LeaseKey, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const pk = pkOf(key);
    const names = Object.fromEntries(ids.map((id, i) => [`#l${i}`, id]));
    await this.table.conditional('tenant-lease.release', (c) =>
      c.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk, sk: SORT_KEY },
          UpdateExpression: `REMOVE ${ids.map((_, i) => `leases.#l${i}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
        }),
      ),
    );
    const cached = this.cache.get(pk);
    if (cached !== undefined) for (const id of ids) delete cached.leases[id];
  }

  /** Consistent read of the stored item; `undefined` when there is none. */
  private async read(pk: string): Promise<Cached | undefined> {
    const { Item } = await this.table.call('tenant-lease.read', (c) =>
      c.send(
        new GetCommand({ TableName: this.table.tableName, Key: { pk, sk: SORT_KEY }, ConsistentRead: true }),
      ),
    );
    return this.remember(pk, Item);
  }

  private async write(
    pk: string,
    seen: Cached | undefined,
    granted: readonly string[],
    expiresAtMs: number,
    nowMs: number,
  ): Promise<{ ok: true } | { ok: false; current: Cached | undefined }> {
    const rev = randomUUID();
    const live = Object.entries(seen?.leases ?? {}).filter(([, at]) => at > nowMs);
    const expired = Object.entries(seen?.leases ?? {})
      .filter(([, at]) => at <= nowMs)
      .slice(0, MAX_PRUNED)
      .map(([id]) => id);
    const latest = Math.max(expiresAtMs, ...live.map(([, at]) => at));
    const ttl = epochSeconds(latest) + IDLE_TTL_SECONDS;
    const names: Record<string, string> = { '#ttl': TableSchema.ttlAttribute };
    const values: Record<string, unknown> = { ':rev': rev, ':ttl': ttl };
    let update: string;
    let condition: string;
    if (seen === undefined) {
      // A missing item has no leases, whether never created or deleted by TTL.
      values[':leases'] = Object.fromEntries(granted.map((id) => [id, expiresAtMs]));
      update = 'SET leases = :leases, rev = :rev, #ttl = :ttl';
      condition = 'attribute_not_exists(pk)';
    } else {
      const sets = granted.map((id, i) => {
        names[`#g${i}`] = id;
        return `leases.#g${i} = :at`;
      });
      const removes = expired.map((id, i) => {
        names[`#x${i}`] = id;
        return `leases.#x${i}`;
      });
      values[':at'] = expiresAtMs;
      values[':seen'] = seen.rev;
      update = `SET ${[...sets, 'rev = :rev', '#ttl = :ttl'].join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`;
      condition = 'rev = :seen';
    }
    const written = await this.table.conditional('tenant-lease.acquire', (c) =>
      c.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk, sk: SORT_KEY },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    if (written.ok) {
      const leases = Object.fromEntries(live);
      for (const id of granted) leases[id] = expiresAtMs;
      this.cache.set(pk, { leases, rev });
      return { ok: true };
    }
    return { ok: false, current: this.remember(pk, written.old) };
  }

  private remember(pk: string, item: StoredItem | undefined): Cached | undefined {
    if (item === undefined || typeof item.rev !== 'string') {
      this.cache.delete(pk);
      return undefined;
    }
    const stored = (item.leases ?? {}) as Record<string, unknown>;
    const leases = Object.fromEntries(Object.entries(stored).map(([id, at]) => [id, Number(at)]));
    const cached = { leases, rev: item.rev };
    this.cache.set(pk, cached);
    return cached;
  }
}

const SORT_KEY = 'leases';

/**
 * The partition key of a task's leases for a tenant: `lease#<task>#<tenant>` (neither contains `#`).
 *
 * @example
 * ```ts
 * leasePartitionKey({ task: 'sync', tenant: 'acme' }); // 'lease#sync#acme'
 * ```
 */
export function leasePartitionKey(key: LeaseKey): string {
  return `${KeyPrefix.tenantLease}${key.task}#${key.tenant}`;
}
const pkOf = leasePartitionKey;
