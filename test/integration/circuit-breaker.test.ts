import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BreakerState, breakerStateOf, defineBreaker } from '../../shared/breaker.js';
import { parseEnvelope } from '../../shared/contract.js';
import { BackPressureError, PermanentTaskError } from '../../shared/errors.js';
import { defineTask } from '../../shared/registry.js';
import { forceBreaker } from '../../shared/stores/breaker-admin.js';
import { DynamoBreakerStore } from '../../shared/stores/dynamo-breaker-store.js';
import { dynamoClient, waitFor } from '../helpers/aws.js';
import { type ConsumerHarness, consumerHarness } from '../helpers/consumer-harness.js';

/** A downstream that is down until told otherwise, and the attempts each call was made at. */
function downstream() {
  const calls: { n: number; attempt: number }[] = [];
  return {
    calls,
    up: false,
    call(n: number, attempt: number) {
      calls.push({ n, attempt });
      if (!this.up) throw new Error('HTTP 503 from payments');
      return { n };
    },
  };
}

/** Receives until `count` records of a tier have arrived in one event (or the wait runs out). */
async function receiveAll(h: ConsumerHarness, tier: string, count: number): Promise<SQSEvent> {
  const records: SQSEvent['Records'] = [];
  await waitFor(
    async () => {
      records.push(...(await h.receive(tier, 10, 1)).Records);
      return records.length >= count;
    },
    { timeoutMs: 20_000, intervalMs: 0, message: `${count} records on ${tier}` },
  );
  return { Records: records };
}

const breakerStore = (h: ConsumerHarness) => new DynamoBreakerStore(dynamoClient(), h.config.tableName);

describe('circuit breaker in the consumer', () => {
  it('opens at the threshold, then defers records without running them or spending attempts, probes once and closes', async () => {
    const payments = defineBreaker({ name: 'payments', failureThreshold: 3, resetTimeoutMs: 2_000 });
    const api = downstream();
    const charge = defineTask({
      name: 'charge',
      schema: z.object({ n: z.number() }),
      breaker: payments,
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 200 },
      handler: ({ n }, ctx) => api.call(n, ctx.attempt),
    });
    const h = await consumerHarness({ tasks: [charge] });

    // Three failures open it.
    for (const n of [1, 2, 3]) await h.send('normal', { task: 'charge', payload: { n } });
    await h.invoke(await receiveAll(h, 'normal', 3));
    expect(api.calls).toHaveLength(3);
    const opened = (await breakerStore(h).read(['payments'])).get('payments');
    expect(breakerStateOf(opened, Date.now())).toBe(BreakerState.open);

    // Open: new records and the retries of the failed ones wait, and nothing calls the downstream.
    for (const n of [4, 5, 6, 7]) await h.send('normal', { task: 'charge', payload: { n } });
    const whileOpen = await receiveAll(h, 'normal', 7);
    const response = await h.invoke(whileOpen);
    expect(response.batchItemFailures).toEqual([]);
    expect(api.calls).toHaveLength(3);
    // The copies continue the attempts where they were: none spent by the wait.
    const depth = await h.depth('normal');
    expect(depth.delayed + depth.visible).toBe(7);

    // The downstream recovers; after the reset timeout, one probe runs, then everything.
    api.up = true;
    await waitFor(
      async () => {
        const event = await h.receive('normal', 10, 1);
        if (event.Records.length > 0) await h.invoke(event);
        return api.calls.length >= 10;
      },
      { timeoutMs: 30_000, intervalMs: 0, message: 'every task to run after the breaker closed' },
    );
    const afterOpen = api.calls.slice(3);
    expect(afterOpen.map((c) => c.n).sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Tasks 4–7 never failed: their one run is attempt 1. Tasks 1–3 failed once: attempt 2.
    for (const c of afterOpen) expect(c.attempt, `task ${c.n}`).toBe(c.n <= 3 ? 2 : 1);
    expect(breakerStateOf((await breakerStore(h).read(['payments'])).get('payments'), Date.now())).toBe(
      BreakerState.closed,
    );
    expect(await h.deadLetters()).toEqual([]);
  }, 60_000);

  it('does not count a PermanentTaskError or back-pressure as a downstream failure', async () => {
    const payments = defineBreaker({ name: 'payments', failureThreshold: 1 });
    const task = defineTask({
      name: 'refund',
      schema: z.object({ kind: z.enum(['permanent', 'busy']) }),
      breaker: payments,
      handler: ({ kind }) => {
        if (kind === 'permanent') throw new PermanentTaskError('no such order');
        throw new BackPressureError({ retryAfterMs: 1_000, reason: 'HTTP 429' });
      },
    });
    const h = await consumerHarness({ tasks: [task] });
    await h.send('high', { task: 'refund', payload: { kind: 'permanent' } });
    await h.send('high', { task: 'refund', payload: { kind: 'busy' } });
    await h.invoke(await receiveAll(h, 'high', 2));
    expect((await breakerStore(h).read(['payments'])).get('payments')).toBeUndefined();
  });

  it('fails the records when the breaker state cannot be read, so SQS redelivers them', async () => {
    let runs = 0;
    const task = defineTask({
      name: 'guarded',
      schema: z.object({}),
      breaker: { name: 'flaky-store' },
      handler: () => {
        runs += 1;
      },
    });
    const h = await consumerHarness({
      tasks: [task],
      wrapBreakers: (store) => ({
        ...store,
        claimProbe: store.claimProbe.bind(store),
        recordFailures: store.recordFailures.bind(store),
        settleProbe: store.settleProbe.bind(store),
        releaseProbe: store.releaseProbe.bind(store),
        read: async () => {
          throw new Error('ProvisionedThroughputExceededException');
        },
      }),
    });
    await h.send('low', { task: 'guarded', payload: {} });
    const event = await receiveAll(h, 'low', 1);
    const response = await h.invoke(event);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([event.Records[0]?.messageId]);
    expect(runs).toBe(0);
  });
});

describe('the half-open probe', () => {
  it('waits with the others when it fails on its last attempt, instead of going to the DLQ', async () => {
    const api = downstream();
    const task = defineTask({
      name: 'last-chance',
      schema: z.object({ n: z.number() }),
      breaker: { name: 'fragile', failureThreshold: 1, resetTimeoutMs: 1_000 },
      retry: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 100 },
      handler: ({ n }, ctx) => api.call(n, ctx.attempt),
    });
    const h = await consumerHarness({ tasks: [task] });
    const id = await h.send('normal', { task: 'last-chance', payload: { n: 1 } });
    // Attempt 1 fails and opens the breaker; attempt 2, its last, is the probe, and fails too.
    await h.invoke(await receiveAll(h, 'normal', 1));
    await sleep(1_100);
    await h.invoke(await receiveAll(h, 'normal', 1));
    expect(api.calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(await h.deadLetters()).toEqual([]);
    const reopened = (await breakerStore(h).read(['fragile'])).get('fragile');
    expect(reopened).toMatchObject({ opens: 2, resetMs: 2_000 });

    // Back up: the next probe is the same task, still on its last attempt, and it succeeds.
    api.up = true;
    await waitFor(
      async () => {
        const event = await h.receive('normal', 10, 1);
        if (event.Records.length > 0) await h.invoke(event);
        return api.calls.length === 3;
      },
      { timeoutMs: 15_000, intervalMs: 0, message: 'the second probe' },
    );
    expect(api.calls[2]).toMatchObject({ attempt: 2 });
    expect(await h.taskState(id)).toMatchObject({ status: 'succeeded' });
    expect(await h.deadLetters()).toEqual([]);
  }, 30_000);

  it('settles as soon as its own run ends, while slower batch-mates still run', async () => {
    const store: { state?: string } = {};
    let readState: () => Promise<string> = async () => 'unread';
    const probe = defineTask({
      name: 'quick',
      schema: z.object({}),
      breaker: { name: 'settles-early', failureThreshold: 1, resetTimeoutMs: 60_000 },
      handler: () => 'ok',
    });
    const slow = defineTask({
      name: 'slow',
      schema: z.object({}),
      handler: async () => {
        await sleep(1_000);
        store.state = await readState();
      },
    });
    const h = await consumerHarness({ tasks: [probe, slow] });
    readState = async () =>
      breakerStateOf((await breakerStore(h).read(['settles-early'])).get('settles-early'), Date.now());
    await forceBreaker({ client: dynamoClient(), tableName: h.config.tableName }, 'settles-early', 'open', {
      by: 'test',
      untilMs: Date.now() - 1,
    });
    await h.send('high', { task: 'quick', payload: {} });
    await h.send('high', { task: 'slow', payload: {} });
    const response = await h.invoke(await receiveAll(h, 'high', 2));
    expect(response.batchItemFailures).toEqual([]);
    // Read from inside the slow task, a second after the probe ran: already closed.
    expect(store.state).toBe(BreakerState.closed);
  });
});

describe('back-pressure from a downstream', () => {
  it('defers the record by the time asked, without spending an attempt, and holds the rate limiter', async () => {
    const attempts: number[] = [];
    const task = defineTask({
      name: 'call-partner',
      schema: z.object({}),
      rateLimit: { perSecond: 100, burst: 100 },
      handler: (_payload, ctx) => {
        attempts.push(ctx.attempt);
        if (attempts.length === 1) throw new BackPressureError({ retryAfterMs: 2_000, reason: 'HTTP 429' });
        return 'ok';
      },
    });
    const h = await consumerHarness({ tasks: [task] });
    const id = await h.send('critical', { task: 'call-partner', payload: {} });
    const first = await receiveAll(h, 'critical', 1);
    const started = Date.now();
    expect((await h.invoke(first)).batchItemFailures).toEqual([]);
    // The bucket is held: a fresh take waits out the 2 s.
    const held = await h.limiter.acquire('call-partner', { perSecond: 100, burst: 100 }, 1);
    expect(held.granted).toBe(0);
    expect(held.retryAfterMs).toBeGreaterThan(1_000);

    const copy = await receiveAll(h, 'critical', 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    const parsed = parseEnvelope(copy.Records[0]?.body ?? '');
    expect(parsed.ok && parsed.envelope).toMatchObject({ id, tierq: { priorAttempts: 0 } });
    // Past the hold, the copy runs: as attempt 1 again.
    await sleep(Math.max(0, 2_200 - (Date.now() - started)));
    expect((await h.invoke(copy)).batchItemFailures).toEqual([]);
    expect(attempts).toEqual([1, 1]);
    expect(await h.taskState(id)).toMatchObject({ status: 'succeeded' });
  }, 30_000);
});

describe('a half-open breaker under concurrency', () => {
  it('lets exactly one of 20 concurrent consumers claim the probe, 50 times over', async () => {
    let runs = 0;
    let claims = 0;
    const task = defineTask({
      name: 'probe-me',
      schema: z.object({}),
      breaker: { name: 'contended', failureThreshold: 1, resetTimeoutMs: 60_000 },
      handler: () => {
        runs += 1;
      },
    });
    const h = await consumerHarness({
      tasks: [task],
      wrapBreakers: (store) => ({
        read: store.read.bind(store),
        recordFailures: store.recordFailures.bind(store),
        settleProbe: store.settleProbe.bind(store),
        releaseProbe: store.releaseProbe.bind(store),
        claimProbe: async (...args) => {
          const claimed = await store.claimProbe(...args);
          if (claimed) claims += 1;
          return claimed;
        },
      }),
    });
    // Twenty consumers: each its own handler, stores and clients, as separate Lambda environments.
    const consumers = Array.from({ length: 20 }, () => h.makeHandler());
    const where = { client: dynamoClient(), tableName: h.config.tableName };
    for (let round = 0; round < 50; round += 1) {
      for (let i = 0; i < 20; i += 2) {
        await Promise.all([
          h.send('high', { task: 'probe-me', payload: {} }),
          h.send('high', { task: 'probe-me', payload: {} }),
        ]);
      }
      const event = await receiveAll(h, 'high', 20);
      // Half-open: its opening has passed and no probe is out.
      await forceBreaker(where, 'contended', 'open', { by: 'test', untilMs: Date.now() - 1 });
      const [runsBefore, claimsBefore] = [runs, claims];
      await Promise.all(
        consumers.map((consumer, i) => {
          const record = event.Records[i];
          return record ? h.invoke({ Records: [record] }, consumer) : undefined;
        }),
      );
      expect(claims - claimsBefore, `round ${round}`).toBe(1);
      // The probe ran; a consumer that read the breaker after the probe closed it ran its record too.
      expect(runs - runsBefore, `round ${round}`).toBeGreaterThanOrEqual(1);
      // The probe succeeded: closed for everyone.
      const stored = (await breakerStore(h).read(['contended'])).get('contended');
      expect(breakerStateOf(stored, Date.now()), `round ${round}`).toBe(BreakerState.closed);
      // What the round did not receive (copies deferred by other rounds) stays for later rounds.
      for (const record of event.Records.slice(20)) await h.invoke({ Records: [record] });
    }
  }, 120_000);
});
