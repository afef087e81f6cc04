import { MAX_BODY_BYTES } from './contract.js';

/** SQS's limits for one SendMessageBatch request. */
export interface BatchLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/**
 * The limits of one SendMessageBatch request: 10 entries and 1 MiB of bodies in total (SQS's
 * batch limit, whatever the queue's own MaximumMessageSize).
 *
 * @example
 * ```ts
 * const batches = packBatches(entries, (e) => e.bytes, SQS_BATCH_LIMITS);
 * ```
 */
export const SQS_BATCH_LIMITS: BatchLimits = { maxEntries: 10, maxBytes: MAX_BODY_BYTES };

/**
 * Splits items, in order, into as few consecutive batches as a greedy pass allows, each within
 * `limits`. An item larger than `maxBytes` on its own gets a batch to itself (SQS then rejects
 * it, so callers check single sizes first).
 *
 * @example
 * ```ts
 * packBatches([100, 200, 300], (n) => n, { maxEntries: 2, maxBytes: 1_000 }); // [[100, 200], [300]]
 * ```
 */
export function packBatches<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  limits: BatchLimits = SQS_BATCH_LIMITS,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= limits.maxEntries || bytes + size > limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
