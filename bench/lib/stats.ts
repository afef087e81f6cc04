/** Summary statistics of one series of measurements. */
export interface Summary {
  readonly n: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The value below which `p` percent of `sorted` falls, interpolating between neighbours
 * (the same definition as numpy's default), so p50 of an even-sized series is the midpoint.
 *
 * @example
 * percentile([1, 2, 3, 4], 50); // 2.5
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (rank - low);
}

/**
 * n, mean, p50, p95, min and max of `values` (in any order).
 *
 * @example
 * summarize([3, 1, 2]).p50; // 2
 */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, v) => total + v, 0);
  return {
    n: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/**
 * Median of `values`.
 *
 * @example
 * median([5, 1, 3]); // 3
 */
export function median(values: readonly number[]): number {
  return summarize(values).p50;
}

/**
 * Rounds for reports and JSON: enough digits to compare, no float noise.
 *
 * @example
 * round(1.23456, 2); // 1.23
 */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Total length of the union of `[start, end]` intervals: the wall time during which at least
 * one of them was running, so parallel requests are not counted twice.
 *
 * @example
 * unionLength([[0, 10], [5, 15], [20, 21]]); // 16
 */
export function unionLength(intervals: readonly (readonly [number, number])[]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let current: [number, number] | undefined;
  for (const [s, e] of sorted) {
    if (current === undefined || s > current[1]) {
      if (current !== undefined) total += current[1] - current[0];
      current = [s, e];
    } else {
      current[1] = Math.max(current[1], e);
    }
  }
  return current === undefined ? total : total + current[1] - current[0];
}

/** Quartiles of per-round ratios. */
export interface RatioSummary {
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
}

/**
 * Quartiles of `a[i] ÷ b[i]`: each pair was measured in the same interleaved round, so a noisy
 * moment on a shared machine moves both sides of a ratio instead of one side of a mean.
 *
 * @example
 * pairedRatios([2, 4], [1, 2]).p50; // 2
 */
export function pairedRatios(a: readonly number[], b: readonly number[]): RatioSummary {
  const ratios = a.map((value, i) => value / (b[i] ?? Number.NaN)).sort((x, y) => x - y);
  return {
    p25: round(percentile(ratios, 25), 3),
    p50: round(percentile(ratios, 50), 3),
    p75: round(percentile(ratios, 75), 3),
  };
}
