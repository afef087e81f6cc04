import { describe, expect, it } from 'vitest';
import { packBatches, SQS_BATCH_LIMITS } from '../../../shared/pack-batches.js';

const sizes = (batches: number[][]) => batches.map((b) => b.length);

describe('packBatches', () => {
  it('returns no batch for no items', () => {
    expect(packBatches([], (n: number) => n)).toEqual([]);
  });

  it('puts at most 10 small messages in a batch, in order', () => {
    const items = Array.from({ length: 35 }, (_, i) => i);
    const batches = packBatches(items, () => 100);
    expect(sizes(batches)).toEqual([10, 10, 10, 5]);
    expect(batches.flat()).toEqual(items);
  });

  it('starts a new batch before the total would pass 1,048,576 bytes', () => {
    const big = 400_000;
    const batches = packBatches([big, big, big, 648_576, 1], (n) => n);
    expect(batches).toEqual([[big, big], [big, 648_576], [1]]);
    for (const batch of batches) {
      expect(batch.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(SQS_BATCH_LIMITS.maxBytes);
    }
  });

  it('fills a batch exactly to the byte limit', () => {
    expect(packBatches([524_288, 524_288, 1], (n) => n)).toEqual([[524_288, 524_288], [1]]);
  });

  it('gives an item larger than the limit a batch of its own', () => {
    expect(packBatches([1, 1_100_000, 1], (n) => n)).toEqual([[1], [1_100_000], [1]]);
  });

  it('honours custom limits', () => {
    expect(packBatches([1, 2, 3, 4, 5], (n) => n, { maxEntries: 2, maxBytes: 6 })).toEqual([
      [1, 2],
      [3],
      [4],
      [5],
    ]);
  });
});
