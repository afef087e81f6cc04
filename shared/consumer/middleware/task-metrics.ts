/**
 * Middleware: the consumer's EMF metrics per task name, from the settled outcomes.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../../logger.js';
import { batchOf, DeferCause, type RecordState } from '../record-state.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/** Metric names, emitted per task name (dimension `task`). */
export const TaskMetric = {
  succeeded: 'TaskSucceeded',
  failed: 'TaskFailed',
  retried: 'TaskRetried',
  deadLettered: 'TaskDeadLettered',
  deferred: 'TaskDeferred',
  rateLimited: 'TaskRateLimited',
  /** Deferred because an operator paused the task. */
  paused: 'TaskPaused',
  duplicate: 'TaskDuplicate',
  /** A run whose lock another delivery took over: its state was not written over the newer one's. */
  lockLost: 'TaskLockLost',
  latency: 'TaskLatency',
} as const;

function countsOf(states: readonly RecordState[]): Record<string, number> {
  const counts: Record<string, number> = {};
  const add = (name: string) => {
    counts[name] = (counts[name] ?? 0) + 1;
  };
  for (const { outcome, run } of states) {
    if (run?.ok === false) add(TaskMetric.failed);
    if (outcome.kind === 'succeeded') add(TaskMetric.succeeded);
    if (outcome.kind === 'succeeded' && outcome.lockLost) add(TaskMetric.lockLost);
    const resent = outcome.kind === 'deferred' && outcome.cause === DeferCause.retry;
    if ((outcome.kind === 'failed' && outcome.retryInMs !== undefined) || resent) add(TaskMetric.retried);
    if (outcome.kind === 'deadLettered') add(TaskMetric.deadLettered);
    if (outcome.kind === 'deferred' && !resent) add(TaskMetric.deferred);
    if (outcome.kind === 'deferred' && outcome.cause === DeferCause.rateLimited) add(TaskMetric.rateLimited);
    if (outcome.kind === 'deferred' && outcome.cause === DeferCause.paused) add(TaskMetric.paused);
    if (outcome.kind === 'duplicate') add(TaskMetric.duplicate);
  }
  return counts;
}

/** One EMF document per task name, each with its counts and latencies. */
function publish(metrics: Metrics, records: readonly RecordState[]): void {
  const byTask = new Map<string, RecordState[]>();
  for (const s of records) {
    const name = s.task?.name ?? 'invalid';
    byTask.set(name, [...(byTask.get(name) ?? []), s]);
  }
  for (const [task, states] of byTask) {
    // One EMF document per task name: publishing clears the dimension for the next one.
    metrics.addDimension('task', task);
    for (const [name, value] of Object.entries(countsOf(states)))
      metrics.addMetric(name, MetricUnit.Count, value);
    for (const { outcome, run, envelope } of states) {
      const enqueuedAt = envelope?.enqueuedAt ? Date.parse(envelope.enqueuedAt) : Number.NaN;
      if (outcome.kind === 'succeeded' && run && Number.isFinite(enqueuedAt)) {
        metrics.addMetric(
          TaskMetric.latency,
          MetricUnit.Milliseconds,
          Math.max(0, run.finishedAtMs - enqueuedAt),
        );
      }
    }
    metrics.publishStoredMetrics();
  }
}

/**
 * Publishes EMF metrics per task name once the batch is settled: succeeded, failed, retried,
 * dead-lettered, deferred, rate-limited, duplicates, and the latency from the envelope's
 * `enqueuedAt` to completion. Use it right after `sqsBatch` so it sees final outcomes. A failure
 * to publish is logged and never fails the batch.
 *
 * @example
 * middy(core).use(sqsBatch({ tiers })).use(taskMetrics(new Metrics({ namespace: 'tierq' })));
 */
export function taskMetrics(
  metrics: Metrics,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const taskMetricsAfter: Fn = (request) => {
    try {
      publish(metrics, batchOf(request.event).records);
    } catch (error) {
      // Metrics describe the batch; they must never fail it (its records are settled and sent).
      logger.error('could not publish task metrics', { error });
    }
  };
  return { after: taskMetricsAfter };
}
