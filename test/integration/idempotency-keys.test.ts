/**
 * Idempotency keys are scoped per task: two tasks enqueued under one key each run once and each
 * keep a record, found by task, or all of them by key; a key reused with another payload is
 * refused under `once` as under `lock`. Against fauxqs and DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../shared/errors.js';
import { defineTask } from '../../shared/registry.js';
import { DynamoTaskStore } from '../../shared/stores/dynamo-task-store.js';
import { findTaskStates, getTaskState } from '../../shared/stores/task-lookup.js';
import { type AcquireInput, payloadHash, refId } from '../../shared/stores/task-store.js';
import { createTestTable, dynamoClient } from '../helpers/aws.js';
import { consumerHarness } from '../helpers/consumer-harness.js';

const attr = (m: Message | undefined, name: string) => m?.MessageAttributes?.[name]?.StringValue;

function counted() {
  const runs: unknown[] = [];
  const task = defineTask({
    name: 'count',
    schema: z.object({ n: z.number() }),
    handler: (payload) => {
      runs.push(payload);
      return { n: payload.n };
    },
  });
  return { runs, task };
}

let tableName: string;
beforeAll(async () => {
  tableName = await createTestTable('keys');
});
const newStore = () => new DynamoTaskStore(dynamoClient(), tableName);

/** A delivery of a new task (its own key) with a 60 s lock of its own and a day of TTL. */
function delivery(overrides: Partial<AcquireInput> = {}): AcquireInput {
  const key = overrides.key ?? `task-${randomUUID()}`;
  const nowMs = overrides.nowMs ?? Date.now();
  return {
    key,
    taskId: key,
    task: 'send-email',
    payloadHash: payloadHash('send-email', { to: 'ada@example.com' }),
    attempt: 1,
    lockExpiresAtMs: nowMs + 60_000,
    owner: `owner-${randomUUID()}`,
    ttlSeconds: 86_400,
    nowMs,
    ...overrides,
  };
}

describe('the consumer with keys scoped per task', () => {
  it('runs two tasks enqueued under one idempotency key with the same payload, each once', async () => {
    const ran: string[] = [];
    const task = (name: string) =>
      defineTask({ name, schema: z.object({ order: z.number() }), handler: () => void ran.push(name) });
    const h = await consumerHarness({ tasks: [task('charge-card'), task('send-receipt')] });
    const common = { payload: { order: 42 }, idempotencyKey: 'order-42' };
    await h.send('high', { id: 'charge-42', task: 'charge-card', ...common });
    await h.send('high', { id: 'receipt-42', task: 'send-receipt', ...common });

    for (const _ of [1, 2])
      expect((await h.invoke(await h.receive('high', 1))).batchItemFailures).toEqual([]);
    // Duplicates of each are still recognised as such, per task.
    await h.send('high', { id: 'receipt-42-again', task: 'send-receipt', ...common });
    expect((await h.invoke(await h.receive('high'))).batchItemFailures).toEqual([]);

    expect(ran.sort()).toEqual(['charge-card', 'send-receipt']);
    expect(await h.deadLetters()).toEqual([]);
    expect(await h.store.get('order-42', 'charge-card')).toMatchObject({
      taskId: 'charge-42',
      status: 'succeeded',
    });
    expect(await h.store.get('order-42', 'send-receipt')).toMatchObject({
      taskId: 'receipt-42',
      status: 'succeeded',
    });
  });

  it('dead-letters a once task whose completed key comes again with another payload, as lock does', async () => {
    const { task, runs } = counted();
    const onceTask = defineTask({ ...task, name: 'count-once', idempotency: { mode: 'once' } });
    const h = await consumerHarness({ tasks: [onceTask] });
    await h.send('normal', { id: 'first', task: 'count-once', payload: { n: 1 }, idempotencyKey: 'k' });
    await h.invoke(await h.receive('normal'));
    await h.send('normal', { id: 'second', task: 'count-once', payload: { n: 2 }, idempotencyKey: 'k' });

    expect((await h.invoke(await h.receive('normal'))).batchItemFailures).toEqual([]);

    expect(runs).toEqual([{ n: 1 }]);
    const [dead] = await h.deadLetters();
    expect(attr(dead, 'tierq-reason')).toBe('idempotency-conflict');
    expect(attr(dead, 'tierq-id')).toBe('second');
    expect(await h.store.get('k', 'count-once')).toMatchObject({ taskId: 'first', result: { n: 1 } });
  });
});

describe('DynamoTaskStore', () => {
  describe('keys scoped per task', () => {
    it('keeps one record per task under a key, each found by a lookup of that task', async () => {
      const store = newStore();
      const charge = delivery({ task: 'charge-card' });
      const receipt = { ...charge, taskId: 'receipt', task: 'send-receipt' };

      await store.acquire(charge);
      await store.acquire(receipt);
      const found = await store.lookup([charge, receipt]);

      expect(found.get(refId(charge))).toMatchObject({ task: 'charge-card', status: 'running' });
      expect(found.get(refId(receipt))).toMatchObject({ task: 'send-receipt', taskId: 'receipt' });
    });

    it('lists every task under a key without a task name, and refuses to guess one', async () => {
      const store = newStore();
      const charge = delivery({ task: 'charge-card' });
      await store.acquire(charge);
      const { owner: _, ...unlocked } = charge;
      await store.recordFailure({
        ...unlocked,
        task: 'send-receipt',
        error: 'smtp down',
        status: 'retrying',
      });
      const source = { client: dynamoClient(), tableName };

      const states = await findTaskStates(source, charge.key);
      const guess = await getTaskState(source, charge.key).catch((error: unknown) => error);
      const named = await getTaskState(source, charge.key, 'send-receipt');

      expect(states.map((s) => [s.status === 'unknown' ? '' : s.task, s.status])).toEqual([
        ['charge-card', 'running'],
        ['send-receipt', 'retrying'],
      ]);
      expect(guess).toBeInstanceOf(ConfigError);
      expect((guess as Error).message).toContain('charge-card, send-receipt');
      expect(named).toMatchObject({ task: 'send-receipt', status: 'retrying', error: 'smtp down' });
    });
  });
});
