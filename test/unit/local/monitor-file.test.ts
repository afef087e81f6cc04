import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startMonitorFile } from '../../../local/monitor-file.js';
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
    });
    expect(await localActivity(path, () => written + MONITOR_STALE_MS)()).toBeUndefined();
    await monitor.stop();
    expect(await localActivity(path)()).toBeUndefined();
  });
});
