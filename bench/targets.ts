import type { ConsumerOverheadResult, VariantFigures } from './consumer-overhead.js';
import { fmt, table } from './lib/benchmark.js';
import type { ProducerFigures, ProducerResult } from './producer.js';

/** One of issue 6's targets, judged on this run's figures. */
export interface TargetVerdict {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/**
 * Judges the targets on the figures of one run (those whose benchmarks ran). Latency is
 * judged on the median of per-round paired ratios, the figure least moved by machine noise.
 *
 * @example
 * const verdicts = judgeTargets(results);
 */
export function judgeTargets(results: Readonly<Record<string, unknown>>): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  const overhead = results['consumer-overhead'] as ConsumerOverheadResult | undefined;
  if (overhead) {
    const v = (name: string) => overhead.variants.find((x) => x.name === name) as VariantFigures;
    const [lock, once, base] = [v('tierq-lock-rl'), v('tierq-once-rl'), v('powertools')];
    const ratio = overhead.pairedLatencyRatio['tierq-lock-rl']?.p50 ?? Number.NaN;
    verdicts.push(
      {
        target: 'consumer (lock, rate limit on) no slower than the baseline',
        measured: `paired latency ratio ${fmt(ratio, 2)}× (p50 ${fmt(lock.latencyMs.p50, 1)} vs ${fmt(base.latencyMs.p50, 1)} ms, p95 ${fmt(lock.latencyMs.p95, 1)} vs ${fmt(base.latencyMs.p95, 1)} ms)`,
        met: ratio <= 1,
      },
      {
        target: 'consumer (lock, rate limit on) no more DynamoDB requests per task than the baseline',
        measured: `${fmt(lock.dynamoRequestsPerTask, 2)} vs ${fmt(base.dynamoRequestsPerTask, 2)}`,
        met: lock.dynamoRequestsPerTask <= base.dynamoRequestsPerTask,
      },
      {
        target: 'consumer (once, rate limit on) at most half the baseline’s DynamoDB requests per task',
        measured: `${fmt(once.dynamoRequestsPerTask, 2)} vs ${fmt(base.dynamoRequestsPerTask / 2, 2)} (half of ${fmt(base.dynamoRequestsPerTask, 2)})`,
        met: once.dynamoRequestsPerTask <= base.dynamoRequestsPerTask / 2,
      },
    );
    const breaker = overhead.variants.find((x) => x.name === 'tierq-lock-rl-breaker');
    const breakerRatio = overhead.pairedLatencyRatio['tierq-lock-rl-breaker']?.p50 ?? Number.NaN;
    if (breaker) {
      verdicts.push({
        target: 'consumer with a circuit breaker (closed) no slower than the baseline (issue 14)',
        measured: `paired latency ratio ${fmt(breakerRatio, 2)}× (p50 ${fmt(breaker.latencyMs.p50, 1)} vs ${fmt(base.latencyMs.p50, 1)} ms); DynamoDB requests per task ${fmt(breaker.dynamoRequestsPerTask, 2)} vs ${fmt(lock.dynamoRequestsPerTask, 2)} without the breaker`,
        met: breakerRatio <= 1,
      });
    }
  }
  const producer = results.producer as ProducerResult | undefined;
  if (producer) {
    const p = (name: string) => producer.variants.find((x) => x.name === name) as ProducerFigures;
    const tierq = p('tierq');
    for (const peer of [p('sqs-producer'), p('sqs-producer-parallel')]) {
      verdicts.push({
        target: `producer at least sqs-producer’s rate — ${peer.description}`,
        measured: `tierq ÷ sqs-producer per round ${fmt(peer.tierqPairedRatio.p50, 2)}× (${fmt(tierq.tasksPerSecond.p50, 0)} vs ${fmt(peer.tasksPerSecond.p50, 0)} tasks/s)`,
        met: peer.tierqPairedRatio.p50 >= 1,
      });
    }
    verdicts.push({
      target: 'producer at most 0.1 SQS requests per task',
      measured: fmt(tierq.sqsRequestsPerTask, 3),
      met: tierq.sqsRequestsPerTask <= 0.1,
    });
  }
  return verdicts;
}

/**
 * The verdicts as a Markdown table.
 *
 * @example
 * console.log(renderTargets(judgeTargets(results)));
 */
export function renderTargets(verdicts: readonly TargetVerdict[]): string {
  return table(
    ['target (issue 6)', 'measured', 'verdict'],
    verdicts.map((v) => [v.target, v.measured, v.met ? 'met' : '**MISSED**']),
  );
}
