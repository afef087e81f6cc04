import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { localClientConfig } from '../../local/emulators.js';
import { startWireProxy, WireFault } from '../../local/wire-proxy.js';
import { PermanentTaskError } from '../../shared/errors.js';
import { defineTask } from '../../shared/registry.js';
import { waitFor } from '../helpers/aws.js';
import { consumerHarness, TIERS } from '../helpers/consumer-harness.js';

const attr = (m: Message | undefined, name: string) => m?.MessageAttributes?.[name]?.StringValue;

function counted() {
  const runs: unknown[] = [];
  const task = defineTask({
    name: 'count',
    schema: z.object({ n: z.number() }),
    handler: async (payload) => {
      runs.push(payload);
      await sleep(50);
      return { n: payload.n };
    },
  });
  return { runs, task };
}

describe('consumer against fauxqs and DynamoDB Local', () => {
  it('completes a task at every tier and records its state', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({ tasks: [task] });
    for (const tier of TIERS) {
      const id = await h.send(tier, { task: 'count', payload: { n: 1 } });
      const response = await h.invoke(await h.receive(tier));
      expect(response.batchItemFailures).toEqual([]);
      expect(await h.taskState(id)).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        result: { n: 1 },
      });
    }
    expect(runs).toHaveLength(4);
  });

  it('dead-letters malformed messages at once with a reason, without failing good tasks in the batch', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({ tasks: [task] });
    await h.send('high', '{"v":1,"id":');
    await h.send('high', { task: 'nope', payload: null });
    await h.send('high', { task: 'count', payload: { n: 'x' } });
    await h.send('high', JSON.stringify({ v: 2, id: 'future', task: 'count', payload: {} }));
    await h.send('high', { task: 'count', payload: { n: 7 } });
    const event = await waitFor(async () => {
      const e = await h.receive('high', 10, 0);
      return e.Records.length === 5 ? e : undefined;
    });
    const response = await h.invoke(event);
    expect(response.batchItemFailures).toEqual([]);
    expect(runs).toEqual([{ n: 7 }]);
    const dead = await h.deadLetters();
    expect(dead.map((m) => attr(m, 'tierq-reason')).sort()).toEqual(
      ['invalid-json', 'invalid-payload', 'unknown-task', 'unsupported-version'].sort(),
    );
    for (const m of dead) {
      expect(attr(m, 'tierq-tier')).toBe('high');
      expect(m.MessageAttributes?.['tierq-attempts']?.StringValue).toBe('0');
      expect(attr(m, 'tierq-error')?.length).toBeGreaterThan(10);
    }
    expect(
      attr(
        dead.find((m) => attr(m, 'tierq-reason') === 'unknown-task'),
        'tierq-error',
      ),
    ).toMatch(/unknown task "nope"/);
  });

  it('retries a transient failure with backoff, then succeeds', async () => {
    const flaky = defineTask({
      name: 'flaky',
      schema: z.object({ failTimes: z.number() }),
      retry: { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 1_000 },
      handler: ({ failTimes }, ctx) => {
        if (ctx.attempt <= failTimes) throw new Error(`attempt ${ctx.attempt} fails`);
        return { attempt: ctx.attempt };
      },
    });
    const h = await consumerHarness({ tasks: [flaky] });
    const id = await h.send('normal', { task: 'flaky', payload: { failTimes: 1 } });
    const first = await h.invoke(await h.receive('normal'));
    expect(first.batchItemFailures).toHaveLength(1);
    expect(await h.taskState(id)).toMatchObject({ status: 'retrying', attempts: 1 });
    // The backoff (at most 1 s here, not the queue's 30 s) hides it, then it comes back.
    const again = await waitFor(
      async () => {
        const e = await h.receive('normal', 10, 1);
        return e.Records.length ? e : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(again.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
    const second = await h.invoke(again);
    expect(second.batchItemFailures).toEqual([]);
    expect(await h.taskState(id)).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      result: { attempt: 2 },
    });
    expect(await h.deadLetters()).toEqual([]);
  });

  it('dead-letters a permanent failure on its first attempt, and exhausted retries before maxReceiveCount', async () => {
    const reject = defineTask({
      name: 'reject',
      schema: z.null(),
      handler: () => {
        throw new PermanentTaskError('no such customer');
      },
    });
    const always = defineTask({
      name: 'always',
      schema: z.null(),
      retry: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
      handler: () => {
        throw new Error('still broken');
      },
    });
    const h = await consumerHarness({ tasks: [reject, always], maxReceiveCount: 10 });
    const rejectId = await h.send('low', { task: 'reject', payload: null });
    expect((await h.invoke(await h.receive('low'))).batchItemFailures).toEqual([]);
    const alwaysId = await h.send('critical', { task: 'always', payload: null });
    expect((await h.invoke(await h.receive('critical'))).batchItemFailures).toHaveLength(1);
    const retry = await waitFor(async () => {
      const e = await h.receive('critical', 10, 1);
      return e.Records.length ? e : undefined;
    });
    expect((await h.invoke(retry)).batchItemFailures).toEqual([]);
    const dead = await h.deadLetters();
    const byId = (id: string) => dead.find((m) => attr(m, 'tierq-id') === id);
    expect(attr(byId(rejectId), 'tierq-reason')).toBe('permanent-error');
    expect(attr(byId(rejectId), 'tierq-error')).toBe('PermanentTaskError: no such customer');
    expect(attr(byId(rejectId), 'tierq-tier')).toBe('low');
    expect(byId(rejectId)?.MessageAttributes?.['tierq-attempts']?.StringValue).toBe('1');
    expect(attr(byId(alwaysId), 'tierq-reason')).toBe('max-attempts');
    expect(byId(alwaysId)?.MessageAttributes?.['tierq-attempts']?.StringValue).toBe('2');
    expect(attr(byId(alwaysId), 'tierq-task')).toBe('always');
    expect(await h.taskState(alwaysId)).toMatchObject({
      status: 'dead',
      error: 'Error: still broken',
    });
  });

  it('fails the record instead of acknowledging it when the DLQ send fails', async () => {
    const { task } = counted();
    const h = await consumerHarness({ tasks: [task] });
    // A consumer whose DLQ URL points at a queue that does not exist.
    Object.assign(h.config, { deadLetterQueueUrl: `${h.config.deadLetterQueueUrl}-missing` });
    await h.send('high', 'not json');
    const response = await h.invoke(await h.receive('high'), h.makeHandler());
    expect(response.batchItemFailures).toHaveLength(1);
    expect(await h.deadLetters()).toEqual([]);
    // Still there for redelivery: nothing was lost.
    expect((await h.depth('high')).inFlight).toBe(1);
  });

  it('fails the record instead of acknowledging it when the table is unavailable', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({ tasks: [task], storeTableName: 'no-such-table' });
    await h.send('normal', { task: 'count', payload: { n: 1 } });
    const response = await h.invoke(await h.receive('normal'));
    expect(response.batchItemFailures).toHaveLength(1);
    expect(runs).toHaveLength(0);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('defers a task until its runAt without consuming an attempt, in hops', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({ tasks: [task], maxHopSeconds: 1 });
    const runAt = new Date(Date.now() + 3_000).toISOString();
    const id = await h.send('normal', { task: 'count', payload: { n: 1 }, runAt });
    let hops = 0;
    await waitFor(
      async () => {
        const event = await h.receive('normal', 10, 1);
        if (event.Records.length === 0) return false;
        const response = await h.invoke(event);
        expect(response.batchItemFailures).toEqual([]);
        if (runs.length === 0) hops += 1;
        return runs.length > 0;
      },
      { timeoutMs: 15_000, intervalMs: 10 },
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(runAt));
    expect(hops).toBeGreaterThanOrEqual(2);
    expect(await h.taskState(id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await h.deadLetters()).toEqual([]);
  });

  it('holds a task due in hours until the clock reaches it', async () => {
    const { task, runs } = counted();
    let offset = 0;
    const h = await consumerHarness({ tasks: [task], maxHopSeconds: 1, clockOffsetMs: () => offset });
    await h.send('low', {
      task: 'count',
      payload: { n: 1 },
      runAt: new Date(Date.now() + 3 * 3600_000).toISOString(),
    });
    await h.invoke(await h.receive('low'));
    expect(runs).toHaveLength(0);
    expect((await h.depth('low')).delayed + (await h.depth('low')).visible).toBe(1);
    offset = 3 * 3600_000 + 1_000;
    const copy = await waitFor(async () => {
      const e = await h.receive('low', 10, 1);
      return e.Records.length ? e : undefined;
    });
    expect(JSON.parse(copy.Records[0]?.body ?? '{}').tierq).toMatchObject({ priorAttempts: 0, tier: 'low' });
    await h.invoke(copy);
    expect(runs).toHaveLength(1);
  });

  it('holds a rate limit across two concurrent invocations and defers the excess without failing it', async () => {
    const runs: number[] = [];
    const limited = defineTask({
      name: 'limited',
      schema: z.number(),
      rateLimit: { perSecond: 2, burst: 4 },
      handler: (n) => void runs.push(n),
    });
    const h = await consumerHarness({ tasks: [limited] });
    for (let i = 0; i < 16; i++) await h.send(i % 2 ? 'high' : 'normal', { task: 'limited', payload: i });
    const [a, b] = await Promise.all([
      waitFor(async () => ((await h.depth('high')).visible >= 8 ? h.receive('high', 8, 0) : undefined)),
      waitFor(async () => ((await h.depth('normal')).visible >= 8 ? h.receive('normal', 8, 0) : undefined)),
    ]);
    const started = Date.now();
    const responses = await Promise.all([h.invoke(a, h.makeHandler()), h.invoke(b, h.makeHandler())]);
    expect(responses.flatMap((r) => r.batchItemFailures)).toEqual([]);
    const elapsed = (Date.now() - started) / 1000;
    expect(runs.length).toBeLessThanOrEqual(4 + Math.ceil(2 * elapsed));
    expect(runs.length).toBeGreaterThanOrEqual(4);
    const deferred = (await h.depth('high')).delayed + (await h.depth('normal')).delayed;
    expect(deferred).toBe(16 - runs.length);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('runs a duplicate enqueue and a duplicate delivery once, returning the stored result', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({ tasks: [task] });
    await h.send('high', {
      id: 'order-1',
      task: 'count',
      payload: { n: 1 },
      idempotencyKey: 'order-1-email',
    });
    await h.invoke(await h.receive('high'));
    await h.send('high', {
      id: 'order-1-again',
      task: 'count',
      payload: { n: 1 },
      idempotencyKey: 'order-1-email',
    });
    const second = await h.invoke(await h.receive('high'));
    expect(second.batchItemFailures).toEqual([]);
    expect(runs).toHaveLength(1);
    expect(await h.taskState('order-1-email')).toMatchObject({
      status: 'succeeded',
      result: { n: 1 },
    });
  });

  it('executes concurrent duplicates exactly once and defers the in-progress ones', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({ tasks: [task] });
    for (const tier of ['critical', 'high', 'normal']) {
      await h.send(tier, { id: `dup-${tier}`, task: 'count', payload: { n: 5 }, idempotencyKey: 'same-key' });
    }
    const events = await Promise.all(['critical', 'high', 'normal'].map((t) => h.receive(t)));
    const responses = await Promise.all(events.map((e) => h.invoke(e, h.makeHandler())));
    expect(responses.flatMap((r) => r.batchItemFailures)).toEqual([]);
    expect(runs).toHaveLength(1);
  });

  it('lets a redelivery take over the lock of a crashed run once it expires', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({ tasks: [task] });
    const base = { key: 'crashed', taskId: 'crashed', task: 'count', attempt: 1, ttlSeconds: 600 };
    const { payloadHash } = await import('../../shared/stores/task-store.js');
    await h.store.acquire({
      ...base,
      payloadHash: payloadHash('count', { n: 3 }),
      nowMs: Date.now() - 5_000,
      lockExpiresAtMs: Date.now() - 1,
      owner: 'the-crashed-run',
    });
    await h.send('normal', { id: 'crashed', task: 'count', payload: { n: 3 } });
    expect((await h.invoke(await h.receive('normal'))).batchItemFailures).toEqual([]);
    expect(runs).toEqual([{ n: 3 }]);
  });

  it('dead-letters the same idempotency key with a different payload', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({ tasks: [task] });
    await h.send('normal', { id: 'a', task: 'count', payload: { n: 1 }, idempotencyKey: 'k' });
    await h.invoke(await h.receive('normal'));
    await h.send('normal', { id: 'b', task: 'count', payload: { n: 2 }, idempotencyKey: 'k' });
    expect((await h.invoke(await h.receive('normal'))).batchItemFailures).toEqual([]);
    expect(runs).toHaveLength(1);
    const [dead] = await h.deadLetters();
    expect(attr(dead, 'tierq-reason')).toBe('idempotency-conflict');
    expect(attr(dead, 'tierq-id')).toBe('b');
  });

  it('stores a batch of successes with one write request: lock 10 acquires + 1, once 1 read + 1', async () => {
    const { task: lockTask, runs } = counted();
    const onceTask = defineTask({ ...lockTask, name: 'count-once', idempotency: { mode: 'once' } });
    const h = await consumerHarness({ tasks: [lockTask, onceTask] });
    const ids: string[] = [];
    const requestsFor = async (name: string) => {
      for (let n = 0; n < 10; n += 1) ids.push(await h.send('normal', { task: name, payload: { n } }));
      const event = await h.receive('normal');
      expect(event.Records).toHaveLength(10);
      const before = h.store.requests;
      expect((await h.invoke(event)).batchItemFailures).toEqual([]);
      return h.store.requests - before;
    };

    expect(await requestsFor('count')).toBe(11);
    expect(await requestsFor('count-once')).toBe(2);
    expect(runs).toHaveLength(20);
    for (const id of ids) expect(await h.taskState(id)).toMatchObject({ status: 'succeeded' });
  });

  it('keeps when a once task was first recorded across a failed attempt and its success', async () => {
    const { task } = counted();
    const onceTask = defineTask({ ...task, name: 'count-once', idempotency: { mode: 'once' } });
    const h = await consumerHarness({ tasks: [onceTask] });
    const firstTry = Date.now() - 60_000;
    const id = 'once-retried';
    const { payloadHash } = await import('../../shared/stores/task-store.js');
    const write = {
      key: id,
      taskId: id,
      task: 'count-once',
      payloadHash: payloadHash('count-once', { n: 7 }),
    };
    await h.store.recordFailure({
      ...write,
      attempt: 1,
      ttlSeconds: 600,
      nowMs: firstTry,
      error: 'x',
      status: 'retrying',
    });

    await h.send('normal', { id, task: 'count-once', payload: { n: 7 } });
    expect((await h.invoke(await h.receive('normal'))).batchItemFailures).toEqual([]);

    const stored = await h.store.get(id, 'count-once');
    expect(stored).toMatchObject({
      status: 'succeeded',
      result: { n: 7 },
      createdAt: new Date(firstTry).toISOString(),
    });
    expect(stored?.lastError).toBeUndefined();
  });

  it('fails the records, after running them, when their completion cannot be stored', async () => {
    const { task, runs } = counted();
    const proxy = await startWireProxy({
      service: 'dynamodb',
      target: inject('emulators').endpoints.dynamodb,
    });
    try {
      const storeClient = new DynamoDBClient({
        ...localClientConfig(proxy.endpoint),
        region: inject('emulators').region,
        maxAttempts: 2,
      });
      const h = await consumerHarness({ tasks: [task], storeClient });
      const ids = await Promise.all(
        [1, 2, 3].map((n) => h.send('normal', { task: 'count', payload: { n } })),
      );
      proxy.setPolicy((request) =>
        request.action === 'BatchWriteItem' ? WireFault.internalError : undefined,
      );

      const event = await h.receive('normal');
      const response = await h.invoke(event);

      expect(runs).toHaveLength(3);
      expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
        event.Records.map((r) => r.messageId).sort(),
      );
      expect(proxy.stats().faults).toEqual({ 'internal-error': 2 });
      for (const id of ids) expect(await h.taskState(id)).toMatchObject({ status: 'running' });
    } finally {
      await proxy.stop();
    }
  });
});
