import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createTestQueue, sqsClient } from '../helpers/aws.js';

/**
 * SQS fair queues as the local emulator layer adds them to fauxqs (`local/fair-queues.ts`): a
 * standard queue takes a `MessageGroupId`, and a group with many messages in flight does not
 * hold back another group's. Against another endpoint (LocalStack, `TIERQ_TEST_ENDPOINT`) only
 * that the parameter is accepted is checked: the order is SQS's own business there.
 */
const emulated = process.env.TIERQ_TEST_ENDPOINT === undefined;

async function sendGrouped(url: string, group: string | undefined, n: number): Promise<void> {
  for (let i = 0; i < n; i += 10) {
    const entries = Array.from({ length: Math.min(10, n - i) }, (_, j) => ({
      Id: String(j),
      MessageBody: `${group ?? 'none'}-${i + j}`,
      ...(group === undefined ? {} : { MessageGroupId: group }),
    }));
    const { Failed = [] } = await sqsClient().send(
      new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }),
    );
    expect(Failed).toEqual([]);
  }
}

async function receive(url: string, max = 10): Promise<string[]> {
  const { Messages = [] } = await sqsClient().send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 60,
    }),
  );
  return Messages.map((m) => m.Body as string);
}

describe('fair queues (MessageGroupId on a standard queue)', () => {
  it('accepts a MessageGroupId on a standard queue, as SQS does since 2025', async () => {
    const { url } = await createTestQueue({ prefix: 'fair' });
    const sent = await sqsClient().send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'a', MessageGroupId: `tenant-${randomUUID()}` }),
    );
    expect(sent.MessageId).toBeTruthy();
    expect(await receive(url)).toEqual(['a']);
  });

  it.runIf(emulated)(
    'delivers a quiet group before a backlogged group that has messages in flight',
    async () => {
      const { url } = await createTestQueue({ prefix: 'fair' });
      await sendGrouped(url, 'noisy', 40);
      const first = await receive(url); // 10 of noisy now in flight
      await sendGrouped(url, 'quiet', 3);

      const second = await receive(url);

      expect(first).toEqual(Array.from({ length: 10 }, (_, i) => `noisy-${i}`));
      expect(second.slice(0, 3)).toEqual(['quiet-0', 'quiet-1', 'quiet-2']);
      expect(second.slice(3)).toEqual(Array.from({ length: 7 }, (_, i) => `noisy-${10 + i}`));
    },
  );

  it.runIf(emulated)(
    'shares one receive between groups by what each has in flight, oldest first',
    async () => {
      const { url } = await createTestQueue({ prefix: 'fair' });
      await sendGrouped(url, 'noisy', 40);
      await sendGrouped(url, 'quiet', 3);

      const first = await receive(url);

      expect(first.filter((b) => b.startsWith('quiet'))).toEqual(['quiet-0', 'quiet-1', 'quiet-2']);
      expect(first.filter((b) => b.startsWith('noisy'))).toEqual(
        Array.from({ length: 7 }, (_, i) => `noisy-${i}`),
      );
    },
  );
  it.runIf(emulated)('keeps a queue without groups in order', async () => {
    const { url } = await createTestQueue({ prefix: 'fair' });
    await sendGrouped(url, undefined, 15);

    expect(await receive(url)).toEqual(Array.from({ length: 10 }, (_, i) => `none-${i}`));
    expect(await receive(url)).toEqual(Array.from({ length: 5 }, (_, i) => `none-${10 + i}`));
  });
});
