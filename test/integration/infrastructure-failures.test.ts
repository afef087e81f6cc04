/**
 * Infrastructure failures end with a reason too: on a record's last receive tierq dead-letters
 * it itself (`infrastructure-error`, the tier, the last error) instead of letting SQS redrive it
 * bare; a message the producer sent keeps its tier through SQS's own redrive, so a replay finds
 * its way back; a contended rate limiter defers instead of failing. Against fauxqs and DynamoDB Local.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { localClientConfig } from '../../local/emulators.js';
import { startWireProxy, WireFault } from '../../local/wire-proxy.js';
import { peekDeadLetters, replayDeadLetters } from '../../shared/dlq/index.js';
import { RateLimitedError } from '../../shared/errors.js';
import { createProducer } from '../../shared/producer/producer.js';
import { defineTask } from '../../shared/registry.js';
import { sqsClient, waitFor } from '../helpers/aws.js';
import { consumerHarness, TIERS } from '../helpers/consumer-harness.js';

const attr = (m: Message | undefined, name: string) => m?.MessageAttributes?.[name]?.StringValue;

function counted() {
  const runs: number[] = [];
  const task = defineTask({
    name: 'count',
    schema: z.object({ n: z.number() }),
    handler: ({ n }) => void runs.push(n),
  });
  return { runs, task };
}

describe('infrastructure failures on the last receive', () => {
  it('dead-letters a record whose task store is unavailable, with reason infrastructure-error, tier and error', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({ tasks: [task], maxReceiveCount: 1, storeTableName: 'no-such-table' });
    const id = await h.send('high', { task: 'count', payload: { n: 1 } });

    const response = await h.invoke(await h.receive('high'));

    expect(response.batchItemFailures).toEqual([]);
    expect(runs).toEqual([]);
    const [dead] = await h.deadLetters();
    expect(attr(dead, 'tierq-reason')).toBe('infrastructure-error');
    expect(attr(dead, 'tierq-tier')).toBe('high');
    expect(attr(dead, 'tierq-id')).toBe(id);
    expect(attr(dead, 'tierq-error')).toMatch(/^task store unavailable: StoreError: .*task\.acquire/);
    expect(dead?.MessageAttributes?.['tierq-attempts']?.StringValue).toBe('0');
  });

  it('still leaves such a record to SQS before its last receive', async () => {
    const { task } = counted();
    const h = await consumerHarness({ tasks: [task], maxReceiveCount: 3, storeTableName: 'no-such-table' });
    await h.send('high', { task: 'count', payload: { n: 1 } });

    const response = await h.invoke(await h.receive('high'));

    expect(response.batchItemFailures).toHaveLength(1);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('dead-letters a record that ran but whose completion could not be stored', async () => {
    const { task, runs } = counted();
    const proxy = await startWireProxy({
      service: 'dynamodb',
      target: inject('emulators').endpoints.dynamodb,
    });
    try {
      const storeClient = new DynamoDBClient({
        ...localClientConfig(proxy.endpoint),
        region: inject('emulators').region,
        maxAttempts: 1,
      });
      const h = await consumerHarness({ tasks: [task], maxReceiveCount: 1, storeClient });
      await h.send('normal', { task: 'count', payload: { n: 2 } });
      proxy.setPolicy((request) =>
        request.action === 'BatchWriteItem' ? WireFault.internalError : undefined,
      );

      const response = await h.invoke(await h.receive('normal'));

      expect(response.batchItemFailures).toEqual([]);
      expect(runs).toEqual([2]);
      const [dead] = await h.deadLetters();
      expect(attr(dead, 'tierq-reason')).toBe('infrastructure-error');
      expect(attr(dead, 'tierq-error')).toMatch(/^could not record the task state/);
      expect(dead?.MessageAttributes?.['tierq-attempts']?.StringValue).toBe('1');
    } finally {
      await proxy.stop();
    }
  });
});

describe('a contended rate limiter', () => {
  it('defers the records of its task instead of failing them', async () => {
    const runs: number[] = [];
    const limited = defineTask({
      name: 'limited',
      schema: z.number(),
      rateLimit: { perSecond: 5, burst: 5 },
      handler: (n) => void runs.push(n),
    });
    const h = await consumerHarness({
      tasks: [limited],
      limiter: {
        acquire: async (taskName) => {
          throw new RateLimitedError({ taskName, retryAfterMs: 200 });
        },
      },
    });
    for (const n of [1, 2]) await h.send('low', { task: 'limited', payload: n });
    const event = await waitFor(async () => {
      const e = await h.receive('low', 10, 0);
      return e.Records.length === 2 ? e : undefined;
    });

    const response = await h.invoke(event);

    expect(response.batchItemFailures).toEqual([]);
    expect(runs).toEqual([]);
    expect((await h.depth('low')).delayed).toBe(2);
  });
});

describe('a message SQS redrives itself', () => {
  it('keeps the tier the producer sent it to, so a replay returns it there', async () => {
    const h = await consumerHarness({ tasks: [counted().task], maxReceiveCount: 1 });
    const queues = Object.fromEntries(TIERS.map((t) => [t, h.urlOf(t)]));
    const { region, endpoints } = inject('emulators');
    const producer = createProducer({
      region,
      endpoints,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      queues,
      table: h.config.tableName,
    });
    const { id } = await producer.enqueue('count', { n: 3 }, { priority: 'high' });
    // A consumer that crashes on it: received, never acknowledged, until SQS moves it to the DLQ.
    const { Messages = [] } = await sqsClient().send(
      new ReceiveMessageCommand({ QueueUrl: h.urlOf('high'), WaitTimeSeconds: 1 }),
    );
    await sqsClient().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: h.urlOf('high'),
        ReceiptHandle: Messages[0]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    await sleep(50);
    await sqsClient().send(new ReceiveMessageCommand({ QueueUrl: h.urlOf('high'), WaitTimeSeconds: 0 }));
    const dlqUrl = h.config.deadLetterQueueUrl;
    const [letter] = await waitFor(async () => {
      const letters = await peekDeadLetters({ sqs: sqsClient(), dlqUrl, waitTimeSeconds: 0 });
      return letters.length === 1 ? letters : undefined;
    });

    const replayed = await replayDeadLetters({ sqs: sqsClient(), dlqUrl, queues, defaultTier: 'low' });

    expect(letter).toMatchObject({ id, tier: 'high', reason: 'redriven-by-sqs' });
    expect(replayed).toEqual({ replayed: 1, skipped: 0, failed: 0 });
    await waitFor(async () => (await h.depth('high')).visible === 1, {
      message: 'the copy on the high tier',
    });
    expect((await h.depth('low')).visible).toBe(0);
  });
});
