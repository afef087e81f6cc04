import type { ConsumerOverheadResult } from './consumer-overhead.js';
import { fmt, table } from './lib/benchmark.js';

/**
 * The consumer-overhead result as Markdown, one row per variant.
 *
 * @example
 * console.log(renderConsumerOverhead(result));
 */
export function renderConsumerOverhead(result: ConsumerOverheadResult): string {
  const base = result.variants.find((v) => v.name === 'powertools');
  const rows = result.variants.map((v) => [
    v.description,
    fmt(v.latencyMs.p50, 2),
    fmt(v.latencyMs.p95, 2),
    base ? `${fmt(v.latencyMs.p50 / base.latencyMs.p50, 2)}×` : '',
    result.pairedLatencyRatio[v.name]
      ? `${fmt(result.pairedLatencyRatio[v.name]?.p50 ?? Number.NaN, 2)}×`
      : '—',
    fmt(v.cpuMs.mean, 2),
    fmt(v.dynamoWallMs.mean, 2),
    fmt(v.noDynamoMs.mean, 2),
    fmt(v.dynamoRequestsPerTask, 2),
    Object.entries(v.dynamoByOperationPerTask)
      .map(([op, n]) => `${op} ${fmt(n, 2)}`)
      .join(', '),
  ]);
  return table(
    [
      'variant',
      'p50 ms',
      'p95 ms',
      'p50 ÷ baseline',
      'paired ratio (median)',
      'CPU ms',
      'DynamoDB in flight ms',
      'nothing in flight ms',
      'DynamoDB req/task',
      'by operation (per task)',
    ],
    rows,
  );
}
