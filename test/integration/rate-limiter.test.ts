import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../shared/errors.js';
import { DynamoRateLimiter } from '../../shared/stores/dynamo-rate-limiter.js';
import type { RateLimit } from '../../shared/token-bucket.js';
import { createTestTable, dynamoClient } from '../helpers/aws.js';

let tableName: string;
beforeAll(async () => {
  tableName = await createTestTable('rate-limiter');
});

/** A new consumer: its own limiter, so its own cache of the bucket. */
const consumer = () => new DynamoRateLimiter(dynamoClient(), tableName);
const taskName = () => `call-api-${randomUUID()}`;
const T = 1_700_000_000_000;

describe('DynamoRateLimiter', () => {
  it('grants a fresh bucket its whole burst, then asks the caller to wait', async () => {
    const limiter = consumer();
    const name = taskName();
    const limit: RateLimit = { perSecond: 4, burst: 10 };

    const first = await limiter.acquire(name, limit, 15, T);
    const denied = await limiter.acquire(name, limit, 1, T);

    expect(first.granted).toBe(10);
    expect(first.retryAfterMs).toBe(250);
    expect(denied).toEqual({ granted: 0, retryAfterMs: 250 });
    // One conditional write, then one consistent read instead of a write for the denial.
    expect(limiter.requests).toBe(2);
  });

  it('makes one write per acquire in steady state, however many tokens it takes', async () => {
    const limiter = consumer();
    const name = taskName();
    const limit: RateLimit = { perSecond: 50, burst: 100 };

    const grants = [];
    for (let i = 0; i < 10; i += 1) grants.push(await limiter.acquire(name, limit, 8, T + i * 100));

    expect(grants.every((g) => g.granted === 8 && g.retryAfterMs === 0)).toBe(true);
    expect(limiter.requests).toBe(10);
  });

  it('resolves a write conflict from the returned item and still writes only once more', async () => {
    const a = consumer();
    const b = consumer();
    const name = taskName();
    const limit: RateLimit = { perSecond: 1, burst: 10 };
    await a.acquire(name, limit, 1, T);
    await b.acquire(name, limit, 1, T); // b's first write conflicts with the bucket a created

    const requestsBefore = a.requests;
    const stale = await a.acquire(name, limit, 1, T); // a's cache is one write behind

    expect(b.requests).toBe(2);
    expect(stale.granted).toBe(1);
    expect(a.requests - requestsBefore).toBe(2);
  });

  it('never lets stale caches spend the same tokens twice within one millisecond', async () => {
    const consumers = [consumer(), consumer()];
    const name = taskName();
    const limit: RateLimit = { perSecond: 1, burst: 5 };

    let granted = 0;
    for (let i = 0; i < 12; i += 1)
      granted += (await consumers[i % 2]?.acquire(name, limit, 1, T))?.granted ?? 0;

    expect(granted).toBe(5);
  });

  it('earns nothing for a consumer whose clock runs behind', async () => {
    const ahead = consumer();
    const behind = consumer();
    const name = taskName();
    const limit: RateLimit = { perSecond: 2, burst: 4 };
    await ahead.acquire(name, limit, 4, T);

    const lagging = await behind.acquire(name, limit, 4, T - 5_000);
    const caughtUp = await behind.acquire(name, limit, 4, T + 1_000);

    expect(lagging.granted).toBe(0);
    expect(lagging.retryAfterMs).toBeGreaterThan(0);
    expect(caughtUp.granted).toBe(2);
  });

  it('never grants more than burst + rate × elapsed to two consumers hammering one bucket', async () => {
    const name = taskName();
    const limit: RateLimit = { perSecond: 20, burst: 10 };
    const started = Date.now();
    const deadline = started + 2_000;
    let firstNow = Number.POSITIVE_INFINITY;
    let lastNow = 0;

    const hammer = async (limiter: DynamoRateLimiter) => {
      const tally = { granted: 0, calls: 0, contentionErrors: 0 };
      for (let i = 0; Date.now() < deadline; i += 1) {
        const requested = 1 + (i % 3);
        const nowMs = Date.now();
        firstNow = Math.min(firstNow, nowMs);
        lastNow = Math.max(lastNow, nowMs);
        tally.calls += 1;
        // Losing 8 races in a row is a StoreError by design (SQS would redeliver): count it.
        const grant = await limiter.acquire(name, limit, requested, nowMs).catch((error: unknown) => {
          if (!(error instanceof StoreError)) throw error;
          tally.contentionErrors += 1;
          return { granted: 0, retryAfterMs: 1 };
        });
        tally.granted += grant.granted;
        if (grant.granted < requested) {
          expect(grant.retryAfterMs).toBeGreaterThan(0);
          await new Promise((resolve) => setTimeout(resolve, Math.min(grant.retryAfterMs, 25)));
        }
      }
      return { ...tally, requests: limiter.requests };
    };
    const tallies = await Promise.all([consumer(), consumer()].map(hammer));

    const total = tallies.reduce((sum, t) => sum + t.granted, 0);
    const bound = limit.burst + (limit.perSecond * (lastNow - firstNow)) / 1_000;
    console.info('two consumers on one bucket for 2 s', { total, bound, tallies });
    expect(total).toBeLessThanOrEqual(bound);
    expect(total).toBeGreaterThan(bound - limit.perSecond); // and they did not starve each other
    expect(tallies.every((t) => t.granted > 0)).toBe(true);
  });
});
