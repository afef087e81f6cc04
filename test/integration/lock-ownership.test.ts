/**
 * Lock ownership: every acquisition holds its own owner token, and a delivery whose lock was
 * taken over (it stalled past the lock's expiry) cannot write its failure or its completion over
 * the newer holder's record — so no third copy runs while the newer one does. The world's clock
 * jumps a minute while the first delivery runs, as if it had stalled that long. Against fauxqs
 * and DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { IdempotencyInProgressError } from '../../shared/errors.js';
import { defineTask } from '../../shared/registry.js';
import { DynamoTaskStore } from '../../shared/stores/dynamo-task-store.js';
import { type AcquireInput, payloadHash, refId } from '../../shared/stores/task-store.js';
import { createTestTable, dynamoClient, sqsClient, waitFor } from '../helpers/aws.js';
import { type ConsumerHarness, consumerHarness } from '../helpers/consumer-harness.js';

let tableName: string;
beforeAll(async () => {
  tableName = await createTestTable('locks');
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

/** A promise the test resolves when it wants a run to end. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * A task whose runs each wait for their own gate; the first run then fails or succeeds as told,
 * the later ones succeed. Each run returns which run it was.
 */
function stallingTask(first: 'fails' | 'succeeds') {
  const runs: number[] = [];
  const gates = [gate(), gate()];
  const task = defineTask({
    name: 'charge',
    schema: z.object({ order: z.number() }),
    retry: { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 1_000 },
    handler: async () => {
      const run = runs.push(runs.length + 1);
      await gates[run - 1]?.opened;
      if (run === 1 && first === 'fails') throw new Error('the stalled run failed');
      return { run };
    },
  });
  return { task, runs, gates };
}

/** SQS redelivers the message of `event` (its visibility ended): receives it again. */
async function redelivered(h: ConsumerHarness, event: SQSEvent): Promise<SQSEvent> {
  await sqsClient().send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: h.urlOf('normal'),
      ReceiptHandle: event.Records[0]?.receiptHandle,
      VisibilityTimeout: 0,
    }),
  );
  return waitFor(async () => {
    const again = await h.receive('normal', 10, 0);
    return again.Records.length === 1 ? again : undefined;
  });
}

/** Delivery A takes the lock and stalls a minute; SQS redelivers; delivery B takes the lock over. */
async function takeover(first: 'fails' | 'succeeds') {
  let offset = 0;
  const stalling = stallingTask(first);
  const h = await consumerHarness({ tasks: [stalling.task], clockOffsetMs: () => offset });
  await h.send('normal', { id: 'order-9', task: 'charge', payload: { order: 9 } });
  const firstEvent = await h.receive('normal');
  const a = h.invoke(firstEvent, h.makeHandler());
  await waitFor(() => stalling.runs.length === 1, { message: 'run 1 to start' });
  offset = 60_000; // A's lock lasted the invocation's 30 s: it has expired.
  const b = h.invoke(await redelivered(h, firstEvent), h.makeHandler());
  await waitFor(() => stalling.runs.length === 2, { message: 'run 2 to take the lock over' });
  return { h, a, b, ...stalling };
}

describe('lock ownership', () => {
  it("keeps a stalled run's failure from releasing the newer run's lock, so no third copy runs", async () => {
    const { h, a, b, runs, gates } = await takeover('fails');

    gates[0]?.open();
    await a;
    await h.send('normal', {
      id: 'order-9-again',
      task: 'charge',
      payload: { order: 9 },
      idempotencyKey: 'order-9',
    });
    const third = await h.invoke(await h.receive('normal'), h.makeHandler());

    expect(third.batchItemFailures).toEqual([]);
    expect(runs).toEqual([1, 2]);
    expect((await h.depth('normal')).delayed).toBe(1); // the third copy waits for run 2
    expect(await h.store.get('order-9', 'charge')).toMatchObject({ status: 'running', attempts: 2 });
    gates[1]?.open();
    expect((await b).batchItemFailures).toEqual([]);
    expect(await h.store.get('order-9', 'charge')).toMatchObject({ status: 'succeeded', result: { run: 2 } });
  });

  it("reports a stalled run's completion instead of writing it over the newer run's record", async () => {
    const { h, a, b, gates } = await takeover('succeeds');

    gates[0]?.open();
    const stale = await a;

    // The stalled run succeeded and is acknowledged; the record stays the newer run's.
    expect(stale.batchItemFailures).toEqual([]);
    expect(await h.store.get('order-9', 'charge')).toMatchObject({ status: 'running', attempts: 2 });
    gates[1]?.open();
    await b;
    expect(await h.store.get('order-9', 'charge')).toMatchObject({ status: 'succeeded', result: { run: 2 } });
  });
});

describe('DynamoTaskStore', () => {
  describe('lock ownership', () => {
    /** A holds the lock; it expires; B takes it over with its own owner token. */
    async function takenOver() {
      const store = newStore();
      const a = delivery({ owner: 'owner-a' });
      await store.acquire(a);
      const later = a.lockExpiresAtMs + 1;
      const b = { ...a, attempt: 2, owner: 'owner-b', nowMs: later, lockExpiresAtMs: later + 60_000 };
      await store.acquire(b);
      return { store, a, b };
    }

    it("does not write a stale holder's failure over the newer holder's lock", async () => {
      const { store, a, b } = await takenOver();

      const written = await store.recordFailure({ ...a, error: 'stale', status: 'retrying' });
      const third = await store
        .acquire({ ...b, attempt: 3, owner: 'owner-c', nowMs: b.nowMs + 1 })
        .catch((error: unknown) => error);

      expect(written).toMatchObject({ written: false, record: { status: 'running', attempts: 2 } });
      expect(third).toBeInstanceOf(IdempotencyInProgressError);
    });

    it("reports a stale holder's completion as lost instead of writing it, and stores the holder's", async () => {
      const { store, a, b } = await takenOver();

      const stale = await store.completeMany([
        { ...a, result: 'a', lock: { owner: 'owner-a', check: true } },
      ]);
      const fresh = await store.completeMany([
        { ...b, result: 'b', lock: { owner: 'owner-b', check: true } },
      ]);

      expect(stale.failed.size).toBe(0);
      expect(stale.lost.get(refId(a))).toMatchObject({ status: 'running', attempts: 2 });
      expect(fresh.lost.size + fresh.failed.size).toBe(0);
      expect(await store.get(a.key, a.task)).toMatchObject({ status: 'succeeded', result: 'b', attempts: 2 });
    });

    it('completes locks that cannot have been taken over in one batch write, without a check', async () => {
      const store = newStore();
      const batch = Array.from({ length: 10 }, () => delivery({ owner: 'owner-a' }));
      await Promise.all(batch.map((d) => store.acquire(d)));
      const before = store.requests;

      const { failed, lost } = await store.completeMany(
        batch.map((d) => ({ ...d, result: 'ok', lock: { owner: 'owner-a', check: false } })),
      );

      expect(store.requests - before).toBe(1);
      expect(failed.size + lost.size).toBe(0);
    });
  });
});
