import { readFile } from 'node:fs/promises';

/**
 * What a snapshot can add beyond SQS's own counts, where a source has it: each tier's oldest
 * message age and the tasks completed and failed over the last minute.
 *
 * @example
 * ```ts
 * const activity: QueueActivity = { oldestAgeSeconds: { high: 4 }, perMinute: { completed: 120, failed: 3 } };
 * ```
 */
export interface QueueActivity {
  readonly oldestAgeSeconds?: Readonly<Record<string, number | null>>;
  readonly perMinute?: { readonly completed: number; readonly failed: number };
  /** Seconds the per-minute figures cover: 60, or less right after a local stack started. */
  readonly windowSeconds?: number;
  /** The consumer's figures per task over the window, where the source has them. */
  readonly perTask?: Readonly<Record<string, TaskActivity>>;
  /** What the consumer did per tier over the window (the local runner's own counts). */
  readonly perTier?: Readonly<Record<string, TierActivity>>;
  /** Enqueue→completion latency over the window, every task together. */
  readonly latency?: LatencyPercentiles;
  /** Each alarm's state (`OK`, `ALARM`, `INSUFFICIENT_DATA`), by the alarm's name. */
  readonly alarms?: Readonly<Record<string, string>>;
}

/** Percentiles of `TaskLatency` (enqueue to completion), ms; null when nothing completed. */
export interface LatencyPercentiles {
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly count: number;
}

/**
 * One task's figures over the window: the consumer's counts (`TaskSucceeded` → `completed`,
 * `TaskFailed` → `failed` attempts, …) and its latency percentiles.
 *
 * @example
 * ```ts
 * const echo: TaskActivity = { completed: 12, failed: 0, retried: 0, deadLettered: 0, deferred: 0, latency: { p50Ms: 40, p95Ms: 90, count: 12 } };
 * ```
 */
export interface TaskActivity {
  readonly completed: number;
  readonly failed: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly deferred: number;
  readonly latency: LatencyPercentiles;
}

/**
 * One tier's figures: records acknowledged (deleted after an invocation) and left for
 * redelivery over the window, and records inside an invocation now.
 *
 * @example
 * ```ts
 * const high: TierActivity = { acknowledged: 30, retried: 2, processing: 4 };
 * ```
 */
export interface TierActivity {
  readonly acknowledged: number;
  readonly retried: number;
  readonly processing: number;
}

/**
 * Where {@link QueueActivity} comes from: the local stack's monitor file, CloudWatch on AWS.
 * Resolves undefined when the source has nothing current.
 *
 * @example
 * ```ts
 * const source: ActivitySource = localActivity('.tierq/monitor.json');
 * ```
 */
export type ActivitySource = () => Promise<QueueActivity | undefined>;

/**
 * The file the local stack (`npm start`) rewrites every few seconds.
 *
 * @example
 * ```ts
 * const file: MonitorFile = JSON.parse(await readFile('.tierq/monitor.json', 'utf8'));
 * ```
 */
export interface MonitorFile extends QueueActivity {
  /** ISO-8601; a file older than {@link MONITOR_STALE_MS} is ignored. */
  readonly updatedAt: string;
}

/** Where the local stack writes its monitor file: beside its connection file. */
export const LOCAL_MONITOR_FILE = '.tierq/monitor.json';

/** A monitor file not rewritten for this long belongs to a stack that is no longer running. */
export const MONITOR_STALE_MS = 15_000;

/**
 * Reads the local stack's monitor file; undefined when it is missing, malformed or stale.
 *
 * @example
 * ```ts
 * const info = await snapshot({ sqs, queues, dlqUrl, activity: localActivity('.tierq/monitor.json') });
 * ```
 */
export function localActivity(path: string, now: () => number = Date.now): ActivitySource {
  return async () => {
    let file: MonitorFile;
    try {
      file = JSON.parse(await readFile(path, 'utf8')) as MonitorFile;
    } catch {
      return undefined;
    }
    const updatedAt = Date.parse(file.updatedAt);
    if (!(now() - updatedAt < MONITOR_STALE_MS)) return undefined;
    const { updatedAt: _, ...activity } = file;
    return activity;
  };
}
