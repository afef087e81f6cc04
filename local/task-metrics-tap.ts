/** Counts per task name, from the consumer's EMF metrics (`TaskSucceeded`, `TaskDeferred`, …). */
export type TaskCounts = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** One enqueue→completion latency the consumer reported (`TaskLatency`), when the tap saw it. */
export interface LatencySample {
  readonly at: number;
  readonly task: string;
  readonly ms: number;
}

const EMF_PREFIX = '{"_aws":';
/** `TaskMetric.latency` (shared/consumer/middleware/task-metrics.ts), not imported: that module loads Powertools. */
const LATENCY_METRIC = 'TaskLatency';
/** Latencies older than this are dropped: the dashboard shows percentiles over the last minute. */
const LATENCY_KEEP_MS = 120_000;
/** And at most this many, so a long burst cannot grow the tap without bound. */
const LATENCY_KEEP_COUNT = 20_000;

/** True for one EMF document as Powertools Metrics writes it: a single JSON line. */
export function isMetricsLine(chunk: unknown): boolean {
  return typeof chunk === 'string' && chunk.startsWith(EMF_PREFIX);
}

interface EmfDocument {
  readonly _aws?: { CloudWatchMetrics?: { Metrics?: { Name: string; Unit?: string }[] }[] };
  readonly [key: string]: unknown;
}

/**
 * Reads the consumer's own metrics locally. The functions run in this process and Powertools
 * writes EMF documents to stdout for CloudWatch, which is not here: this tap takes them off
 * stdout (they would drown the terminal) and adds up the counts per `task` dimension, so the
 * live view shows what CloudWatch would: retries, deferrals, duplicates, dead letters.
 * Needs `POWERTOOLS_METRICS_DISABLED=false` before the functions load.
 *
 * @example
 * const tap = tapTaskMetrics();
 * tap.counts().limited?.TaskDeferred;
 * tap.release();
 */
export function tapTaskMetrics(): {
  counts(): TaskCounts;
  /** Latencies of the last two minutes, oldest first. */
  latencies(): readonly LatencySample[];
  release(): void;
} {
  const counts: Record<string, Record<string, number>> = {};
  const latencies: LatencySample[] = [];
  const original = process.stdout.write;
  const add = (doc: EmfDocument) => {
    const task = typeof doc.task === 'string' ? doc.task : 'unknown';
    const row = counts[task] ?? {};
    counts[task] = row;
    for (const directive of doc._aws?.CloudWatchMetrics ?? []) {
      for (const metric of directive.Metrics ?? []) {
        const value = doc[metric.Name];
        const values = Array.isArray(value) ? value : [value];
        if (metric.Name === LATENCY_METRIC) {
          const at = Date.now();
          for (const ms of values)
            if (Number.isFinite(Number(ms))) latencies.push({ at, task, ms: Number(ms) });
          continue;
        }
        if (metric.Unit !== 'Count') continue;
        row[metric.Name] = (row[metric.Name] ?? 0) + values.reduce((a: number, v) => a + Number(v || 0), 0);
      }
    }
  };
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (!isMetricsLine(chunk))
      return (original as (...a: unknown[]) => boolean).apply(process.stdout, [chunk, ...rest]);
    try {
      add(JSON.parse(chunk as string) as EmfDocument);
    } catch {
      // Not one whole document after all: let it through rather than lose it.
      return (original as (...a: unknown[]) => boolean).apply(process.stdout, [chunk, ...rest]);
    }
    const callback = rest.find((r) => typeof r === 'function') as ((e?: Error | null) => void) | undefined;
    if (callback) queueMicrotask(() => callback(null));
    return true;
  }) as typeof process.stdout.write;
  return {
    counts: () => counts,
    latencies() {
      const since = Date.now() - LATENCY_KEEP_MS;
      let drop = 0;
      while (drop < latencies.length && (latencies[drop] as LatencySample).at < since) drop++;
      drop = Math.max(drop, latencies.length - LATENCY_KEEP_COUNT);
      if (drop > 0) latencies.splice(0, drop);
      return latencies;
    },
    release() {
      process.stdout.write = original;
    },
  };
}
