import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { LEASE_GRACE_MS } from '../../shared/consumer/middleware/tenant-limits.js';
import { createProducer, type Producer } from '../../shared/producer/producer.js';
import { uniqueName, waitFor } from '../helpers/aws.js';
import { synthesizeFairnessApp } from './fairness-app/stack.js';
import { FAIR_ONE_TIMEOUT_MS, FairTask, type RunEvent } from './fairness-app/tasks.js';

/**
 * Per-tenant concurrency through the whole local stack: the fairness app synthesized, its
 * consumer in sandboxes (a process each, many at once on the critical tier), the table behind
 * the IAM gateway (so the consumer's role must be granted the `lease#` keys), tasks enqueued by
 * the tierq producer with a tenant (sent as `MessageGroupId`). A recorder in this process hears
 * when each run starts and ends, so overlapping runs of a tenant are counted across processes,
 * and a sandbox that exits mid-run is a real crash: no after-hook runs, its lease is never
 * released and must expire.
 */

/** Crashed records come back after 12 s: longer than 11 sandboxes take to start cold on two cores. */
const VISIBILITY_SECONDS = 12;

const workDir = mkdtempSync(join(tmpdir(), 'tierq-fairness-'));
const starts: RunEvent[] = [];
const ends: RunEvent[] = [];
let recorder: Server;
let stack: LocalStack;
let producer: Producer;

beforeAll(async () => {
  recorder = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => {});
    req.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RunEvent;
      (req.url === '/start' ? starts : ends).push(event);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
  const emulators = inject('emulators');
  stack = await startLocalStack({
    assemblyDir: synthesizeFairnessApp(join(workDir, 'cdk.out')),
    emulators: { region: emulators.region, endpoints: emulators.endpoints },
    namePrefix: uniqueName('fair'),
    stateFile: false,
    visibilityTimeoutOverride: VISIBILITY_SECONDS,
    functionEnvironment: { FAIR_RECORDER_URL: recorderUrl },
  });
  const credentials = stack.principals?.producer;
  producer = createProducer({
    region: stack.region,
    endpoints: stack.endpoints,
    queues: stack.queues,
    table: stack.table,
    ...(credentials === undefined ? {} : { credentials }),
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  recorder?.closeAllConnections();
  await new Promise((resolve) => recorder?.close(resolve));
  await rm(workDir, { recursive: true, force: true });
});

/** The most finished runs of `tenant` that overlapped, from their start and end times. */
function maxOverlap(tenant: string): number {
  const finished = ends.filter((e) => e.tenant === tenant);
  const ended = (s: RunEvent) => finished.some((e) => e.key === s.key && e.attempt === s.attempt);
  const points = [
    ...starts.filter((e) => e.tenant === tenant && ended(e)).map((e) => ({ at: e.at, d: 1 })),
    ...finished.map((e) => ({ at: e.at, d: -1 })),
  ].sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const p of points) {
    now += p.d;
    max = Math.max(max, now);
  }
  return max;
}

describe('per-tenant concurrency through the local stack', () => {
  it('never runs more than perTenant of a tenant at once across sandboxes, each task once, no attempt spent', async () => {
    const tenants = ['acme', 'globex', 'initech'];
    const perTenant = 20;
    const items = tenants.flatMap((tenant) =>
      Array.from({ length: perTenant }, (_, i) => ({
        task: FairTask.two,
        payload: { key: `${tenant}-${i}`, tenant, sleepMs: 300, crashOnFirstAttempt: false },
        options: { priority: 'critical', tenant },
      })),
    );
    const results = await producer.enqueueMany(items);
    expect(results.every((r) => r.status === 'sent')).toBe(true);

    await waitFor(() => ends.filter((e) => tenants.includes(e.tenant)).length >= items.length, {
      timeoutMs: 90_000,
      intervalMs: 200,
      message: 'every task of the three tenants to finish',
    });
    const ran = starts.filter((e) => tenants.includes(e.tenant));
    const overlaps = Object.fromEntries(tenants.map((t) => [t, maxOverlap(t)]));
    const sandboxes = new Set(ran.map((e) => e.pid)).size;
    const stats = stack.stats().map((m) => ({ errors: m.errors, timeouts: m.timeouts }));
    const retried = ran.filter((e) => e.attempt > 1);
    console.info('three tenants × 20 tasks, perTenant 2', { overlaps, sandboxes, stats, retried });

    expect(ran).toHaveLength(items.length);
    expect(new Set(ran.map((e) => e.key)).size).toBe(items.length);
    for (const tenant of tenants) expect(overlaps[tenant]).toBeLessThanOrEqual(2);
    // The limit was reached, by runs in more than one sandbox.
    expect(Math.max(...Object.values(overlaps))).toBe(2);
    expect(sandboxes).toBeGreaterThan(1);
    // Every deferral was free: each task ran on its first attempt (and no invocation failed).
    expect(retried).toEqual([]);
    expect(stats.every((m) => m.errors === 0 && m.timeouts === 0)).toBe(true);
  });

  it("frees a crashed invocation's lease when it expires, holding the tenant's other tasks until then", async () => {
    const tenant = 'crashy';
    const task = (key: string, crash: boolean) => ({
      task: FairTask.one,
      payload: { key, tenant, sleepMs: 50, crashOnFirstAttempt: crash },
      options: { priority: 'high', tenant },
    });
    await producer.enqueueMany([task('crash', true)]);
    const crashed = await waitFor(() => starts.find((e) => e.key === 'crash'), {
      timeoutMs: 30_000,
      message: 'the crashing run to start',
    });
    await producer.enqueueMany([task('after-1', false), task('after-2', false), task('after-3', false)]);

    const later = ['after-1', 'after-2', 'after-3', 'crash'];
    await waitFor(() => later.every((key) => ends.some((e) => e.key === key)), {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: "the crashed task and the tenant's others to finish",
    });
    const others = starts.filter((e) => e.key.startsWith('after-'));
    const firstOther = Math.min(...others.map((e) => e.at));
    console.info('crashed lease', {
      crashStartedAt: crashed.at,
      firstOtherAfterMs: firstOther - crashed.at,
      crashRetriedAfterMs: (starts.find((e) => e.key === 'crash' && e.attempt > 1)?.at ?? 0) - crashed.at,
    });

    // The lease outlived the crash: no other run of the tenant started while the dead one's run
    // could still have been running (its lease lasts timeoutMs + the grace + 1 s from its take)…
    expect(firstOther - crashed.at).toBeGreaterThanOrEqual(FAIR_ONE_TIMEOUT_MS + LEASE_GRACE_MS);
    // …and not much longer: the crashed invocation's deadline (15 s) was not waited for.
    expect(firstOther - crashed.at).toBeLessThan(FAIR_ONE_TIMEOUT_MS + LEASE_GRACE_MS + 6_000);
    // …and then it expired: every task ran, the others on their first attempt, one at a time.
    expect(others).toHaveLength(3);
    expect(others.every((e) => e.attempt === 1)).toBe(true);
    expect(maxOverlap(tenant)).toBeLessThanOrEqual(1);
    expect(starts.filter((e) => e.key === 'crash').map((e) => e.attempt)).toEqual([1, 2]);
  });
});
