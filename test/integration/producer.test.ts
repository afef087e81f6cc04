import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { localClientConfig } from '../../local/emulators.js';
import { parseEnvelope, type TaskEnvelope } from '../../shared/contract.js';
import { InvalidMessageError, MessageTooLargeError } from '../../shared/errors.js';
import { createProducer, type Producer } from '../../shared/producer/producer.js';
import { defineTask } from '../../shared/registry.js';
import { defineContract } from '../../shared/task-contract.js';
import { createTestQueue, createTestTable, sqsClient, waitFor } from '../helpers/aws.js';
import { type DeclaredAccess, startDeclaredAccess } from '../helpers/declared-access.js';

const TIERS = ['critical', 'normal', 'low'] as const;

let access: DeclaredAccess;
// The producer runs as a principal holding exactly the producer's declared access (IAM enforced).
beforeAll(async () => {
  access = await startDeclaredAccess();
});
afterAll(async () => {
  await access?.stop();
});

/**
 * A producer on fresh queues (with `attributes`, e.g. a smaller MaximumMessageSize) and table,
 * with a client that records every SQS command sent.
 */
async function setup(attributes: Record<string, string> = {}) {
  const queues = Object.fromEntries(
    await Promise.all(
      TIERS.map(async (tier) => [tier, (await createTestQueue({ prefix: `p-${tier}`, attributes })).url]),
    ),
  ) as Record<(typeof TIERS)[number], string>;
  const table = await createTestTable('producer');
  const { region } = inject('emulators');
  const keys = await access.grant('producer', { queues: Object.values(queues), dlq: queues.low, table });
  const producerSqs = new SQSClient({
    ...localClientConfig(access.endpoints.sqs),
    region,
    credentials: keys,
  });
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  producerSqs.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: context.commandName as string, input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  const producer: Producer = createProducer({
    region,
    queues,
    table,
    sqs: producerSqs,
    dynamodb: access.clients(keys).dynamodb,
  });
  // The test looks at the queues as the account's administrator; the producer only sends.
  return { producer, queues, sqs: sqsClient(), sent };
}

/** Receives until `count` messages have arrived (each hidden for 60 s so none repeats). */
async function receiveAll(sqs: SQSClient, url: string, count: number): Promise<Message[]> {
  const seen: Message[] = [];
  await waitFor(
    async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
      );
      seen.push(...Messages);
      return seen.length >= count;
    },
    { timeoutMs: 10_000, message: `${count} messages on ${url}` },
  );
  return seen;
}

async function depth(sqs: SQSClient, url: string) {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
  };
}

function envelopeOf(message: Message | undefined): TaskEnvelope {
  const result = parseEnvelope(message?.Body ?? '');
  if (result.ok) return result.envelope;
  throw result.error;
}

const echo = defineTask({ name: 'echo', schema: z.object({ n: z.number() }), handler: ({ n }) => n });

describe('producer.enqueue', () => {
  it('sends a v1 envelope that a consumer accepts', async () => {
    const { producer, queues, sqs } = await setup();
    const result = await producer.enqueue(echo, { n: 7 }, { idempotencyKey: 'order-7' });
    expect(result.status).toBe('sent');
    const [message] = await receiveAll(sqs, queues.normal, 1);
    const envelope = envelopeOf(message);
    expect(envelope).toMatchObject({
      v: 1,
      id: result.id,
      task: 'echo',
      payload: { n: 7 },
      idempotencyKey: 'order-7',
    });
    expect(Date.now() - Date.parse(String(envelope.enqueuedAt))).toBeLessThan(10_000);
  });

  it('routes each priority to its tier queue', async () => {
    const { producer, queues, sqs } = await setup();
    const sent = await producer.enqueue('echo', { n: 1 }, { priority: 'critical', id: 'to-critical' });
    await producer.enqueue('echo', { n: 2 }, { priority: 'low', id: 'to-low' });
    expect(sent).toEqual({ id: 'to-critical', status: 'sent' });
    expect(envelopeOf((await receiveAll(sqs, queues.critical, 1))[0]).id).toBe('to-critical');
    expect(envelopeOf((await receiveAll(sqs, queues.low, 1))[0]).id).toBe('to-low');
    const unknown = 'unknown priority "urgent"; the tiers are: critical, normal, low';
    await expect(producer.enqueue('echo', {}, { priority: 'urgent' })).rejects.toThrow(unknown);
  });

  it('delays a message with DelaySeconds', async () => {
    const { producer, queues, sqs } = await setup();
    await producer.enqueue('echo', { n: 1 }, { delay: 60_000 });
    expect(await waitFor(async () => (await depth(sqs, queues.normal)).delayed === 1)).toBe(true);
    expect((await depth(sqs, queues.normal)).visible).toBe(0);
  });

  it('carries a runAt beyond 15 minutes in the body, held by SQS for at most 15', async () => {
    const { producer, queues, sqs, sent } = await setup();
    const runAt = new Date(Date.now() + 2 * 3_600_000);
    await producer.enqueue('echo', { n: 1 }, { runAt, priority: 'low' });
    const [send] = sent;
    expect(send?.command).toBe('SendMessageCommand');
    expect(envelopeOf({ Body: send?.input.MessageBody as string }).runAt).toBe(runAt.toISOString());
    expect(send?.input.DelaySeconds).toBe(900);
    expect(await waitFor(async () => (await depth(sqs, queues.low)).delayed === 1)).toBe(true);
  });

  it("follows its queue's MaximumMessageSize, read once per queue and only for a large message", async () => {
    const { producer, sent } = await setup({ MaximumMessageSize: '262144' });
    await producer.enqueue('echo', { n: 1 }, { priority: 'critical' });
    expect(sent.map((s) => s.command)).toEqual(['SendMessageCommand']);
    const attempt = producer.enqueue('echo', { blob: 'x'.repeat(262_144) }, { priority: 'critical' });
    await expect(attempt).rejects.toBeInstanceOf(MessageTooLargeError);
    await expect(attempt).rejects.toThrow(
      /is 262\d{3} bytes with the tier attribute and the bookkeeping .*, over its queue's limit of 262144 bytes/,
    );
    await producer.enqueue('echo', { blob: 'x'.repeat(200_000) }, { priority: 'critical' });
    await expect(
      producer.enqueue('echo', { blob: 'x'.repeat(300_000) }, { priority: 'critical' }),
    ).rejects.toThrow(MessageTooLargeError);
    expect(sent.map((s) => s.command)).toEqual([
      'SendMessageCommand',
      'GetQueueAttributesCommand',
      'SendMessageCommand',
    ]);
    expect(sent[1]?.input.AttributeNames).toEqual(['MaximumMessageSize']);
  });

  it('sends up to the 1 MiB of a default queue and names that limit beyond it', async () => {
    const { producer, queues, sqs, sent } = await setup();
    await producer.enqueue('echo', { blob: 'x'.repeat(1_000_000) }, { priority: 'low' });
    const [message] = await receiveAll(sqs, queues.low, 1);
    expect(message?.Body?.length).toBeGreaterThan(1_000_000);
    const attempt = producer.enqueue('echo', { blob: 'x'.repeat(1_048_576) }, { priority: 'low' });
    await expect(attempt).rejects.toThrow(/is 1048\d{3} bytes .*, over its queue's limit of 1048576 bytes/);
    expect(sent.filter((s) => s.command === 'SendMessageCommand')).toHaveLength(1);
  });
});

describe('producer.enqueue with dedup', () => {
  it('sends once within the window and returns the first id', async () => {
    const { producer, queues, sqs } = await setup();
    const dedup = { key: 'order-42', windowSeconds: 60 };
    const first = await producer.enqueue('echo', { n: 1 }, { dedup });
    const second = await producer.enqueue('echo', { n: 2 }, { dedup });
    expect(first.status).toBe('sent');
    expect(second).toEqual({ id: first.id, status: 'deduplicated', dedupOf: first.id });
    await receiveAll(sqs, queues.normal, 1);
    expect(await depth(sqs, queues.normal)).toEqual({ visible: 0, delayed: 0 });
  });

  it('sends again once the window has passed', async () => {
    const { producer, queues, sqs } = await setup();
    const dedup = { key: 'short', windowSeconds: 1 };
    const first = await producer.enqueue('echo', { n: 1 }, { dedup });
    expect((await producer.enqueue('echo', { n: 1 }, { dedup })).status).toBe('deduplicated');
    const again = await waitFor(
      async () => {
        const result = await producer.enqueue('echo', { n: 2 }, { dedup });
        return result.status === 'sent' && result;
      },
      { timeoutMs: 5_000, intervalMs: 200, message: 'the dedup window to pass' },
    );
    expect(again.id).not.toBe(first.id);
    const ids = (await receiveAll(sqs, queues.normal, 2)).map((m) => envelopeOf(m).id);
    expect(ids.sort()).toEqual([first.id, again.id].sort());
  });
});

describe('producer.enqueueMany', () => {
  it('sends 35 tasks in at most 4 requests, reporting results in input order', async () => {
    const { producer, queues, sqs, sent } = await setup();
    const items = Array.from({ length: 35 }, (_, n) => ({
      task: echo,
      payload: { n },
      options: { id: `item-${n}` },
    }));
    const results = await producer.enqueueMany(items);
    expect(results).toEqual(items.map((item) => ({ id: item.options.id, status: 'sent' })));
    expect(sent.length).toBeLessThanOrEqual(4);
    expect(new Set(sent.map((s) => s.command))).toEqual(new Set(['SendMessageBatchCommand']));
    const received = await receiveAll(sqs, queues.normal, 35);
    expect(received.map((m) => envelopeOf(m).id).sort()).toEqual(items.map((i) => i.options.id).sort());
  });

  it('reports a bad item as failed, sends the rest, and deduplicates repeated keys', async () => {
    const { producer, queues, sqs } = await setup({ MaximumMessageSize: '262144' });
    const dedup = { key: 'batch-key', windowSeconds: 60 };
    const results = await producer.enqueueMany([
      { task: 'echo', payload: 1, options: { priority: 'critical', dedup } },
      { task: 'echo', payload: 2, options: { priority: 'urgent' } },
      { task: 'echo', payload: 3, options: { priority: 'critical', dedup } },
      { task: 'echo', payload: 'x'.repeat(262_144), options: { priority: 'critical' } },
      { task: 'echo', payload: 5, options: { priority: 'critical', id: 'fifth' } },
    ]);
    const first = results[0];
    expect(first?.status).toBe('sent');
    expect(results[1]).toMatchObject({ status: 'failed', error: { name: 'UnknownTierError' } });
    expect(results[2]).toEqual({ id: first?.id, status: 'deduplicated', dedupOf: first?.id });
    expect(results[3]).toMatchObject({ status: 'failed', error: { name: 'MessageTooLargeError' } });
    expect(results[4]).toEqual({ id: 'fifth', status: 'sent' });
    expect(await receiveAll(sqs, queues.critical, 2)).toHaveLength(2);
    const again = await producer.enqueueMany([{ task: 'echo', payload: 6, options: { dedup } }]);
    expect(again).toEqual([{ id: first?.id, status: 'deduplicated', dedupOf: first?.id }]);
  });
});

describe('producer.enqueue with task contracts', () => {
  const chargeOrder = defineContract({
    name: 'charge-order',
    schema: v.object({ orderId: v.string(), cents: v.pipe(v.number(), v.integer(), v.minValue(1)) }),
  });

  it('checks the payload against the contract before sending anything', async () => {
    const { producer, sent } = await setup();
    const invalid = producer.enqueue(chargeOrder, { orderId: 'o-1', cents: 0 }, { priority: 'low' });
    await expect(invalid).rejects.toBeInstanceOf(InvalidMessageError);
    await expect(invalid).rejects.toThrow(/payload does not match task "charge-order": cents:/);
    expect(sent).toEqual([]);
    await producer.enqueue(chargeOrder, { orderId: 'o-1', cents: 4_200 }, { priority: 'low' });
    expect(sent.map((s) => s.command)).toEqual(['SendMessageCommand']);
  });

  it('sends unchecked when asked, leaving the verdict to the consumer', async () => {
    const { producer, queues, sqs } = await setup();
    await producer.enqueue(chargeOrder, { orderId: 'o-2', cents: -1 }, { priority: 'low', validate: false });
    const [message] = await receiveAll(sqs, queues.low, 1);
    expect(envelopeOf(message as Message).payload).toEqual({ orderId: 'o-2', cents: -1 });
  });

  it('fails only the items of a batch whose payload the contract rejects', async () => {
    const { producer, queues, sqs } = await setup();
    const results = await producer.enqueueMany([
      { task: chargeOrder, payload: { orderId: 'ok', cents: 1 }, options: { priority: 'critical' } },
      { task: chargeOrder, payload: { orderId: 'bad' }, options: { priority: 'critical' } },
    ]);
    expect(results[0]?.status).toBe('sent');
    expect(results[1]).toMatchObject({ status: 'failed', error: { name: 'InvalidMessageError' } });
    expect(await receiveAll(sqs, queues.critical, 1)).toHaveLength(1);
  });

  it('is typed by the contract and the tier names (checked by tsc)', () => {
    const typed = async (producer: Producer<'critical' | 'low'>) => {
      // @ts-expect-error cents must be a number
      await producer.enqueue(chargeOrder, { orderId: 'o', cents: 'many' });
      // @ts-expect-error the producer has no tier named urgent
      await producer.enqueue(chargeOrder, { orderId: 'o', cents: 1 }, { priority: 'urgent' });
      await producer.enqueue(chargeOrder, { orderId: 'o', cents: 1 }, { priority: 'critical' });
    };
    expect(typeof typed).toBe('function');
  });
});
