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
    return {
      ...(file.oldestAgeSeconds === undefined ? {} : { oldestAgeSeconds: file.oldestAgeSeconds }),
      ...(file.perMinute === undefined ? {} : { perMinute: file.perMinute }),
    };
  };
}
