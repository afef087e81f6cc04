import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClientConfig } from '../../local/emulators.js';
import { QueueFullError } from '../../shared/errors.js';
import type { BackpressureOptions } from '../../shared/producer/backpressure.js';
import { createProducer } from '../../shared/producer/producer.js';
import { createTestQueue, createTestTable, sqsClient } from '../helpers/aws.js';
import { type DeclaredAccess, startDeclaredAccess } from '../helpers/declared-access.js';

let access: DeclaredAccess;
// The producer runs as a principal holding exactly the producer's declared access (IAM enforced).
beforeAll(async () => {
  access = await startDeclaredAccess();
});
afterAll(async () => {
  await access?.stop();
});

/** A producer with backpressure on a fresh queue; counts its GetQueueAttributes calls. */
async function setup(backpressure: BackpressureOptions) {
  const normal = (await createTestQueue({ prefix: 'bp-normal' })).url;
  const table = await createTestTable('bp');
  const { region } = inject('emulators');
  const keys = await access.grant('producer', { queues: [normal], dlq: normal, table });
  const sqs = new SQSClient({ ...localClientConfig(access.endpoints.sqs), region, credentials: keys });
  let depthReads = 0;
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetQueueAttributesCommand') depthReads++;
      return next(args);
    },
    { step: 'initialize', name: 'countDepthReads' },
  );
  const producer = createProducer({
    region,
    queues: { normal },
    table,
    sqs,
    dynamodb: access.clients(keys).dynamodb,
    backpressure,
  });
  const fill = async (n: number) => {
    const plain = createProducer({ region, queues: { normal }, table, sqs: sqsClient() });
    await plain.enqueueMany(Array.from({ length: n }, (_, i) => ({ task: 'echo', payload: i })));
  };
  return { producer, normal, fill, depthReads: () => depthReads };
}

async function takeOne(url: string): Promise<void> {
  const { Messages = [] } = await sqsClient().send(
    new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }),
  );
  await sqsClient().send(
    new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: Messages[0]?.ReceiptHandle }),
  );
}

describe('producer backpressure', () => {
  it('error: throws QueueFullError naming the tier, its depth and the bound', async () => {
    const { producer, fill } = await setup({ maxDepth: 5, strategy: 'error' });
    await fill(5);
    const error = await producer.enqueue('echo', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect(error).toMatchObject({ tier: 'normal', depth: 5, maxDepth: 5 });
  });

  it('drop: sends nothing and says so, per item in enqueueMany too', async () => {
    const { producer, fill } = await setup({ maxDepth: 3, strategy: 'drop' });
    await fill(2);
    const results = await producer.enqueueMany([1, 2, 3].map((n) => ({ task: 'echo', payload: n })));
    expect(results.map((r) => r.status)).toEqual(['sent', 'dropped', 'dropped']);
    expect(results[1]).toMatchObject({ status: 'dropped', tier: 'normal' });
  });

  it('holds the bound through a burst, with one depth read for all of it', async () => {
    const { producer, depthReads } = await setup({ maxDepth: 10, strategy: 'drop', cacheMs: 60_000 });
    const results = await Promise.all(Array.from({ length: 25 }, (_, n) => producer.enqueue('echo', n)));
    expect(results.filter((r) => r.status === 'sent')).toHaveLength(10);
    expect(results.filter((r) => r.status === 'dropped')).toHaveLength(15);
    expect(depthReads()).toBe(1);
  });

  it('block: waits until a consumer makes room, then sends', async () => {
    const { producer, normal, fill } = await setup({
      maxDepth: 2,
      strategy: 'block',
      blockTimeoutMs: 10_000,
      cacheMs: 0,
    });
    await fill(2);
    let settled = false;
    const pending = producer.enqueue('echo', 'late').finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(settled).toBe(false);
    await takeOne(normal);
    await expect(pending).resolves.toMatchObject({ status: 'sent' });
  });

  it('block: gives up with QueueFullError at its deadline', async () => {
    const { producer, fill } = await setup({
      maxDepth: 1,
      strategy: 'block',
      blockTimeoutMs: 300,
      cacheMs: 0,
    });
    await fill(1);
    const started = Date.now();
    await expect(producer.enqueue('echo', 1)).rejects.toBeInstanceOf(QueueFullError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
