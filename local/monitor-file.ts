import { rm } from 'node:fs/promises';
import type { MonitorFile } from '../shared/monitoring/activity.js';
import type { LocalStack } from './stack.js';
import { writeJsonAtomically } from './stack-info.js';
import type { TaskCounts } from './task-metrics-tap.js';

/** Options of {@link startMonitorFile}. */
export interface MonitorFileOptions {
  readonly path: string;
  readonly stack: Pick<LocalStack, 'oldestMessageAges'>;
  /** The consumer's cumulative counts per task (the EMF tap). */
  readonly counts: () => TaskCounts;
  /** Default 2 000. */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

interface Sample {
  readonly at: number;
  readonly completed: number;
  readonly failed: number;
}

const WINDOW_MS = 60_000;

function totals(counts: TaskCounts): { completed: number; failed: number } {
  let completed = 0;
  let failed = 0;
  for (const row of Object.values(counts)) {
    completed += row.TaskSucceeded ?? 0;
    failed += row.TaskFailed ?? 0;
  }
  return { completed, failed };
}

/**
 * Rewrites `.tierq/monitor.json` every few seconds with what `tierq status` cannot get from SQS
 * locally: each tier's oldest message age (from the emulator) and tasks completed and failed
 * over the last minute (from the consumer's own metrics) — the local stand-ins for CloudWatch.
 * The counts cover the time since start-up until a whole minute has passed.
 *
 * @example
 * const monitor = startMonitorFile({ path: '.tierq/monitor.json', stack, counts: tap.counts });
 * await monitor.stop();
 */
export function startMonitorFile(options: MonitorFileOptions): { stop(): Promise<void> } {
  const now = options.now ?? Date.now;
  const samples: Sample[] = [{ at: now(), ...totals(options.counts()) }];
  let writing: Promise<void> = Promise.resolve();
  const write = () => {
    const sample: Sample = { at: now(), ...totals(options.counts()) };
    samples.push(sample);
    while (samples.length > 2 && (samples[1] as Sample).at <= sample.at - WINDOW_MS) samples.shift();
    const first = samples[0] as Sample;
    const file: MonitorFile = {
      updatedAt: new Date(sample.at).toISOString(),
      oldestAgeSeconds: options.stack.oldestMessageAges(),
      perMinute: { completed: sample.completed - first.completed, failed: sample.failed - first.failed },
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
