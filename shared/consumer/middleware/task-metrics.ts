import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { batchOf, Outcome, type RecordState } from '../record-state.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/** Metric names, emitted per task name (dimension `task`). */
export const TaskMetric = {
  succeeded: 'TaskSucceeded',
  failed: 'TaskFailed',
  retried: 'TaskRetried',
  deadLettered: 'TaskDeadLettered',
  deferred: 'TaskDeferred',
  rateLimited: 'TaskRateLimited',
  duplicate: 'TaskDuplicate',
  latency: 'TaskLatency',
} as const;

function countsOf(states: readonly RecordState[]): Record<string, number> {
  const counts: Record<string, number> = {};
  const add = (name: string) => {
    counts[name] = (counts[name] ?? 0) + 1;
  };
  for (const s of states) {
    if (s.outcome === Outcome.succeeded) add(TaskMetric.succeeded);
    if (s.taskFailure) add(TaskMetric.failed);
    if (s.outcome === Outcome.failed && s.retryDelayMs !== undefined) add(TaskMetric.retried);
    if (s.outcome === Outcome.deadLettered) add(TaskMetric.deadLettered);
    if (s.outcome === Outcome.deferred) add(TaskMetric.deferred);
    if (s.rateLimited && s.outcome === Outcome.deferred) add(TaskMetric.rateLimited);
    if (s.outcome === Outcome.duplicate) add(TaskMetric.duplicate);
  }
  return counts;
}

/**
 * Publishes EMF metrics per task name once the batch is settled: succeeded, failed, retried,
 * dead-lettered, deferred, rate-limited, duplicates, and the latency from the envelope's
 * `enqueuedAt` to completion. Use it right after `sqsBatch` so it sees final outcomes.
 *
 * @example
 * middy(core).use(sqsBatch({ tiers })).use(taskMetrics(new Metrics({ namespace: 'tierq' })));
 */
export function taskMetrics(
  metrics: Metrics,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const taskMetricsAfter: Fn = (request) => {
    const byTask = new Map<string, RecordState[]>();
    for (const s of batchOf(request.event).records) {
      const name = s.task?.name ?? 'invalid';
      byTask.set(name, [...(byTask.get(name) ?? []), s]);
    }
    for (const [task, states] of byTask) {
      // One EMF document per task name: publishing clears the dimension for the next one.
      metrics.addDimension('task', task);
      for (const [name, value] of Object.entries(countsOf(states)))
        metrics.addMetric(name, MetricUnit.Count, value);
      for (const s of states) {
        const enqueuedAt = s.envelope?.enqueuedAt ? Date.parse(s.envelope.enqueuedAt) : Number.NaN;
        if (s.outcome === Outcome.succeeded && s.finishedAtMs && Number.isFinite(enqueuedAt)) {
          metrics.addMetric(
            TaskMetric.latency,
            MetricUnit.Milliseconds,
            Math.max(0, s.finishedAtMs - enqueuedAt),
          );
        }
      }
      metrics.publishStoredMetrics();
    }
  };
  return { after: taskMetricsAfter };
}
