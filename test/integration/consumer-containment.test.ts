/**
 * No record can sink its batch: whatever one record does — a body whose re-sent copy would not
 * fit its queue, a schema that throws, a task that throws something unprintable, a body too
 * large for a dead letter's attributes — the others finish, and the record itself ends in the
 * DLQ with a reason or is left for SQS to redeliver on its own. Against fauxqs and DynamoDB Local.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SQS_MAX_MESSAGE_BYTES } from '../../shared/declaration.js';
import { PermanentTaskError } from '../../shared/errors.js';
import { defineTask } from '../../shared/registry.js';
import { waitFor } from '../helpers/aws.js';
import { consumerHarness } from '../helpers/consumer-harness.js';

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

/** A v1 body of exactly `bytes` bytes, padded in its payload's `pad` string. */
function bodyOf(bytes: number, fields: Record<string, unknown>): string {
  const bare = JSON.stringify({ v: 1, ...fields, payload: { n: 0, pad: '' } });
  const body = JSON.stringify({ v: 1, ...fields, payload: { n: 0, pad: 'x'.repeat(bytes - bare.length) } });
  expect(Buffer.byteLength(body)).toBe(bytes);
  return body;
}

/** Receives until `count` records of a tier arrive together, as one batch. */
async function batchOf(h: Awaited<ReturnType<typeof consumerHarness>>, tier: string, count: number) {
  return waitFor(async () => {
    const event = await h.receive(tier, 10, 0);
    return event.Records.length === count ? event : undefined;
  });
}

describe('the consumer contains every record', () => {
  it('dead-letters at once a record whose re-sent copy would exceed the queue, and runs its batch-mates', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({ tasks: [task] });
    // 300 KB on the wire, but each 1e20 comes back 21 characters long when the copy is serialized.
    const numbers = Array.from({ length: 60_000 }, () => '1e20').join(',');
    const runAt = new Date(Date.now() + 60_000).toISOString();
    const grows = `{"v":1,"id":"grows","task":"count","runAt":"${runAt}","payload":{"n":1,"pad":[${numbers}]}}`;
    await h.send('normal', grows);
    await h.send('normal', { id: 'fine', task: 'count', payload: { n: 2 } });

    const response = await h.invoke(await batchOf(h, 'normal', 2));

    expect(response.batchItemFailures).toEqual([]);
    expect(runs).toEqual([2]);
    const [dead] = await h.deadLetters();
    expect(attr(dead, 'tierq-reason')).toBe('invalid-envelope');
    expect(attr(dead, 'tierq-id')).toBe('grows');
    expect(attr(dead, 'tierq-error')).toMatch(/re-sent copy .* bytes, over the queue's limit of 1048576/);
  });

  it('dead-letters a record whose schema throws instead of returning issues, and runs its batch-mates', async () => {
    const { task, runs } = counted();
    const parsed = defineTask({
      name: 'parse',
      schema: z.string().transform((text) => JSON.parse(text) as unknown),
      handler: () => 'parsed',
    });
    const h = await consumerHarness({ tasks: [task, parsed] });
    await h.send('high', { id: 'throws', task: 'parse', payload: 'not json' });
    await h.send('high', { id: 'fine', task: 'count', payload: { n: 3 } });

    const response = await h.invoke(await batchOf(h, 'high', 2));

    expect(response.batchItemFailures).toEqual([]);
    expect(runs).toEqual([3]);
    const [dead] = await h.deadLetters();
    expect(attr(dead, 'tierq-reason')).toBe('invalid-payload');
    expect(attr(dead, 'tierq-error')).toMatch(/schema of task "parse" threw: SyntaxError/);
  });

  it('fails alone a task that throws a value no one can print, and acknowledges its batch-mates', async () => {
    const { task, runs } = counted();
    const odd = defineTask({
      name: 'odd',
      schema: z.null(),
      handler: () => {
        throw Object.create(null);
      },
    });
    const h = await consumerHarness({ tasks: [task, odd] });
    await h.send('low', { id: 'odd', task: 'odd', payload: null });
    await h.send('low', { id: 'fine', task: 'count', payload: { n: 4 } });
    const event = await batchOf(h, 'low', 2);

    const response = await h.invoke(event);

    const odd1 = event.Records.find((r) => JSON.parse(r.body).id === 'odd');
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: odd1?.messageId }]);
    expect(runs).toEqual([4]);
    expect(await h.taskState('odd')).toMatchObject({
      status: 'retrying',
      error: '[unprintable object]',
    });
  });

  it('dead-letters a valid body near 1 MiB with its reason and tier, trimming what does not fit', async () => {
    const reject = defineTask({
      name: 'reject',
      schema: z.object({ n: z.number(), pad: z.string() }),
      handler: () => {
        throw new PermanentTaskError(`no such customer ${'!'.repeat(900)}`);
      },
    });
    const h = await consumerHarness({ tasks: [reject] });
    // Room for tierq's copy (its bookkeeping), not for every attribute of a dead letter.
    await h.send('critical', bodyOf(SQS_MAX_MESSAGE_BYTES - 200, { id: 'big', task: 'reject' }));

    const response = await h.invoke(await h.receive('critical'));

    expect(response.batchItemFailures).toEqual([]);
    const [dead] = await h.deadLetters();
    expect(dead?.Body?.length).toBe(SQS_MAX_MESSAGE_BYTES - 200);
    expect(attr(dead, 'tierq-reason')).toBe('permanent-error');
    expect(attr(dead, 'tierq-tier')).toBe('critical');
    expect(attr(dead, 'tierq-error')?.length ?? 0).toBeLessThan(200);
  });

  it('dead-letters a body that fits the queue but leaves no room for tierq, keeping reason and tier', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({ tasks: [task] });
    await h.send('normal', bodyOf(SQS_MAX_MESSAGE_BYTES - 60, { id: 'no-room', task: 'count' }));

    const response = await h.invoke(await h.receive('normal'));

    expect(response.batchItemFailures).toEqual([]);
    expect(runs).toEqual([]);
    const [dead] = await h.deadLetters();
    expect(attr(dead, 'tierq-reason')).toBe('invalid-envelope');
    expect(attr(dead, 'tierq-tier')).toBe('normal');
  });

  it('acknowledges what it settled when a step throws anyway, and leaves the rest to SQS', async () => {
    const { task, runs } = counted();
    const h = await consumerHarness({
      tasks: [task],
      // A store that breaks its contract: it throws instead of returning a rejected promise.
      wrapStore: (store) =>
        Object.assign(Object.create(store) as typeof store, {
          completeMany: () => {
            throw new TypeError('store bug');
          },
        }),
    });
    const later = new Date(Date.now() + 60_000).toISOString();
    await h.send('normal', 'not json');
    await h.send('normal', { id: 'later', task: 'count', payload: { n: 1 }, runAt: later });
    await h.send('normal', { id: 'now', task: 'count', payload: { n: 2 } });
    const event = await batchOf(h, 'normal', 3);

    const response = await h.invoke(event);

    const now = event.Records.find((r) => r.body.includes('"id":"now"'));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: now?.messageId }]);
    expect(runs).toEqual([2]);
    expect(await h.deadLetters()).toHaveLength(1);
    expect((await h.depth('normal')).delayed).toBe(1);
  });
});
