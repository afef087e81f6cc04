import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  IdempotencyConflictError,
  IdempotencyInProgressError,
  RateLimitedError,
  StoreError,
} from '../../../../shared/errors.js';
import { DynamoRateLimiter } from '../../../../shared/stores/dynamo-rate-limiter.js';
import { DynamoTaskStore } from '../../../../shared/stores/dynamo-task-store.js';
import { type AcquireInput, refId } from '../../../../shared/stores/task-store.js';

/** A document client whose every request rejects with `error`; no network is touched. */
function failingClient(error: Error): DynamoDBDocumentClient {
  const base = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const client = DynamoDBDocumentClient.from(base);
  client.send = (() => Promise.reject(error)) as typeof client.send;
  return client;
}

function sdkError(name: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} from the fake client`), { name, ...fields });
}

const nowMs = 1_700_000_000_000;
const input: AcquireInput = {
  key: 'order-42',
  taskId: 'order-42',
  task: 'send-email',
  payloadHash: 'hash-a',
  attempt: 1,
  lockExpiresAtMs: nowMs + 60_000,
  owner: 'owner-1',
  ttlSeconds: 3_600,
  nowMs,
};

/** The ALL_OLD item a failed condition carries, in wire format. */
function oldItem(fields: { status: string; payloadHash: string; lockExpiresAt?: number }) {
  return {
    pk: { S: 'task#order-42' },
    sk: { S: 'send-email' },
    taskId: { S: 'order-42' },
    task: { S: 'send-email' },
    status: { S: fields.status },
    attempts: { N: '1' },
    payloadHash: { S: fields.payloadHash },
    createdAt: { S: '2023-11-14T22:13:20.000Z' },
    updatedAt: { S: '2023-11-14T22:13:20.000Z' },
    expiresAt: { N: String(nowMs / 1_000 + 3_600) },
    ...(fields.lockExpiresAt === undefined ? {} : { lockExpiresAt: { N: String(fields.lockExpiresAt) } }),
    ...(fields.status === 'succeeded' ? { result: { S: '{"sent":true}' } } : {}),
  };
}

describe('DynamoTaskStore error translation', () => {
  it('rethrows an SDK failure as a StoreError naming the operation, with the SDK error as cause', async () => {
    const cause = sdkError('ProvisionedThroughputExceededException');
    const store = new DynamoTaskStore(failingClient(cause), 'tierq');

    const error = await store.acquire(input).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ operation: 'task.acquire', cause });
    expect(store.requests).toBe(1);
  });

  it('translates every method, reads included', async () => {
    const store = new DynamoTaskStore(failingClient(sdkError('InternalServerError')), 'tierq');

    await expect(store.get('k', 'send-email')).rejects.toMatchObject({
      name: 'StoreError',
      operation: 'task.get',
    });
    await expect(store.lookup([{ key: 'k', task: 'send-email' }])).rejects.toMatchObject({
      operation: 'task.lookup',
    });
    await expect(store.complete({ ...input, result: 1 })).rejects.toMatchObject({
      operation: 'task.complete',
    });
  });

  it('returns the keys a failed batch completion left unwritten, with the StoreError', async () => {
    const cause = sdkError('InternalServerError');
    const store = new DynamoTaskStore(failingClient(cause), 'tierq');
    const keys = ['a', 'b', 'c'];

    const { failed } = await store.completeMany(keys.map((key) => ({ ...input, key, result: 1 })));

    expect([...failed.keys()]).toEqual(keys.map((key) => refId({ key, task: 'send-email' })));
    expect(failed.get('send-email#b')).toMatchObject({
      name: 'StoreError',
      operation: 'task.completeMany',
      cause,
    });
    expect(store.requests).toBe(1);
  });

  it('retries the items DynamoDB left unprocessed, then reports those still unwritten', async () => {
    const client = failingClient(sdkError('unused'));
    const sent: number[] = [];
    client.send = ((command: { input: { RequestItems: Record<string, { PutRequest: unknown }[]> } }) => {
      const puts = command.input.RequestItems.tierq ?? [];
      sent.push(puts.length);
      // DynamoDB's answer under throttling: the first item of every request is left unprocessed.
      return Promise.resolve({ UnprocessedItems: { tierq: puts.slice(0, 1) } });
    }) as unknown as typeof client.send;
    const store = new DynamoTaskStore(client, 'tierq');

    const { failed } = await store.completeMany(['a', 'b'].map((key) => ({ ...input, key, result: 1 })));

    expect(sent).toEqual([2, 1, 1, 1, 1, 1]);
    expect([...failed.keys()]).toEqual(['send-email#a']);
    expect(failed.get('send-email#a')?.message).toMatch(/1 keys still unprocessed after 6 requests/);
  });

  it('fails only the completion whose result JSON cannot represent, and writes the rest', async () => {
    const client = failingClient(sdkError('unused'));
    const written: unknown[] = [];
    client.send = ((command: {
      input: { RequestItems: Record<string, { PutRequest: { Item: unknown } }[]> };
    }) => {
      written.push(...(command.input.RequestItems.tierq ?? []).map((put) => put.PutRequest.Item));
      return Promise.resolve({});
    }) as unknown as typeof client.send;
    const store = new DynamoTaskStore(client, 'tierq');

    const { failed } = await store.completeMany([
      { ...input, key: 'fine', result: { ok: true } },
      { ...input, key: 'bigint', result: { n: 1n } },
    ]);

    expect([...failed.keys()]).toEqual(['send-email#bigint']);
    expect(failed.get('send-email#bigint')).toMatchObject({
      name: 'StoreError',
      cause: expect.any(TypeError),
    });
    expect(written).toEqual([expect.objectContaining({ pk: 'task#fine', result: '{"ok":true}' })]);
  });

  it('turns a failed condition on a completed record into a completed outcome', async () => {
    const cause = sdkError('ConditionalCheckFailedException', {
      Item: oldItem({ status: 'succeeded', payloadHash: 'hash-a' }),
    });
    const store = new DynamoTaskStore(failingClient(cause), 'tierq');

    const acquired = await store.acquire(input);

    expect(acquired).toMatchObject({ outcome: 'completed', record: { result: { sent: true } } });
  });

  it('reports a different payload hash as a conflict, even on a completed record', async () => {
    const cause = sdkError('ConditionalCheckFailedException', {
      Item: oldItem({ status: 'succeeded', payloadHash: 'hash-b' }),
    });
    const store = new DynamoTaskStore(failingClient(cause), 'tierq');

    await expect(store.acquire(input)).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it('reports a live lock as in progress, with its expiry', async () => {
    const lockExpiresAt = nowMs + 30_000;
    const cause = sdkError('ConditionalCheckFailedException', {
      Item: oldItem({ status: 'running', payloadHash: 'hash-a', lockExpiresAt }),
    });
    const store = new DynamoTaskStore(failingClient(cause), 'tierq');

    const error = await store.acquire(input).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(IdempotencyInProgressError);
    expect(error).toMatchObject({ key: 'order-42', lockExpiresAt });
  });
});

describe('DynamoRateLimiter error translation', () => {
  it('rethrows an SDK failure as a StoreError with the SDK error as cause', async () => {
    const cause = sdkError('ThrottlingException');
    const limiter = new DynamoRateLimiter(failingClient(cause), 'tierq');

    const error = await limiter.acquire('call-api', { perSecond: 1, burst: 5 }, 2).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ operation: 'rate-limit.acquire', cause });
  });

  it('gives up after 8 writes that all lose the race with a RateLimitedError, so the records wait', async () => {
    const current = { pk: { S: 'ratelimit#call-api' }, tokens: { N: '5' }, updatedAtMs: { N: '0' } };
    const cause = sdkError('ConditionalCheckFailedException', { Item: { ...current, version: { N: '9' } } });
    const limiter = new DynamoRateLimiter(failingClient(cause), 'tierq');

    const error = await limiter
      .acquire('call-api', { perSecond: 1, burst: 5 }, 1, 1_000)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ taskName: 'call-api', retryAfterMs: expect.any(Number) });
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
    expect(limiter.requests).toBe(8);
  });
});
