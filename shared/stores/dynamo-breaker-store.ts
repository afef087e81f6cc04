/**
 * Circuit breaker state in the table (`pk = breaker#`, `sk = <name>`), shared by every consumer.
 * Every transition is one UpdateItem conditional on the state it starts from, so concurrent
 * consumers never lose each other's updates: failures are added, not overwritten; only one of
 * them opens a breaker; only one claims the half-open probe; only the prober settles it.
 */
import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Breaker, breakerFromItem, breakerKey, nextResetMs, type StoredBreaker } from '../breaker.js';
import { StoreError } from '../errors.js';
import { type DynamoClientLike, DynamoTable } from './dynamo-table.js';

/** What counting a batch's failures did. */
export type FailureCount =
  /** Counted; the breaker stays closed. */
  | { readonly kind: 'counted'; readonly failures: number }
  /** Counted, and this write opened the breaker until `openUntil`. */
  | { readonly kind: 'opened'; readonly failures: number; readonly openUntil: number }
  /** Not counted: the breaker is already open or half-open (failures of runs in flight). */
  | { readonly kind: 'not-closed' };

/** Longest the lost-condition loop of {@link DynamoBreakerStore.recordFailures} goes on. */
const MAX_WRITES = 4;

/**
 * The table side of circuit breakers.
 *
 * @example
 * const store = new DynamoBreakerStore(new DynamoDBClient({}), process.env.TIERQ_TABLE ?? 'tierq');
 * const states = await store.read(['payments']);
 */
export class DynamoBreakerStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoClientLike, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  /** DynamoDB requests sent so far. */
  get requests(): number {
    return this.table.requests;
  }

  /**
   * The stored state of each named breaker, in one consistent BatchGetItem (up to 100 names);
   * a breaker never stored is absent (closed). Keys DynamoDB leaves unprocessed are asked once
   * more; still unprocessed, it throws — the caller fails its records, and SQS redelivers them.
   */
  async read(names: readonly string[]): Promise<Map<string, StoredBreaker>> {
    const found = new Map<string, StoredBreaker>();
    if (names.length === 0) return found;
    let keys: Record<string, unknown>[] = names.map(breakerKey);
    for (let round = 0; round < 2 && keys.length > 0; round += 1) {
      const output = await this.table.call('breaker.read', (c) =>
        c.send(
          new BatchGetCommand({
            RequestItems: { [this.table.tableName]: { Keys: keys, ConsistentRead: true } },
          }),
        ),
      );
      for (const item of output.Responses?.[this.table.tableName] ?? []) {
        const stored = breakerFromItem(item);
        found.set(stored.name, stored);
      }
      keys = output.UnprocessedKeys?.[this.table.tableName]?.Keys ?? [];
    }
    if (keys.length > 0) {
      throw new StoreError(
        { operation: 'breaker.read' },
        { cause: new Error(`${keys.length} breaker keys left unprocessed twice`) },
      );
    }
    return found;
  }

  /**
   * Adds `count` failures to a closed breaker's window (starting a new window when the last one
   * has passed) and opens it when they reach the threshold. Failures reported while it is open
   * or half-open are not counted: they are runs that started before it opened.
   */
  async recordFailures(
    breaker: Breaker,
    count: number,
    nowMs: number,
    lastError: string,
  ): Promise<FailureCount> {
    const cutoff = nowMs - breaker.windowMs;
    // Both writes add these failures: to the current window, or to a new one.
    const values = { ':n': count, ':error': lastError, ':now': nowMs, ':zero': 0, ':cutoff': cutoff };
    for (let writes = 0; writes < MAX_WRITES; writes += 1) {
      // In the current window: add to it.
      const added = await this.table.conditional('breaker.count', (c) =>
        c.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: breakerKey(breaker.name),
            UpdateExpression: 'SET failures = failures + :n, lastError = :error, updatedAt = :now',
            ConditionExpression: 'openUntil = :zero AND windowStart >= :cutoff',
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      let failures: number | undefined;
      if (added.ok) {
        failures = Number(added.output.Attributes?.failures);
      } else if (added.old !== undefined && Number(added.old.openUntil) > 0) {
        return { kind: 'not-closed' };
      } else {
        // None stored, or its window passed: start a new one with these failures.
        const started = await this.table.conditional('breaker.window', (c) =>
          c.send(
            new UpdateCommand({
              TableName: this.table.tableName,
              Key: breakerKey(breaker.name),
              UpdateExpression:
                'SET failures = :n, windowStart = :now, openUntil = :zero, lastError = :error, updatedAt = :now',
              ConditionExpression:
                'attribute_not_exists(pk) OR (openUntil = :zero AND windowStart < :cutoff)',
              ExpressionAttributeValues: values,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
        if (!started.ok) continue; // Another consumer started it or opened it: look again.
        failures = count;
      }
      if (failures < breaker.failureThreshold) return { kind: 'counted', failures };
      const openUntil = nowMs + breaker.resetTimeoutMs;
      const opened = await this.table.conditional('breaker.open', (c) =>
        c.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: breakerKey(breaker.name),
            UpdateExpression:
              'SET openUntil = :until, resetMs = :reset, openedAt = :now, updatedAt = :now, ' +
              'opens = if_not_exists(opens, :zero) + :one REMOVE probeUntil, probeOwner, forcedBy',
            // Only the consumer that sees it closed with the threshold reached opens it.
            ConditionExpression: 'openUntil = :zero AND failures >= :threshold',
            ExpressionAttributeValues: {
              ':until': openUntil,
              ':reset': breaker.resetTimeoutMs,
              ':now': nowMs,
              ':zero': 0,
              ':one': 1,
              ':threshold': breaker.failureThreshold,
            },
          }),
        ),
      );
      return opened.ok ? { kind: 'opened', failures, openUntil } : { kind: 'not-closed' };
    }
    return { kind: 'not-closed' };
  }

  /**
   * Claims the half-open breaker's one probe until `leaseUntil`, if it is still the opening the
   * caller read (`openUntil`) and no live probe holds it. True for exactly one claimant.
   */
  async claimProbe(name: string, seenOpenUntil: number, nowMs: number, leaseUntil: number, owner: string) {
    const claimed = await this.table.conditional('breaker.probe', (c) =>
      c.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: breakerKey(name),
          UpdateExpression: 'SET probeUntil = :lease, probeOwner = :owner, updatedAt = :now',
          ConditionExpression:
            'openUntil = :seen AND openUntil <= :now AND (attribute_not_exists(probeUntil) OR probeUntil <= :now)',
          ExpressionAttributeValues: {
            ':lease': leaseUntil,
            ':owner': owner,
            ':now': nowMs,
            ':seen': seenOpenUntil,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    // An SDK retry of a claim whose first response was lost finds the claim already its own.
    return claimed.ok || claimed.old?.probeOwner === owner;
  }

  /**
   * Settles the probe `owner` holds: success closes the breaker (a fresh window, the base reset
   * time); failure opens it again for twice the last time (capped). False when the probe was not
   * this owner's any more (its lease passed and another took it, or an operator forced a state).
   */
  async settleProbe(
    breaker: Breaker,
    stored: StoredBreaker | undefined,
    owner: string,
    ok: boolean,
    nowMs: number,
  ) {
    const resetMs = nextResetMs(breaker, stored);
    const update = ok
      ? {
          UpdateExpression:
            'SET openUntil = :zero, failures = :zero, windowStart = :now, resetMs = :base, updatedAt = :now ' +
            'REMOVE probeUntil, probeOwner, forcedBy',
          ExpressionAttributeValues: {
            ':zero': 0,
            ':now': nowMs,
            ':base': breaker.resetTimeoutMs,
            ':owner': owner,
          },
        }
      : {
          UpdateExpression:
            // openedAt stays: it is when the outage began, which the open-age alarm measures from.
            'SET openUntil = :until, resetMs = :reset, updatedAt = :now, ' +
            'opens = if_not_exists(opens, :zero) + :one REMOVE probeUntil, probeOwner, forcedBy',
          ExpressionAttributeValues: {
            ':until': nowMs + resetMs,
            ':reset': resetMs,
            ':now': nowMs,
            ':zero': 0,
            ':one': 1,
            ':owner': owner,
          },
        };
    const settled = await this.table.conditional('breaker.settle', (c) =>
      c.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: breakerKey(breaker.name),
          ConditionExpression: 'probeOwner = :owner',
          ...update,
        }),
      ),
    );
    return settled.ok;
  }

  /** Gives a probe claim back unused (its record did not run), so another may probe at once. */
  async releaseProbe(name: string, owner: string): Promise<boolean> {
    const released = await this.table.conditional('breaker.release', (c) =>
      c.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: breakerKey(name),
          UpdateExpression: 'REMOVE probeUntil, probeOwner',
          ConditionExpression: 'probeOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      ),
    );
    return released.ok;
  }
}
