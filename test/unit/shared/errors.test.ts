import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  InvalidMessageCode,
  InvalidMessageError,
  PermanentTaskError,
  QueueFullError,
  RateLimitedError,
  StoreError,
  TaskTimeoutError,
  TierqError,
} from '../../../shared/errors.js';

describe('TierqError hierarchy', () => {
  const cases: Array<[string, TierqError]> = [
    ['TierqError', new TierqError('base')],
    ['PermanentTaskError', new PermanentTaskError('user does not exist')],
    ['TaskTimeoutError', new TaskTimeoutError({ taskName: 'send-email', timeoutMs: 30_000 })],
    ['InvalidMessageError', new InvalidMessageError({ code: InvalidMessageCode.InvalidJson, reason: 'bad' })],
    ['IdempotencyConflictError', new IdempotencyConflictError({ key: 'k' })],
    ['IdempotencyInProgressError', new IdempotencyInProgressError({ key: 'k', lockExpiresAt: 0 })],
    ['RateLimitedError', new RateLimitedError({ taskName: 't', retryAfterMs: 250 })],
    ['QueueFullError', new QueueFullError({ tier: 'bulk', depth: 10, maxDepth: 10 })],
    ['ConfigError', new ConfigError('TIERQ_TABLE is not set')],
    ['StoreError', new StoreError({ operation: 'idempotency.acquire' })],
  ];

  it.each(cases)('%s is a TierqError and an Error, with its own name', (name, error) => {
    expect(error).toBeInstanceOf(TierqError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.stack).toContain(name);
  });

  it('keeps the cause it was given', () => {
    const cause = new Error('socket hang up');

    const error = new PermanentTaskError('gave up', { cause });

    expect(error.cause).toBe(cause);
  });

  it('lets callers tell a permanent failure from a retryable one with instanceof', () => {
    const errors: unknown[] = [
      new PermanentTaskError('no'),
      new TaskTimeoutError({ taskName: 't', timeoutMs: 1 }),
    ];

    const retryable = errors.filter((error) => !(error instanceof PermanentTaskError));

    expect(retryable).toHaveLength(1);
  });

  it('carries the domain fields and says them in the message', () => {
    const timeout = new TaskTimeoutError({ taskName: 'send-email', timeoutMs: 30_000 });
    const full = new QueueFullError({ tier: 'bulk', depth: 101, maxDepth: 100 });
    const limited = new RateLimitedError({ taskName: 'api', retryAfterMs: 250 });
    const inProgress = new IdempotencyInProgressError({ key: 'order-42', lockExpiresAt: 1_700_000_000_000 });
    const conflict = new IdempotencyConflictError({ key: 'order-42' });

    expect(timeout).toMatchObject({ taskName: 'send-email', timeoutMs: 30_000 });
    expect(timeout.message).toBe('task "send-email" timed out after 30000 ms');
    expect(full).toMatchObject({ tier: 'bulk', depth: 101, maxDepth: 100 });
    expect(full.message).toBe('tier "bulk" is full: 101 messages, maximum 100');
    expect(limited).toMatchObject({ taskName: 'api', retryAfterMs: 250 });
    expect(inProgress).toMatchObject({ key: 'order-42', lockExpiresAt: 1_700_000_000_000 });
    expect(inProgress.message).toContain('2023-11-14T22:13:20.000Z');
    expect(conflict.key).toBe('order-42');
  });

  it('gives an invalid message a code and a readable reason', () => {
    const error = new InvalidMessageError({ code: InvalidMessageCode.UnknownTask, reason: 'no task "x"' });

    expect(error.code).toBe('unknown-task');
    expect(error.reason).toBe('no task "x"');
    expect(error.message).toBe('no task "x"');
  });

  it('names the failed store operation and the SDK error it wraps', () => {
    const cause = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

    const error = new StoreError({ operation: 'rate-limit.take' }, { cause });

    expect(error.operation).toBe('rate-limit.take');
    expect(error.message).toBe('store operation "rate-limit.take" failed: Rate exceeded');
    expect(error.cause).toBe(cause);
  });
});
