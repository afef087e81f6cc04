import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyConflictError, IdempotencyInProgressError } from '../../shared/errors.js';
import { DynamoTaskStore } from '../../shared/stores/dynamo-task-store.js';
import { getTaskState } from '../../shared/stores/task-lookup.js';
import { type AcquireInput, MAX_RESULT_BYTES, payloadHash, refId } from '../../shared/stores/task-store.js';
import { createTestTable, dynamoClient } from '../helpers/aws.js';

let tableName: string;
beforeAll(async () => {
  tableName = await createTestTable('task-store');
});

const newStore = () => new DynamoTaskStore(dynamoClient(), tableName);

/**
 * A delivery of a new task (its own key) with a 60 s lock of its own and a day of TTL, at the
 * real time.
 */
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

/** A document client that counts what is really sent, to check the stores' own counters. */
function countingClient() {
  const client = DynamoDBDocumentClient.from(dynamoClient(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  const counter = { sent: 0 };
  client.send = ((command: unknown) => {
    counter.sent += 1;
    return send(command);
  }) as typeof client.send;
  return { client, counter };
}

describe('DynamoTaskStore', () => {
  describe('lock mode', () => {
    it('acquires, completes, and answers a duplicate with the stored result', async () => {
      const store = newStore();
      const input = delivery();

      const first = await store.acquire(input);
      await store.complete({ ...input, result: { messageId: 'm-1' } });
      const duplicate = await store.acquire({ ...input, attempt: 2, nowMs: Date.now() });

      expect(first).toEqual({ outcome: 'acquired', createdAt: new Date(input.nowMs).toISOString() });
      expect(duplicate).toMatchObject({
        outcome: 'completed',
        record: { status: 'succeeded', result: { messageId: 'm-1' }, attempts: 1 },
      });
      expect(duplicate.outcome === 'completed' && duplicate.record.lockExpiresAt).toBeUndefined();
    });

    it('sends exactly 2 requests on the success path: acquire and complete', async () => {
      const { client, counter } = countingClient();
      const store = new DynamoTaskStore(client, tableName);
      const input = delivery();

      await store.acquire(input);
      await store.complete({ ...input, result: 'ok' });

      expect(store.requests).toBe(2);
      expect(counter.sent).toBe(2);
    });

    it('lets exactly one of 10 concurrent deliveries take the lock', async () => {
      const input = delivery();

      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => newStore().acquire({ ...input, attempt: i + 1 })),
      );

      const acquired = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
      expect(acquired).toHaveLength(1);
      expect(refused).toHaveLength(9);
      for (const reason of refused) {
        expect(reason).toBeInstanceOf(IdempotencyInProgressError);
        expect(reason).toMatchObject({ key: input.key, lockExpiresAt: input.lockExpiresAtMs });
      }
    });

    it('lets another delivery take over once the lock of a crashed holder has expired', async () => {
      const store = newStore();
      const crashed = delivery();
      await store.acquire(crashed);

      const tooEarly = await store
        .acquire({ ...crashed, attempt: 2, nowMs: crashed.lockExpiresAtMs - 1 })
        .catch((error: unknown) => error);
      const takeover = await store.acquire({
        ...crashed,
        attempt: 3,
        nowMs: crashed.lockExpiresAtMs + 1,
        lockExpiresAtMs: crashed.lockExpiresAtMs + 60_000,
      });

      expect(tooEarly).toBeInstanceOf(IdempotencyInProgressError);
      expect(takeover).toMatchObject({ outcome: 'acquired' });
      expect(await store.get(crashed.key, 'send-email')).toMatchObject({ status: 'running', attempts: 3 });
    });

    it('takes over a lock that was already in the past', async () => {
      const store = newStore();
      const crashed = delivery({ lockExpiresAtMs: Date.now() - 1 });
      await store.acquire(crashed);

      await expect(store.acquire({ ...crashed, attempt: 2, nowMs: Date.now() })).resolves.toMatchObject({
        outcome: 'acquired',
      });
    });

    it('keeps a held lock when the record would expire before the lock does', async () => {
      const store = newStore();
      // A 10 s TTL on a lock held for 60 s (a task without timeoutMs runs up to the Lambda's deadline).
      const input = delivery({ ttlSeconds: 10 });
      await store.acquire(input);

      const duplicate = await store
        .acquire({ ...input, attempt: 2, nowMs: input.nowMs + 30_000 })
        .catch((error: unknown) => error);

      expect(duplicate).toBeInstanceOf(IdempotencyInProgressError);
    });

    it('rejects a key reused with a different payload, running or completed', async () => {
      const store = newStore();
      const input = delivery();
      const other = { ...input, payloadHash: payloadHash('send-email', { to: 'someone-else@example.com' }) };
      await store.acquire(input);

      await expect(store.acquire(other)).rejects.toBeInstanceOf(IdempotencyConflictError);
      await store.complete({ ...input, result: null });
      await expect(store.acquire(other)).rejects.toBeInstanceOf(IdempotencyConflictError);
    });

    it('allows a retry after a recorded failure, releasing the lock and counting the attempt', async () => {
      const store = newStore();
      const input = delivery();
      await store.acquire(input);

      const failed = await store.recordFailure({ ...input, error: 'SMTP timeout', status: 'retrying' });
      const afterFailure = await store.get(input.key, 'send-email');
      const retry = await store.acquire({ ...input, attempt: 2, nowMs: Date.now() });

      expect(failed).toEqual({ written: true });
      expect(afterFailure).toMatchObject({ status: 'retrying', attempts: 1, lastError: 'SMTP timeout' });
      expect(afterFailure?.lockExpiresAt).toBeUndefined();
      // The retry's acquire reports when the record was first written, for its completion.
      expect(retry).toEqual({ outcome: 'acquired', createdAt: new Date(input.nowMs).toISOString() });
      expect(await store.get(input.key, 'send-email')).toMatchObject({ status: 'running', attempts: 2 });
    });

    it('allows a dead task to run again (a DLQ replay)', async () => {
      const store = newStore();
      const input = delivery();
      await store.acquire(input);
      await store.recordFailure({ ...input, attempt: 5, error: 'gave up', status: 'dead' });

      await expect(store.acquire({ ...input, attempt: 1 })).resolves.toMatchObject({ outcome: 'acquired' });
    });

    it('treats a completed record whose TTL has passed as absent', async () => {
      const store = newStore();
      const input = delivery({ ttlSeconds: 60 });
      await store.acquire(input);
      await store.complete({ ...input, result: 'old' });

      const later = input.nowMs + 120_000;
      const again = await store.acquire({
        ...input,
        payloadHash: payloadHash('send-email', 'another payload'),
        nowMs: later,
        lockExpiresAtMs: later + 60_000,
      });

      expect(again).toMatchObject({ outcome: 'acquired' });
      expect((await store.get(input.key, 'send-email'))?.result).toBeUndefined();
    });

    it('replaces a result larger than the cap with a marker', async () => {
      const store = newStore();
      const input = delivery();
      const big = 'x'.repeat(MAX_RESULT_BYTES + 100);

      await store.complete({ ...input, result: big });

      expect((await store.get(input.key, 'send-email'))?.result).toEqual({
        truncated: true,
        bytes: MAX_RESULT_BYTES + 102,
      });
    });
  });

  describe('batch completion and lookup', () => {
    it('completes a batch of 10 locked tasks with one BatchWriteItem, keeping createdAt', async () => {
      const { client, counter } = countingClient();
      const store = new DynamoTaskStore(client, tableName);
      const firstTry = Date.now() - 5_000;
      const batch = Array.from({ length: 10 }, () => delivery({ nowMs: firstTry }));
      const acquired = await Promise.all(batch.map((d) => store.acquire(d)));

      const { failed } = await store.completeMany(
        batch.map((d, i) => {
          const lock = acquired[i];
          const createdAt = lock?.outcome === 'acquired' ? lock.createdAt : undefined;
          return { ...d, nowMs: Date.now(), result: { n: i }, createdAt };
        }),
      );

      expect(failed.size).toBe(0);
      expect(store.requests).toBe(batch.length + 1);
      expect(counter.sent).toBe(batch.length + 1);
      const stored = await store.get(batch[3]?.key ?? '', 'send-email');
      expect(stored).toMatchObject({
        status: 'succeeded',
        result: { n: 3 },
        attempts: 1,
        createdAt: new Date(firstTry).toISOString(),
      });
      expect(stored?.updatedAt).not.toBe(stored?.createdAt);
      expect(stored?.lockExpiresAt).toBeUndefined();
      await expect(
        store.acquire({ ...(batch[3] as AcquireInput), nowMs: Date.now() }),
      ).resolves.toMatchObject({
        outcome: 'completed',
        record: { result: { n: 3 } },
      });
    });

    it('writes one request per 25 keys, and the last completion of a key named twice', async () => {
      const store = newStore();
      const batch = Array.from({ length: 30 }, () => ({ ...delivery(), result: 'first' }));
      const again = { ...(batch[0] as (typeof batch)[number]), attempt: 2, result: 'last' };

      const { failed } = await store.completeMany([...batch, again]);

      expect(failed.size).toBe(0);
      expect(store.requests).toBe(2);
      expect(await store.get(again.key, 'send-email')).toMatchObject({ result: 'last', attempts: 2 });
      expect(await store.get(batch[29]?.key ?? '', 'send-email')).toMatchObject({
        status: 'succeeded',
        result: 'first',
      });
    });

    it('looks up the live records among more than 100 keys, in one request per 100', async () => {
      const store = newStore();
      const done = Array.from({ length: 120 }, () => delivery());
      const failing = Array.from({ length: 20 }, () => delivery());
      const expired = delivery({ ttlSeconds: 1, nowMs: Date.now() - 60_000 });
      await store.completeMany([...done, expired].map((d) => ({ ...d, result: d.key })));
      // Failures of tasks that held no lock (mode once or off), so the records are created.
      await Promise.all(
        failing.map(({ owner: _, ...d }) => store.recordFailure({ ...d, error: 'no', status: 'retrying' })),
      );
      const unknown = Array.from({ length: 10 }, () => ({
        key: `never-${randomUUID()}`,
        task: 'send-email',
      }));
      const refs = [...done, ...failing, expired].map((d) => ({ key: d.key, task: d.task })).concat(unknown);
      const before = store.requests;

      const found = await store.lookup([...refs, { key: done[0]?.key ?? '', task: 'send-email' }]);

      expect(store.requests - before).toBe(2);
      expect([...found.keys()].sort()).toEqual([...done, ...failing].map((d) => refId(d)).sort());
      expect(found.get(refId(done[5] as AcquireInput))).toMatchObject({
        status: 'succeeded',
        result: done[5]?.key,
      });
      expect(found.get(refId(failing[0] as AcquireInput))).toMatchObject({
        status: 'retrying',
        lastError: 'no',
      });
    });

    it('leaves a completed record alone when a duplicate run fails afterwards', async () => {
      const store = newStore();
      const input = delivery();
      await store.completeMany([{ ...input, result: 'first' }]);

      const failed = await store.recordFailure({
        ...input,
        attempt: 2,
        error: 'dup failed',
        status: 'retrying',
      });

      expect(failed).toMatchObject({ written: false, record: { status: 'succeeded' } });
      expect(await store.get(input.key, 'send-email')).toMatchObject({
        status: 'succeeded',
        result: 'first',
      });
    });
  });

  describe('getTaskState', () => {
    it('reports an unknown task', async () => {
      const id = `missing-${randomUUID()}`;

      expect(await getTaskState({ client: dynamoClient(), tableName }, id)).toEqual({
        id,
        status: 'unknown',
      });
    });

    it('reports a known task by id', async () => {
      const store = newStore();
      const input = delivery();
      const { owner: _, ...unlocked } = input;
      await store.recordFailure({ ...unlocked, attempt: 3, error: 'bounced', status: 'dead' });

      const state = await getTaskState({ client: dynamoClient(), tableName }, input.taskId);

      expect(state).toEqual({
        id: input.taskId,
        taskId: input.taskId,
        task: 'send-email',
        status: 'dead',
        attempts: 3,
        result: undefined,
        error: 'bounced',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        updatedAt: new Date(input.nowMs).toISOString(),
      });
    });
  });
});
