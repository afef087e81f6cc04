import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTask } from '../../shared/registry.js';
import { waitFor } from '../helpers/aws.js';
import { type ConsumerHarness, consumerHarness } from '../helpers/consumer-harness.js';

/**
 * Regression (found by the fuzz test, test/chaos/fuzz.test.ts): the consumer sent a batch's
 * dead letters and deferred copies in SendMessageBatch requests of 10, whatever their size. Six
 * bodies of 240 kB make one request of 1.4 MB, over SQS's batch limit: every send failed, every
 * receive, until SQS redrove the messages to the DLQ without a reason.
 */

const BIG = 240_000;
const accept = defineTask({ name: 'accept', schema: z.unknown(), handler: () => 'ok' });

async function receiveAll(h: ConsumerHarness, count: number): Promise<SQSEvent> {
  const event: SQSEvent = { Records: [] };
  await waitFor(
    async () => {
      event.Records.push(...(await h.receive('high', 10, 0)).Records);
      return event.Records.length >= count;
    },
    { message: `${count} messages in one batch` },
  );
  return event;
}

describe('the consumer with large messages', () => {
  it('dead-letters a batch of large invalid messages, each with its reason', async () => {
    const h = await consumerHarness({ tasks: [accept] });
    for (let i = 0; i < 6; i++) await h.send('high', { task: 'no-such-task', payload: 'x'.repeat(BIG) });

    const response = await h.invoke(await receiveAll(h, 6));

    expect(response.batchItemFailures).toEqual([]);
    const letters = [...(await h.deadLetters()), ...(await h.deadLetters())];
    expect(new Set(letters.map((l) => l.MessageId)).size).toBe(6);
    for (const letter of letters) {
      expect(letter.MessageAttributes?.['tierq-reason']?.StringValue).toBe('unknown-task');
      expect(letter.Body?.length).toBeGreaterThan(BIG);
    }
  });

  it('re-enqueues a batch of large tasks that are not due yet', async () => {
    const h = await consumerHarness({ tasks: [accept] });
    const runAt = new Date(Date.now() + 60_000).toISOString();
    for (let i = 0; i < 6; i++) await h.send('high', { task: 'accept', payload: 'x'.repeat(BIG), runAt });

    const response = await h.invoke(await receiveAll(h, 6));

    expect(response.batchItemFailures).toEqual([]);
    expect(await h.depth('high')).toEqual({ visible: 0, inFlight: 0, delayed: 6 });
  });
});
