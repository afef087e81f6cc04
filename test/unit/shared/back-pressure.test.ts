import { describe, expect, it } from 'vitest';
import { BackPressureError, retryAfterMs } from '../../../shared/errors.js';

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:27:00 GMT');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs('Wed, 21 Oct 2026 07:26:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe('BackPressureError', () => {
  it('holds the wait between a second and 12 hours, whatever the downstream asked', () => {
    expect(new BackPressureError({ retryAfterMs: 2_500 }).retryAfterMs).toBe(2_500);
    expect(new BackPressureError({ retryAfterMs: 0 }).retryAfterMs).toBe(1_000);
    expect(new BackPressureError({ retryAfterMs: Number.NaN }).retryAfterMs).toBe(1_000);
    expect(new BackPressureError({ retryAfterMs: 1e13 }).retryAfterMs).toBe(12 * 3_600_000);
    expect(new BackPressureError({ retryAfterMs: 10, reason: 'HTTP 429' }).message).toBe(
      'HTTP 429; retry after 1000 ms',
    );
  });
});
