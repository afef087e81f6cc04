import { describe, expect, it } from 'vitest';
import { loadConsumerConfig, queueNameOf, tierOfSource } from '../../../../shared/consumer/config.js';
import { ConfigError } from '../../../../shared/errors.js';
import { consumerEnv, TEST_QUEUE_ARN } from '../../../helpers/sqs-event.js';

describe('loadConsumerConfig', () => {
  it('reads the tiers in priority order with their queue URLs', () => {
    const config = loadConsumerConfig(consumerEnv());
    expect(config.tiers.map((t) => t.name)).toEqual(['critical', 'high', 'normal', 'low']);
    expect(config.maxReceiveCount).toBe(10);
    expect(config.tableName).toBe('tierq-test-table');
  });

  it('names the missing variable', () => {
    const env = consumerEnv();
    delete env.TIERQ_QUEUE_URL_HIGH;
    expect(() => loadConsumerConfig(env)).toThrow(ConfigError);
    expect(() => loadConsumerConfig(env)).toThrow(/TIERQ_QUEUE_URL_HIGH/);
  });

  it('rejects a malformed receive count', () => {
    expect(() => loadConsumerConfig({ ...consumerEnv(), TIERQ_MAX_RECEIVE_COUNT: 'ten' })).toThrow(
      /TIERQ_MAX_RECEIVE_COUNT/,
    );
  });
});

describe('tierOfSource', () => {
  it('maps an event source ARN to its tier by queue name', () => {
    const { tiers } = loadConsumerConfig(consumerEnv());
    expect(tierOfSource(tiers, TEST_QUEUE_ARN('high'))).toBe('high');
    expect(tierOfSource(tiers, 'arn:aws:sqs:us-east-1:1:other')).toBeUndefined();
    expect(queueNameOf('http://127.0.0.1:4566/000000000000/q-1')).toBe('q-1');
  });
});
