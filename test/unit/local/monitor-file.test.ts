import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { percentiles, startMonitorFile } from '../../../local/monitor-file.js';
import type { TaskCounts } from '../../../local/task-metrics-tap.js';
import { localActivity, MONITOR_STALE_MS, type MonitorFile } from '../../../shared/monitoring/activity.js';

async function setup() {
  const path = join(await mkdtemp(join(tmpdir(), 'tierq-monitor-')), 'monitor.json');
  let now = 1_000_000;
  let counts: TaskCounts = {};
  const monitor = startMonitorFile({
    path,
    stack: { oldestMessageAges: () => ({ high: 7, low: null }) },
    counts: () => counts,
    intervalMs: 10,
    now: () => now,
  });
  return {
    path,
    monitor,
    advance: (ms: number) => (now += ms),
    setCounts: (c: TaskCounts) => (counts = c),
    read: async () => JSON.parse(await readFile(path, 'utf8')) as MonitorFile,
  };
}

describe('startMonitorFile', () => {
  it('writes oldest ages at once, and removes the file on stop', async () => {
    const { path, monitor, read } = await setup();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await read()).toMatchObject({
      oldestAgeSeconds: { high: 7, low: null },
      perMinute: { completed: 0, failed: 0 },
    });
    await monitor.stop();
    await expect(readFile(path, 'utf8')).rejects.toThrow(/ENOENT/);
  });
});

describe('startMonitorFile per-minute counts', () => {
  it('counts completions and failures over the last minute only', async () => {
    const { monitor, advance, setCounts, read } = await setup();
    await waitUntil(read, (f) => f.perMinute?.completed === 0);
    setCounts({ echo: { TaskSucceeded: 5, TaskFailed: 1 }, sleep: { TaskSucceeded: 2 } });
    advance(2_000);
    await waitUntil(read, (f) => f.perMinute?.completed === 7);
    expect((await read()).perMinute).toEqual({ completed: 7, failed: 1 });
    advance(61_000); // nothing new for over a minute
    await waitUntil(read, (f) => f.perMinute?.completed === 0);
    expect((await read()).perMinute).toEqual({ completed: 0, failed: 0 });
    await monitor.stop();
  });
});

describe('startMonitorFile figures for the dashboard', () => {
  it('writes per task, per tier, latency percentiles and alarm states over the last minute', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'tierq-monitor-')), 'monitor.json');
    let now = 1_000_000;
    let counts: TaskCounts = { echo: { TaskSucceeded: 10 } };
    const stats = [
      { queueUrl: 'u-high', succeeded: 4, failed: 1, inFlight: 2 },
      { queueUrl: 'u-low', succeeded: 0, failed: 0, inFlight: 0 },
    ];
    const monitor = startMonitorFile({
      path,
      stack: {
        oldestMessageAges: () => ({ high: 1, low: null }),
        queues: { high: 'u-high', low: 'u-low' },
        stats: () => stats as never,
        alarmStates: () => ({ DlqAlarm: 'ALARM' }),
      },
      counts: () => counts,
      latencies: () => [
        { at: now - 120_000, task: 'echo', ms: 99_999 }, // older than the window: left out
        ...[10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((ms) => ({ at: now - 1_000, task: 'echo', ms })),
        { at: now - 1_000, task: 'flaky', ms: 500 },
      ],
      intervalMs: 10,
      now: () => now,
    });
    const read = async () => JSON.parse(await readFile(path, 'utf8')) as MonitorFile;
    counts = { echo: { TaskSucceeded: 13, TaskRetried: 2, TaskFailed: 2 }, flaky: { TaskDeadLettered: 1 } };
    stats[0] = { queueUrl: 'u-high', succeeded: 9, failed: 3, inFlight: 5 };
    now += 30_000;
    await waitUntil(read, (f) => f.perTask?.echo?.completed === 3);
    const file = await read();
    expect(file.perTask?.echo).toEqual({
      completed: 3,
      failed: 2,
      retried: 2,
      deadLettered: 0,
      deferred: 0,
      latency: { p50Ms: 50, p95Ms: 100, count: 10 },
    });
    expect(file.perTask?.flaky).toMatchObject({
      deadLettered: 1,
      latency: { p50Ms: 500, p95Ms: 500, count: 1 },
    });
    expect(file.perTier).toEqual({
      high: { acknowledged: 5, retried: 2, processing: 5 },
      low: { acknowledged: 0, retried: 0, processing: 0 },
    });
    expect(file.latency).toEqual({ p50Ms: 60, p95Ms: 500, count: 11 });
    expect(file.alarms).toEqual({ DlqAlarm: 'ALARM' });
    expect(file.windowSeconds).toBe(30);
    await monitor.stop();
  });
});

describe('percentiles', () => {
  it('takes the nearest rank, and null for no values', () => {
    expect(percentiles([5])).toEqual({ p50Ms: 5, p95Ms: 5, count: 1 });
    expect(percentiles([40, 10, 30, 20])).toEqual({ p50Ms: 20, p95Ms: 40, count: 4 });
    expect(percentiles([])).toEqual({ p50Ms: null, p95Ms: null, count: 0 });
  });
});

/** Polls the file until `ok` holds (the writer runs every 10 ms); fails after 2 s. */
async function waitUntil(read: () => Promise<MonitorFile>, ok: (f: MonitorFile) => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const file = await read().catch(() => undefined);
    if (file !== undefined && ok(file)) return;
    if (Date.now() > deadline) throw new Error(`monitor file never matched; last: ${JSON.stringify(file)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('localActivity', () => {
  it('reads a fresh file and ignores a stale or missing one', async () => {
    const { path, monitor } = await setup();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const written = Date.parse(JSON.parse(await readFile(path, 'utf8')).updatedAt);
    expect(await localActivity(path, () => written + 1_000)()).toEqual({
      oldestAgeSeconds: { high: 7, low: null },
      perMinute: { completed: 0, failed: 0 },
      windowSeconds: 0,
      perTask: {},
      perTier: {},
      latency: { p50Ms: null, p95Ms: null, count: 0 },
    });
    expect(await localActivity(path, () => written + MONITOR_STALE_MS)()).toBeUndefined();
    await monitor.stop();
    expect(await localActivity(path)()).toBeUndefined();
  });
});
