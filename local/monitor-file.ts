import { rm } from 'node:fs/promises';
import type {
  LatencyPercentiles,
  MonitorFile,
  TaskActivity,
  TierActivity,
} from '../shared/monitoring/activity.js';
import type { MappingStats } from './event-source-runner.js';
import type { LocalStack } from './stack.js';
import { writeJsonAtomically } from './stack-info.js';
import type { LatencySample, TaskCounts } from './task-metrics-tap.js';

/** Options of {@link startMonitorFile}. */
export interface MonitorFileOptions {
  readonly path: string;
  /** The running stack; `stats`, `alarmStates` and `queues` add the per-tier figures and alarms. */
  readonly stack: Pick<LocalStack, 'oldestMessageAges'> &
    Partial<Pick<LocalStack, 'stats' | 'alarmStates' | 'queues'>>;
  /** The consumer's cumulative counts per task (the EMF tap). */
  readonly counts: () => TaskCounts;
  /** The consumer's recent enqueue→completion latencies (the EMF tap). */
  readonly latencies?: () => readonly LatencySample[];
  /** Default 2 000. */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

/** Cumulative figures at one moment; the file shows the difference over the last minute. */
interface Sample {
  readonly at: number;
  readonly tasks: TaskCounts;
  /** Per tier: records acknowledged and left for redelivery, since start-up. */
  readonly tiers: Readonly<Record<string, { acknowledged: number; retried: number }>>;
}

const WINDOW_MS = 60_000;

/** Consumer metrics per {@link TaskActivity} field. */
const TASK_FIELDS = {
  completed: 'TaskSucceeded',
  failed: 'TaskFailed',
  retried: 'TaskRetried',
  deadLettered: 'TaskDeadLettered',
  deferred: 'TaskDeferred',
} as const;

/**
 * The p50 and p95 of `values` (nearest rank).
 *
 * @example
 * percentiles([10, 20, 30, 40]); // { p50Ms: 20, p95Ms: 40, count: 4 }
 */
export function percentiles(values: readonly number[]): LatencyPercentiles {
  if (values.length === 0) return { p50Ms: null, p95Ms: null, count: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
  return { p50Ms: rank(0.5), p95Ms: rank(0.95), count: sorted.length };
}

function tierTotals(
  stats: readonly MappingStats[],
  queues: Readonly<Record<string, string>>,
): Sample['tiers'] {
  const tiers: Record<string, { acknowledged: number; retried: number }> = {};
  for (const [tier, url] of Object.entries(queues)) {
    const mine = stats.filter((m) => m.queueUrl === url);
    tiers[tier] = {
      acknowledged: mine.reduce((a, m) => a + m.succeeded, 0),
      retried: mine.reduce((a, m) => a + m.failed, 0),
    };
  }
  return tiers;
}

/**
 * Rewrites `.tierq/monitor.json` every few seconds with what `tierq status` and `tierq dashboard`
 * cannot get from SQS locally — the local stand-ins for CloudWatch: each tier's oldest message
 * age (from the emulator); over the last minute, tasks completed and failed, the consumer's
 * counts and latency percentiles per task, and records acknowledged and retried per tier; records
 * processing now; alarm states. The counts cover the time since start-up until a whole minute
 * has passed (`windowSeconds` says how long).
 *
 * @example
 * const monitor = startMonitorFile({ path: '.tierq/monitor.json', stack, counts: tap.counts });
 * await monitor.stop();
 */
export function startMonitorFile(options: MonitorFileOptions): { stop(): Promise<void> } {
  const now = options.now ?? Date.now;
  const { stack } = options;
  const take = (): Sample => ({
    at: now(),
    // A copy: the tap's counts are the live object, and the difference is taken against the past.
    tasks: structuredClone(options.counts()),
    tiers: stack.stats && stack.queues ? tierTotals(stack.stats(), stack.queues) : {},
  });
  const samples: Sample[] = [take()];
  let writing: Promise<void> = Promise.resolve();
  const write = () => {
    const sample = take();
    samples.push(sample);
    while (samples.length > 2 && (samples[1] as Sample).at <= sample.at - WINDOW_MS) samples.shift();
    const first = samples[0] as Sample;
    const since = (task: string, metric: string) =>
      (sample.tasks[task]?.[metric] ?? 0) - (first.tasks[task]?.[metric] ?? 0);
    const recent = (options.latencies?.() ?? []).filter((l) => l.at > sample.at - WINDOW_MS);
    const perTask: Record<string, TaskActivity> = {};
    for (const task of Object.keys(sample.tasks).sort()) {
      const counts = Object.fromEntries(
        Object.entries(TASK_FIELDS).map(([field, metric]) => [field, since(task, metric)]),
      ) as Record<keyof typeof TASK_FIELDS, number>;
      perTask[task] = {
        ...counts,
        latency: percentiles(recent.filter((l) => l.task === task).map((l) => l.ms)),
      };
    }
    const running = stack.stats?.() ?? [];
    const perTier: Record<string, TierActivity> = {};
    for (const [tier, totals] of Object.entries(sample.tiers)) {
      const url = stack.queues?.[tier];
      perTier[tier] = {
        acknowledged: totals.acknowledged - (first.tiers[tier]?.acknowledged ?? 0),
        retried: totals.retried - (first.tiers[tier]?.retried ?? 0),
        processing: running.filter((m) => m.queueUrl === url).reduce((a, m) => a + m.inFlight, 0),
      };
    }
    const sum = (field: 'completed' | 'failed') => Object.values(perTask).reduce((a, t) => a + t[field], 0);
    const file: MonitorFile = {
      updatedAt: new Date(sample.at).toISOString(),
      oldestAgeSeconds: stack.oldestMessageAges(),
      perMinute: { completed: sum('completed'), failed: sum('failed') },
      windowSeconds: Math.round((sample.at - first.at) / 1000),
      perTask,
      perTier,
      latency: percentiles(recent.map((l) => l.ms)),
      ...(stack.alarmStates === undefined ? {} : { alarms: { ...stack.alarmStates() } }),
    };
    // Writes never overlap: each waits for the previous rename.
    writing = writing.then(() => writeJsonAtomically(options.path, file)).catch(() => {});
  };
  write();
  const timer = setInterval(write, options.intervalMs ?? 2_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await writing;
      await rm(options.path, { force: true });
    },
  };
}
