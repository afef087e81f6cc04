import { describe, expect, it } from 'vitest';
import type { RetryPolicy } from '../../../../shared/consumer/backoff.js';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  validateRetryPolicy,
  visibilityLeftSeconds,
  visibilityTimeoutSeconds,
} from '../../../../shared/consumer/backoff.js';
import { ConfigError } from '../../../../shared/errors.js';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 300_000 };

describe('backoffDelayMs', () => {
  it('waits nothing when the random source returns 0', () => {
    for (let attempt = 1; attempt <= 50; attempt++) {
      expect(backoffDelayMs(attempt, policy, () => 0)).toBe(0);
    }
  });

  it('stays just below the exponential ceiling when the random source returns 0.999', () => {
    for (let attempt = 1; attempt <= 50; attempt++) {
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));

      const delay = backoffDelayMs(attempt, policy, () => 0.999);

      expect(delay).toBe(Math.floor(0.999 * ceiling));
      expect(delay).toBeLessThan(ceiling);
    }
  });

  it('doubles the ceiling with each attempt until the cap', () => {
    const delays = [1, 2, 3, 4, 9, 10].map((attempt) => backoffDelayMs(attempt, policy, () => 0.5));

    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 128_000, 150_000]);
  });

  it('respects maxDelayMs however large the random value', () => {
    expect(backoffDelayMs(30, policy, () => 1 - Number.EPSILON)).toBeLessThan(policy.maxDelayMs);
    expect(backoffDelayMs(30, policy, () => 1)).toBeLessThan(policy.maxDelayMs);
  });

  it('does not overflow at attempt 1000', () => {
    const delay = backoffDelayMs(1_000, policy, () => 0.5);

    expect(delay).toBe(150_000);
  });

  it('stays a number for a zero base at huge attempts', () => {
    expect(backoffDelayMs(5_000, { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, () => 0.5)).toBe(0);
  });

  it('returns whole milliseconds within [0, ceiling) for the default random source', () => {
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelayMs(3, policy);
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(4_000);
    }
  });

  it('is deterministic with an injected random source', () => {
    const sequence = () => {
      let seed = 42;
      return () => {
        seed = (seed * 16_807) % 2_147_483_647;
        return seed / 2_147_483_647;
      };
    };
    const first = sequence();
    const second = sequence();

    const a = [1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, policy, first));
    const b = [1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, policy, second));

    expect(a).toEqual(b);
  });

  it('treats a random source returning NaN or a negative number as 0', () => {
    expect(backoffDelayMs(3, policy, () => Number.NaN)).toBe(0);
    expect(backoffDelayMs(3, policy, () => -5)).toBe(0);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects attempt %s', (attempt) => {
    expect(() => backoffDelayMs(attempt, policy, () => 0.5)).toThrow(RangeError);
  });
});

describe('visibilityTimeoutSeconds', () => {
  it.each([
    [0, 0],
    [1, 1],
    [1_000, 1],
    [1_001, 2],
    [299_999, 300],
    [-500, 0],
    [43_200_000, 43_200],
    [10 ** 12, 43_200],
    [Number.POSITIVE_INFINITY, 43_200],
    [Number.NaN, 0],
  ])('turns %s ms into %s s', (delayMs, seconds) => {
    expect(visibilityTimeoutSeconds(delayMs)).toBe(seconds);
  });
});

describe('visibilityLeftSeconds', () => {
  it('counts the 12 hours from the receive, not from the change', () => {
    const received = 1_000_000;

    expect(visibilityLeftSeconds(received, received)).toBe(43_200);
    expect(visibilityLeftSeconds(received, received + 30_000)).toBe(43_170);
    expect(visibilityLeftSeconds(received, received + 1)).toBe(43_199);
    expect(visibilityLeftSeconds(received, received + 13 * 3_600_000)).toBe(0);
  });
});

describe('validateRetryPolicy', () => {
  it('accepts the default policy', () => {
    expect(validateRetryPolicy(DEFAULT_RETRY_POLICY)).toBe(DEFAULT_RETRY_POLICY);
  });

  it.each([
    [{ ...policy, maxAttempts: 0 }, /maxAttempts must be an integer >= 1, got 0/],
    [{ ...policy, maxAttempts: 2.5 }, /maxAttempts/],
    [{ ...policy, baseDelayMs: -1 }, /baseDelayMs must be a finite number >= 0, got -1/],
    [{ ...policy, baseDelayMs: Number.NaN }, /baseDelayMs/],
    [{ ...policy, maxDelayMs: 500 }, /maxDelayMs must be between baseDelayMs \(1000\) and 43200000/],
    [{ ...policy, maxDelayMs: 86_400_000 }, /12-hour visibility limit/],
  ])('rejects %o with a ConfigError', (bad, message) => {
    expect(() => validateRetryPolicy(bad)).toThrow(ConfigError);
    expect(() => validateRetryPolicy(bad)).toThrow(message);
  });
});
