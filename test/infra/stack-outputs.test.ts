import { describe, expect, it } from 'vitest';
import { OUTPUTS } from '../../infra/tierq-stack.js';
import { connectionFromOutputs, StackOutput } from '../../shared/connection.js';
import { synthStack } from '../helpers/stack.js';

describe('TierqStack outputs', () => {
  it('name the same keys the producer and CLI read', () => {
    expect(StackOutput).toEqual({
      tiers: OUTPUTS.tiers,
      dlq: OUTPUTS.deadLetterQueueUrl,
      table: OUTPUTS.tableName,
      queuePrefix: OUTPUTS.queueUrlPrefix,
    });
  });

  it('give connectionFromOutputs every tier, in priority order, with the DLQ and table', () => {
    const tiers = [
      { name: 'urgent', weight: 3 },
      { name: 'bulk-email', weight: 1 },
    ];
    const { template } = synthStack({}, { taskQueue: { tiers } });
    const outputs: Record<string, string> = {};
    // Deployed values are URLs and names; a placeholder naming the key shows which output fed what.
    for (const [key, output] of Object.entries(
      template.toJSON().Outputs as Record<string, { Value: unknown }>,
    )) {
      outputs[key] = typeof output.Value === 'string' ? output.Value : `value-of-${key}`;
    }
    expect(connectionFromOutputs(outputs, 'the test stack')).toEqual({
      queues: { urgent: 'value-of-QueueUrlUrgent', 'bulk-email': 'value-of-QueueUrlBulkEmail' },
      dlq: 'value-of-DeadLetterQueueUrl',
      table: 'value-of-TableName',
    });
  });

  it('names the output a stack lacks', () => {
    expect(() => connectionFromOutputs({ Tiers: 'high' }, 'stack X')).toThrow(
      'stack X has no output QueueUrl<high>; is it a tierq stack?',
    );
  });
});
