/**
 * Where a replayed dead letter goes: the queue SQS says it came from, where SQS says so, else the
 * tier the letter carries, else the default. No network.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { describeDeadLetter, replayTier } from '../../../../shared/dlq/index.js';

const queues = {
  high: 'https://sqs.eu-west-1.amazonaws.com/123456789012/tierq-prod-HighQueue-a1',
  low: 'https://sqs.eu-west-1.amazonaws.com/123456789012/tierq-prod-LowQueue-b2',
};
const body = JSON.stringify({ v: 1, id: 'order-42', task: 'charge-card', payload: null });

function letter(attributes: Partial<Message>) {
  return describeDeadLetter({ MessageId: 'm-1', Body: body, ...attributes });
}

describe('replayTier', () => {
  it("prefers the queue SQS names in DeadLetterQueueSourceArn over the letter's tier attribute", () => {
    const redriven = letter({
      Attributes: { DeadLetterQueueSourceArn: 'arn:aws:sqs:eu-west-1:123456789012:tierq-prod-HighQueue-a1' },
      MessageAttributes: { 'tierq-tier': { DataType: 'String', StringValue: 'low' } },
    });

    expect(redriven.sourceQueueArn).toContain('HighQueue');
    expect(replayTier(redriven, queues, 'low')).toBe('high');
  });

  it('falls back to the tier attribute the producer set, then to the default tier', () => {
    const tagged = letter({
      MessageAttributes: { 'tierq-tier': { DataType: 'String', StringValue: 'high' } },
    });

    expect(replayTier(tagged, queues, 'low')).toBe('high');
    expect(replayTier(letter({}), queues, 'low')).toBe('low');
  });

  it('ignores a source queue that is none of the tiers', () => {
    const elsewhere = letter({ Attributes: { DeadLetterQueueSourceArn: 'arn:aws:sqs:eu-west-1:1:other' } });

    expect(replayTier(elsewhere, queues, 'low')).toBe('low');
  });
});
