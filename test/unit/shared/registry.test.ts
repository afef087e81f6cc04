/**
 * Task options are checked where they enter — `defineTask`, `TaskRegistry` and `createConsumer` —
 * and a bad one is a ConfigError naming the task and the option, never a task that misbehaves
 * later (deferred forever, or run twice because its lock looked expired).
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConsumerConfig } from '../../../shared/consumer/config.js';
import { createConsumer } from '../../../shared/consumer/consumer.js';
import { ConfigError } from '../../../shared/errors.js';
import { type AnyTask, defineTask, TaskRegistry } from '../../../shared/registry.js';
import { DynamoPausedTasks } from '../../../shared/stores/dynamo-pause-store.js';
import { DynamoRateLimiter } from '../../../shared/stores/dynamo-rate-limiter.js';
import { DynamoTaskStore } from '../../../shared/stores/dynamo-task-store.js';
import { consumerEnv } from '../../helpers/sqs-event.js';

const base = { name: 'charge-card', schema: z.unknown(), handler: () => 'ok' };

/** The error `fn` throws, for assertions on its class and message. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('defineTask', () => {
  it.each([
    ['a rate of 0 per second', { rateLimit: { perSecond: 0, burst: 5 } }, /rateLimit\.perSecond/],
    ['a burst below 1', { rateLimit: { perSecond: 5, burst: 0 } }, /rateLimit\.burst/],
    ['no attempt at all', { retry: { maxAttempts: 0 } }, /retry\.maxAttempts/],
    ['a negative base delay', { retry: { baseDelayMs: -1 } }, /retry\.baseDelayMs/],
    ['a cap beyond SQS’s 12 hours', { retry: { maxDelayMs: 13 * 3_600_000 } }, /retry\.maxDelayMs/],
    ['a timeout of 0', { timeoutMs: 0 }, /timeoutMs/],
    ['an unknown idempotency mode', { idempotency: { mode: 'sometimes' } }, /idempotency\.mode/],
    ['a fractional TTL', { idempotency: { mode: 'lock', ttlSeconds: 1.5 } }, /idempotency\.ttlSeconds/],
    [
      'a TTL shorter than the timeout, which would let a held lock look expired',
      { timeoutMs: 120_000, idempotency: { mode: 'lock', ttlSeconds: 60 } },
      /idempotency\.ttlSeconds .*timeoutMs/,
    ],
    ['no concurrent run per tenant', { concurrency: { perTenant: 0 } }, /concurrency\.perTenant/],
    ['a fractional concurrency per tenant', { concurrency: { perTenant: 1.5 } }, /concurrency\.perTenant/],
    ['more leases than one item holds', { concurrency: { perTenant: 1_001 } }, /concurrency\.perTenant/],
    [
      'a per-tenant rate of 0',
      { rateLimit: { perTenant: { perSecond: 0, burst: 1 } } },
      /rateLimit\.perTenant\.perSecond/,
    ],
    [
      'a per-tenant burst below 1',
      { rateLimit: { perSecond: 5, burst: 5, perTenant: { perSecond: 1, burst: 0 } } },
      /rateLimit\.perTenant\.burst/,
    ],
    ['a rate limit with nothing in it', { rateLimit: {} }, /rateLimit needs/],
  ])('rejects %s with a ConfigError naming the task and the option', (_, options, option) => {
    const error = thrown(() => defineTask({ ...base, ...options } as unknown as AnyTask));

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/task "charge-card"/);
    expect((error as Error).message).toMatch(option);
  });

  it('accepts per-tenant limits alone or beside a task-wide rate limit', () => {
    const perTenantOnly = { perTenant: { perSecond: 2, burst: 4 } };
    expect(defineTask({ ...base, concurrency: { perTenant: 3 }, rateLimit: perTenantOnly }).rateLimit).toBe(
      perTenantOnly,
    );
    const both = { perSecond: 50, burst: 100, perTenant: { perSecond: 2, burst: 4 } };
    expect(defineTask({ ...base, rateLimit: both }).rateLimit).toBe(both);
  });

  it('rejects a name outside [A-Za-z0-9._:-] with a ConfigError', () => {
    expect(() => defineTask({ ...base, name: 'charge card' })).toThrow(ConfigError);
  });

  it('accepts a TTL at least as long as the timeout, and options left to their defaults', () => {
    const task = defineTask({
      ...base,
      timeoutMs: 60_000,
      rateLimit: { perSecond: 0.5, burst: 1 },
      retry: { maxAttempts: 3 },
      idempotency: { mode: 'once', ttlSeconds: 60 },
    });

    expect(task.name).toBe('charge-card');
  });
});

describe('TaskRegistry', () => {
  it('rejects a task registered twice with a ConfigError', () => {
    const task = defineTask(base);

    expect(() => new TaskRegistry([task, task])).toThrow(ConfigError);
  });
});

describe('createConsumer', () => {
  it('rejects a task whose options were never checked, naming it and the option', () => {
    // A definition written as a plain object, without defineTask.
    const unchecked: AnyTask = { ...base, name: 'send-receipt', rateLimit: { perSecond: 0, burst: 1 } };
    const dynamodb = new DynamoDBClient({ region: 'us-east-1' });
    const config = loadConsumerConfig(consumerEnv());

    const error = thrown(() =>
      createConsumer({
        config,
        registry: new TaskRegistry([unchecked]),
        sqs: new SQSClient({ region: 'us-east-1' }),
        store: new DynamoTaskStore(dynamodb, config.tableName),
        limiter: new DynamoRateLimiter(dynamodb, config.tableName),
        pauses: new DynamoPausedTasks(dynamodb, config.tableName),
        metrics: new Metrics({ namespace: 'tierq-test' }),
        now: Date.now,
        maxHopSeconds: 900,
      }),
    );

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/task "send-receipt": rateLimit\.perSecond/);
  });
});
