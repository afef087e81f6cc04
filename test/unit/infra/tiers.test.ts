import { describe, expect, it } from 'vitest';
import {
  allocateConcurrency,
  DEFAULT_TIERS,
  envCase,
  pascalCase,
  resolveTiers,
} from '../../../infra/constructs/tiers.js';

describe('allocateConcurrency', () => {
  it('splits capacity in proportion to the weights', () => {
    expect(allocateConcurrency(100, [8, 4, 2, 1])).toEqual([53, 27, 13, 7]);
  });

  it('uses all of the capacity before the minimum is applied', () => {
    const shares = allocateConcurrency(30, [5, 3, 2]);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(30);
    expect(shares).toEqual([15, 9, 6]);
  });

  it('never gives a tier less than the AWS minimum of 2, so the lowest tier never starves', () => {
    expect(allocateConcurrency(20, [8, 4, 2, 1])).toEqual([11, 5, 3, 2]);
    expect(Math.min(...allocateConcurrency(4, [100, 1, 1]))).toBe(2);
  });

  it('caps a share at the AWS maximum of 1000', () => {
    expect(allocateConcurrency(5000, [1, 1])).toEqual([1000, 1000]);
  });

  it('favours higher tiers in the defaults', () => {
    const shares = resolveTiers(DEFAULT_TIERS, 20).map((t) => t.maxConcurrency);
    expect([...shares].sort((a, b) => b - a)).toEqual(shares);
  });
});

describe('resolveTiers', () => {
  it('fills in defaults for batch size and age alarm', () => {
    const [tier] = resolveTiers([{ name: 'only', weight: 1 }], 2);
    expect(tier).toMatchObject({ name: 'only', batchSize: 10, maxConcurrency: 2 });
    expect(tier?.maxMessageAge.toSeconds()).toBe(900);
  });

  it('rejects an empty tier list and too little capacity', () => {
    expect(() => resolveTiers([], 10)).toThrow(/at least one tier/);
    expect(() => resolveTiers(DEFAULT_TIERS, 1)).toThrow(/consumerConcurrency/);
  });
});

describe('names', () => {
  it('derives construct, output and env var names from tier names', () => {
    expect(pascalCase('bulk-email')).toBe('BulkEmail');
    expect(envCase('bulk-email')).toBe('BULK_EMAIL');
  });
});
