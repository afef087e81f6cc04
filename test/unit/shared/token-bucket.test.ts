import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/errors.js';
import type { RateLimit } from '../../../shared/token-bucket.js';
import { freshBucket, refill, tryTake, validateRateLimit } from '../../../shared/token-bucket.js';

const limit: RateLimit = { perSecond: 2, burst: 5 };

describe('TokenBucket', () => {
  describe('refill', () => {
    it('refills at the configured rate', () => {
      const state = { tokens: 0, updatedAtMs: 10_000 };

      const after = refill(state, limit, 11_500);

      expect(after).toEqual({ tokens: 3, updatedAtMs: 11_500 });
    });

    it('never holds more than burst', () => {
      const state = { tokens: 4, updatedAtMs: 0 };

      const after = refill(state, limit, 3_600_000);

      expect(after.tokens).toBe(5);
    });

    it('starts a never-used bucket full', () => {
      expect(refill(undefined, limit, 123)).toEqual({ tokens: 5, updatedAtMs: 123 });
      expect(freshBucket(limit, 123)).toEqual({ tokens: 5, updatedAtMs: 123 });
    });

    it('creates no tokens when the clock goes backwards, and keeps the later timestamp', () => {
      const state = { tokens: 1, updatedAtMs: 10_000 };

      const skewed = refill(state, limit, 4_000);
      const caughtUp = refill(skewed, limit, 10_500);

      expect(skewed).toEqual({ tokens: 1, updatedAtMs: 10_000 });
      expect(caughtUp.tokens).toBe(2);
    });

    it('clamps a stored state that exceeds burst, e.g. after the limit was lowered', () => {
      expect(refill({ tokens: 50, updatedAtMs: 0 }, limit, 0).tokens).toBe(5);
    });
  });

  describe('tryTake', () => {
    it('grants everything requested when enough tokens are available', () => {
      const result = tryTake(undefined, limit, 3, 1_000);

      expect(result).toEqual({ granted: 3, state: { tokens: 2, updatedAtMs: 1_000 }, retryAfterMs: 0 });
    });

    it('grants only whole tokens, as many as are available', () => {
      const state = { tokens: 2.75, updatedAtMs: 0 };

      const result = tryTake(state, limit, 10, 0);

      expect(result.granted).toBe(2);
      expect(result.state.tokens).toBeCloseTo(0.75);
    });

    it('reports the time until the next whole token when the grant is partial', () => {
      const state = { tokens: 2.75, updatedAtMs: 0 };

      const result = tryTake(state, limit, 10, 0);

      // 0.25 token missing at 2 tokens per second = 125 ms.
      expect(result.retryAfterMs).toBe(125);
    });

    it('grants nothing from an empty bucket and says when to come back', () => {
      const result = tryTake({ tokens: 0, updatedAtMs: 0 }, { perSecond: 0.5, burst: 1 }, 1, 0);

      expect(result).toEqual({ granted: 0, state: { tokens: 0, updatedAtMs: 0 }, retryAfterMs: 2_000 });
    });

    it('grants the token that is due after exactly retryAfterMs', () => {
      const first = tryTake({ tokens: 0.3, updatedAtMs: 0 }, { perSecond: 3, burst: 3 }, 1, 0);

      const second = tryTake(first.state, { perSecond: 3, burst: 3 }, 1, first.retryAfterMs);

      expect(first.granted).toBe(0);
      expect(second.granted).toBe(1);
    });

    it('counts a token that floating-point refill leaves a hair short as whole', () => {
      const tenPerSecond = { perSecond: 10, burst: 10 };
      let state = { tokens: 0, updatedAtMs: 0 };
      for (let t = 1; t <= 7; t++) state = refill(state, tenPerSecond, (t * 100) / 7);

      expect(tryTake(state, tenPerSecond, 1, 100).granted).toBe(1);
    });

    it('does not mint tokens when the clock goes backwards between takes', () => {
      const drained = tryTake(undefined, limit, 5, 10_000);

      const early = tryTake(drained.state, limit, 1, 9_000);

      expect(early.granted).toBe(0);
      // On this consumer's clock the refill starts at the bucket's timestamp, 1 s ahead.
      expect(early.retryAfterMs).toBe(1_500);
    });

    it('waits out a bucket held off until a later time (back-pressure) before its refill', () => {
      const held = { tokens: 0, updatedAtMs: 40_000 };

      expect(tryTake(held, limit, 1, 10_000)).toMatchObject({ granted: 0, retryAfterMs: 30_500 });
      expect(tryTake(held, limit, 1, 40_500)).toMatchObject({ granted: 1 });
    });

    it('grants nothing and waits for nothing when zero tokens are requested', () => {
      expect(tryTake({ tokens: 0, updatedAtMs: 0 }, limit, 0, 0)).toMatchObject({
        granted: 0,
        retryAfterMs: 0,
      });
    });

    it('rejects a negative or fractional request', () => {
      expect(() => tryTake(undefined, limit, -1, 0)).toThrow(RangeError);
      expect(() => tryTake(undefined, limit, 1.5, 0)).toThrow(RangeError);
    });
  });

  describe('validateRateLimit', () => {
    it('returns a valid limit unchanged', () => {
      expect(validateRateLimit(limit)).toBe(limit);
    });

    it.each([
      [{ perSecond: 0, burst: 1 }, /perSecond must be a finite number > 0, got 0/],
      [{ perSecond: Number.POSITIVE_INFINITY, burst: 1 }, /perSecond/],
      [{ perSecond: 1, burst: 0 }, /burst must be an integer >= 1, got 0/],
      [{ perSecond: 1, burst: 2.5 }, /burst/],
    ])('rejects %o with a ConfigError', (bad, message) => {
      expect(() => validateRateLimit(bad)).toThrow(ConfigError);
      expect(() => validateRateLimit(bad)).toThrow(message);
    });
  });
});
