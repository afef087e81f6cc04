import { describe, expect, it } from 'vitest';
import { connectionFromOutputs } from '../../shared/connection.js';
import { StackOutput, TASK_QUEUE_OUTPUT_PREFIX } from '../../shared/declaration.js';
import { synthStack } from '../helpers/stack.js';

describe('TierqStack outputs', () => {
  it('are the keys the declaration names, one per tier plus the fixed ones', () => {
    const { template } = synthStack();
    const keys = Object.keys(template.toJSON().Outputs as object).sort();
    const tiers = ['Critical', 'High', 'Normal', 'Low'].map((t) => `${StackOutput.queueUrlPrefix}${t}`);
    const fixed = Object.entries(StackOutput)
      .filter(([name]) => name !== 'queueUrlPrefix')
      .map(([, key]) => key);
    const own = keys.filter((k) => k.startsWith(TASK_QUEUE_OUTPUT_PREFIX));
    expect(own).toHaveLength(1);
    expect(keys.filter((k) => !own.includes(k))).toEqual([...tiers, ...fixed].sort());
  });

  it('give connectionFromOutputs every tier, in priority order, with the DLQ, table and metrics namespace', () => {
    const tiers = [
      { name: 'urgent', weight: 3 },
      { name: 'bulk-email', weight: 1 },
    ];
    const { template } = synthStack({}, { taskQueue: { tiers } });
    const outputs: Record<string, string> = {};
    // Deployed values are URLs and names; a placeholder naming the key shows which output fed what.
    // TierqStack's named outputs alone: the fallback for stacks without a queue's own output.
    for (const [key, output] of Object.entries(
      template.toJSON().Outputs as Record<string, { Value: unknown }>,
    )) {
      if (key.startsWith(TASK_QUEUE_OUTPUT_PREFIX)) continue;
      outputs[key] = typeof output.Value === 'string' ? output.Value : `value-of-${key}`;
    }
    expect(connectionFromOutputs(outputs, 'the test stack')).toEqual({
      queues: { urgent: 'value-of-QueueUrlUrgent', 'bulk-email': 'value-of-QueueUrlBulkEmail' },
      dlq: 'value-of-DeadLetterQueueUrl',
      table: 'value-of-TableName',
      metricsNamespace: 'tierq/tierq-dev/TaskQueue',
    });
  });

  it('names the output a stack lacks', () => {
    expect(() => connectionFromOutputs({ Tiers: 'high' }, 'stack X')).toThrow(
      'stack X has no output QueueUrl<high>; is it a tierq stack?',
    );
  });
});
