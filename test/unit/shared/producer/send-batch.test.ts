import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../../../../shared/producer/message.js';
import { BatchEntryError, sendAll } from '../../../../shared/producer/send-batch.js';

const message = (n: number, queueUrl = 'q-normal'): OutgoingMessage => ({
  id: `m-${n}`,
  task: 'echo',
  tier: 'normal',
  queueUrl,
  body: `{"n":${n}}`,
  attributes: {},
  bytes: 8,
  neededBytes: 100,
  delaySeconds: 0,
});

type Reply = (
  entryIds: string[],
) => { Failed?: { Id: string; Code: string; SenderFault: boolean }[] } | Error;

/** An SQS client stand-in: records each batch's entry ids and answers with `reply`. */
function fakeSqs(reply: Reply) {
  const requests: { queueUrl: string; ids: string[] }[] = [];
  const client = {
    send: async (command: SendMessageBatchCommand) => {
      const ids = (command.input.Entries ?? []).map((e) => e.Id as string);
      requests.push({ queueUrl: command.input.QueueUrl as string, ids });
      const answer = reply(ids);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as SQSClient;
  return { client, requests };
}

const fast = { attempts: 3, baseDelayMs: 1 };

describe('sendAll', () => {
  it('packs each queue separately and reports success for every message', async () => {
    const { client, requests } = fakeSqs(() => ({}));
    const messages = [...Array.from({ length: 12 }, (_, n) => message(n)), message(12, 'q-low')];
    const errors = await sendAll(client, messages, fast);
    expect(errors).toEqual(messages.map(() => undefined));
    expect(requests.map((r) => [r.queueUrl, r.ids.length])).toEqual([
      ['q-normal', 10],
      ['q-normal', 2],
      ['q-low', 1],
    ]);
  });

  it('retries only the entries that failed for a server-side reason', async () => {
    let calls = 0;
    const { client, requests } = fakeSqs(() => {
      calls++;
      return calls === 1
        ? {
            Failed: [
              { Id: '1', Code: 'InternalError', SenderFault: false },
              { Id: '2', Code: 'InvalidParameterValue', SenderFault: true },
            ],
          }
        : {};
    });
    const errors = await sendAll(client, [message(0), message(1), message(2)], fast);
    expect(requests.map((r) => r.ids)).toEqual([['0', '1', '2'], ['1']]);
    expect(errors[0]).toBeUndefined();
    expect(errors[1]).toBeUndefined();
    expect(errors[2]).toBeInstanceOf(BatchEntryError);
    expect(errors[2]?.message).toContain('InvalidParameterValue');
  });

  it('gives up after the configured attempts, reporting the last error without throwing', async () => {
    const { client, requests } = fakeSqs(() => new Error('connection reset'));
    const errors = await sendAll(client, [message(0)], fast);
    expect(requests).toHaveLength(3);
    expect(errors[0]?.message).toContain('connection reset');
    expect(errors[0]?.cause).toBeInstanceOf(Error);
  });
});
