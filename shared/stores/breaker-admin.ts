/**
 * Circuit breakers as an operator works them (`tierq status`, `tierq breaker list|open|close`):
 * apart from the consumer's store, so the consumer's bundle carries no Query and its role needs
 * none.
 */
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { breakerFromItem, breakerKey, FOREVER, type StoredBreaker } from '../breaker.js';
import { KeyPrefix } from '../declaration.js';
import { type DynamoClientLike, DynamoTable } from './dynamo-table.js';

/** Where the breakers are: a DynamoDB client and the stack's table. */
export interface BreakerTable {
  readonly client: DynamoClientLike;
  readonly tableName: string;
}

/**
 * Every stored breaker, by name: one Query of the `breaker#` partition (paged). A breaker no
 * task has failed yet is not stored (it is closed).
 *
 * @example
 * for (const b of await listBreakers({ client, tableName })) console.log(b.name, breakerStateOf(b, Date.now()));
 */
export async function listBreakers(where: BreakerTable): Promise<StoredBreaker[]> {
  const table = new DynamoTable(where.client, where.tableName);
  const out: StoredBreaker[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.call('breaker.list', (c) =>
      c.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': KeyPrefix.breaker },
          ConsistentRead: true,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      ),
    );
    for (const item of page.Items ?? []) out.push(breakerFromItem(item));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * An operator's override. `open` holds the breaker open until `untilMs` (default: until closed);
 * no probe goes out before. `closed` closes it with a fresh window and the base reset time.
 * Either replaces a probe in flight: its settle then finds the claim no longer its own.
 *
 * @example
 * await forceBreaker({ client, tableName }, 'payments', 'open', { by: 'alice', untilMs: Date.now() + 600_000 });
 */
export async function forceBreaker(
  where: BreakerTable,
  name: string,
  state: 'open' | 'closed',
  options: { readonly by: string; readonly nowMs?: number; readonly untilMs?: number },
): Promise<void> {
  const table = new DynamoTable(where.client, where.tableName);
  const nowMs = options.nowMs ?? Date.now();
  const update =
    state === 'open'
      ? {
          UpdateExpression:
            'SET openUntil = :until, openedAt = :now, updatedAt = :now, forcedBy = :by, ' +
            'failures = if_not_exists(failures, :zero), windowStart = if_not_exists(windowStart, :now), ' +
            'opens = if_not_exists(opens, :zero) + :one REMOVE probeUntil, probeOwner',
          ExpressionAttributeValues: {
            ':until': options.untilMs ?? FOREVER,
            ':now': nowMs,
            ':by': options.by,
            ':zero': 0,
            ':one': 1,
          },
        }
      : {
          UpdateExpression:
            'SET openUntil = :zero, failures = :zero, windowStart = :now, updatedAt = :now, forcedBy = :by ' +
            'REMOVE probeUntil, probeOwner, resetMs',
          ExpressionAttributeValues: { ':zero': 0, ':now': nowMs, ':by': options.by },
        };
  await table.call('breaker.force', (c) =>
    c.send(new UpdateCommand({ TableName: table.tableName, Key: breakerKey(name), ...update })),
  );
}
