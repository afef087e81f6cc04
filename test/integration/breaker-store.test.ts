import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { BreakerState, breakerStateOf, defineBreaker, FOREVER } from '../../shared/breaker.js';
import { forceBreaker, listBreakers } from '../../shared/stores/breaker-admin.js';
import { DynamoBreakerStore } from '../../shared/stores/dynamo-breaker-store.js';
import { DynamoRateLimiter } from '../../shared/stores/dynamo-rate-limiter.js';
import { createTestTable, dynamoClient } from '../helpers/aws.js';

let tableName: string;
beforeAll(async () => {
  tableName = await createTestTable('breakers');
});

/** A consumer's own store: its own client, as separate Lambda environments have. */
const consumer = () => new DynamoBreakerStore(dynamoClient(), tableName);
const breaker = (options: { failureThreshold?: number; resetTimeoutMs?: number; windowMs?: number } = {}) =>
  defineBreaker({
    name: `payments-${randomUUID()}`,
    resetTimeoutMs: 10_000,
    maxResetTimeoutMs: 35_000,
    ...options,
  });
const T = 1_800_000_000_000;

async function stateOf(name: string, nowMs: number) {
  const stored = (await consumer().read([name])).get(name);
  return { state: breakerStateOf(stored, nowMs), stored };
}

describe('DynamoBreakerStore', () => {
  it('opens at the threshold within the window, and not on failures spread wider', async () => {
    const b = breaker({ failureThreshold: 5, windowMs: 1_000 });
    const store = consumer();
    // Four failures, then a fifth after the window: a new window with one.
    expect(await store.recordFailures(b, 4, T, 'down')).toEqual({ kind: 'counted', failures: 4 });
    expect(await store.recordFailures(b, 1, T + 1_500, 'down')).toEqual({ kind: 'counted', failures: 1 });
    expect((await stateOf(b.name, T + 1_500)).state).toBe(BreakerState.closed);

    expect(await store.recordFailures(b, 3, T + 1_600, 'down')).toEqual({ kind: 'counted', failures: 4 });
    const opened = await store.recordFailures(b, 1, T + 1_700, 'HTTP 503');
    expect(opened).toEqual({ kind: 'opened', failures: 5, openUntil: T + 1_700 + 10_000 });

    const { state, stored } = await stateOf(b.name, T + 2_000);
    expect(state).toBe(BreakerState.open);
    expect(stored).toMatchObject({ failures: 5, opens: 1, lastError: 'HTTP 503', resetMs: 10_000 });
    // Failures of runs still in flight when it opened are not counted, and do not extend it.
    expect(await store.recordFailures(b, 3, T + 2_100, 'down')).toEqual({ kind: 'not-closed' });
    expect((await stateOf(b.name, T + 2_100)).stored?.openUntil).toBe(T + 11_700);
  });

  it('adds concurrent failures without losing any, and exactly one consumer opens it', async () => {
    const b = breaker({ failureThreshold: 20, windowMs: 60_000 });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => consumer().recordFailures(b, 1, T + i, 'down')),
    );
    const opened = results.filter((r) => r.kind === 'opened');
    const counted = results.filter((r) => r.kind === 'counted');
    expect(opened).toHaveLength(1);
    // Every failure before the opening one was counted exactly once.
    expect(counted.map((r) => (r.kind === 'counted' ? r.failures : 0)).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 19 }, (_, i) => i + 1),
    );
    expect(results.filter((r) => r.kind === 'not-closed')).toHaveLength(10);
  });

  it('lets exactly one of 20 concurrent consumers probe a half-open breaker, 50 times over', async () => {
    const b = breaker({ failureThreshold: 1 });
    const store = consumer();
    let now = T;
    for (let round = 0; round < 50; round += 1) {
      if (round === 0) {
        expect((await store.recordFailures(b, 1, now, 'down')).kind).toBe('opened');
      }
      const open = (await stateOf(b.name, now)).stored;
      if (!open) throw new Error('the breaker was not stored');
      // Past its opening: half-open for everyone.
      now = open.openUntil + 1;
      expect(breakerStateOf(open, now)).toBe(BreakerState.halfOpen);
      const claims = await Promise.all(
        Array.from({ length: 20 }, () =>
          consumer().claimProbe(b.name, open.openUntil, now, now + 30_000, randomUUID()),
        ),
      );
      expect(claims.filter(Boolean), `round ${round}`).toHaveLength(1);
      // The probe fails (the downstream is still down): open again, for twice as long, capped.
      const after = (await stateOf(b.name, now)).stored;
      const owner = after?.probeOwner ?? '';
      expect(await store.settleProbe(b, after, owner, false, now)).toBe(true);
      const reopened = (await stateOf(b.name, now)).stored;
      expect(reopened?.resetMs).toBe(Math.min(35_000, 10_000 * 2 ** (round + 1)));
      expect(reopened?.openUntil).toBe(now + (reopened?.resetMs ?? 0));
    }
  });

  it('closes on a successful probe with a fresh window, and ignores a probe settled by a stale owner', async () => {
    const b = breaker({ failureThreshold: 2 });
    const store = consumer();
    await store.recordFailures(b, 2, T, 'down');
    const open = (await stateOf(b.name, T)).stored;
    if (!open) throw new Error('not stored');
    const now = open.openUntil + 1;
    expect(await store.claimProbe(b.name, open.openUntil, now, now + 1_000, 'first')).toBe(true);
    // Its lease passes (a crashed prober): another claims it.
    expect(await store.claimProbe(b.name, open.openUntil, now + 500, now + 2_000, 'second')).toBe(false);
    expect(await store.claimProbe(b.name, open.openUntil, now + 1_001, now + 5_000, 'second')).toBe(true);
    expect(await store.settleProbe(b, open, 'first', true, now + 1_100)).toBe(false);
    expect(await store.settleProbe(b, open, 'second', true, now + 1_200)).toBe(true);

    const { state, stored } = await stateOf(b.name, now + 1_300);
    expect(state).toBe(BreakerState.closed);
    expect(stored).toMatchObject({ failures: 0, windowStart: now + 1_200, resetMs: 10_000 });
    expect(stored?.probeOwner).toBeUndefined();
    // Counting starts again from zero.
    expect(await store.recordFailures(b, 1, now + 1_400, 'down')).toEqual({ kind: 'counted', failures: 1 });
  });

  it('gives an unused probe back, so another consumer may probe at once', async () => {
    const b = breaker({ failureThreshold: 1 });
    const store = consumer();
    await store.recordFailures(b, 1, T, 'down');
    const open = (await stateOf(b.name, T)).stored;
    if (!open) throw new Error('not stored');
    const now = open.openUntil;
    expect(await store.claimProbe(b.name, open.openUntil, now, now + 60_000, 'a')).toBe(true);
    expect(await store.releaseProbe(b.name, 'a')).toBe(true);
    expect(await consumer().claimProbe(b.name, open.openUntil, now, now + 60_000, 'b')).toBe(true);
  });

  it('lets an operator force it open until closed, then close it, and lists it', async () => {
    const b = breaker();
    const store = consumer();
    const where = { client: dynamoClient(), tableName };
    await forceBreaker(where, b.name, 'open', { by: 'alice', nowMs: T });
    let listed = (await listBreakers(where)).find((x) => x.name === b.name);
    expect(listed).toMatchObject({ openUntil: FOREVER, forcedBy: 'alice' });
    expect(breakerStateOf(listed, T + 365 * 86_400_000)).toBe(BreakerState.open);
    // No probe while forced open.
    expect(await store.claimProbe(b.name, FOREVER, T + 1, T + 2, 'x')).toBe(false);

    await forceBreaker(where, b.name, 'closed', { by: 'bob', nowMs: T + 10 });
    listed = (await listBreakers(where)).find((x) => x.name === b.name);
    expect(breakerStateOf(listed, T + 10)).toBe(BreakerState.closed);
    expect(listed).toMatchObject({ failures: 0, forcedBy: 'bob' });
  });
});

describe('DynamoRateLimiter.holdOff', () => {
  it('empties the bucket until the time the downstream asked for', async () => {
    const limiter = new DynamoRateLimiter(dynamoClient(), tableName);
    const other = new DynamoRateLimiter(dynamoClient(), tableName);
    const name = `api-${randomUUID()}`;
    const limit = { perSecond: 10, burst: 10 };
    expect((await limiter.acquire(name, limit, 1, T)).granted).toBe(1);

    await limiter.holdOff(name, limit, T + 30_000, T);

    // Another consumer, which never saw the bucket, is told to wait out the 30 s.
    const held = await other.acquire(name, limit, 5, T + 1_000);
    expect(held.granted).toBe(0);
    expect(held.retryAfterMs).toBeGreaterThanOrEqual(29_000);
    const later = await other.acquire(name, limit, 5, T + 31_000);
    expect(later.granted).toBe(5);
  });
});
