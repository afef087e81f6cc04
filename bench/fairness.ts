/**
 * Benchmark: per-tenant fairness (issue 14). A quiet tenant's 100 tasks, first alone, then
 * enqueued at the same moment as a noisy tenant's 10,000 — the same task, with
 * `concurrency.perTenant` — through the local stack (sandboxes, the event source runner, IAM
 * gateway). What counts is the quiet tenant's p95 enqueue→completion latency, contended ÷ alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { type LocalStack, startLocalStack } from '../local/stack.js';
import { createProducer, type EnqueueItem, type Producer } from '../shared/producer/index.js';
import { synthesizeFairnessBench } from './fairness-app/stack.js';
import { type BenchContext, type Benchmark, fmt, table } from './lib/benchmark.js';
import { uniqueName } from './lib/resources.js';
import { round, type Summary, summarize } from './lib/stats.js';

const NOISY_TASKS = 10_000;
const QUIET_TASKS = 100;
const PER_TENANT = 5;
/** What each task does: wait this long, as a call to a downstream would. */
const TASK_MS = 100;
const TIER = 'high';
const DEADLINE_MS = 300_000;
/** The target: contended p95 within this many times the p95 alone. */
const TARGET_RATIO = 2;
/** How long the noisy tenant's throughput is watched once the quiet tenant is done. */
const NOISY_ALONE_MS = 10_000;

/** One tenant's latencies in one phase, ms. */
interface PhaseFigures {
  readonly latencyMs: Summary;
  /** From the first enqueue until the tenant's last task completed. */
  readonly drainedMs: number;
}

/** The result of the fairness benchmark. */
export interface FairnessResult {
  readonly noisyTasks: number;
  readonly quietTasks: number;
  readonly perTenant: number;
  readonly taskMs: number;
  readonly tier: string;
  readonly alone: PhaseFigures;
  readonly contended: PhaseFigures;
  /** Noisy tasks completed by the time the quiet tenant's last one completed. */
  readonly noisyDoneWhenQuietDone: number;
  /** How long the noisy tenant's 10,000 enqueues took (in chunks of 500). */
  readonly noisyEnqueueMs: number;
  /** Noisy tasks completed per second in the {@link NOISY_ALONE_MS} after the quiet tenant was done. */
  readonly noisyTasksPerSecondAlone: number;
  /** What the noisy tenant could do at most: perTenant runs of taskMs each, back to back. */
  readonly noisyTasksPerSecondCeiling: number;
  /** Contended p95 ÷ alone p95. */
  readonly p95Ratio: number;
  readonly met: boolean;
  /** 1-minute load average before each phase (the machine is shared). */
  readonly loadAverage: { readonly alone: number; readonly contended: number };
}

interface Completion {
  readonly tenant: string;
  readonly sentAt: number;
  readonly doneAt: number;
}

async function startRecorder() {
  const done: Completion[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => {});
    req.on('end', () => {
      done.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Completion);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    done,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function items(tenant: string, n: number): EnqueueItem[] {
  return Array.from({ length: n }, () => ({
    task: 'tenant-work',
    payload: { tenant, sentAt: Date.now(), sleepMs: TASK_MS },
    options: { priority: TIER, tenant },
  }));
}

async function enqueueAll(producer: Producer, all: EnqueueItem[]): Promise<void> {
  // In chunks, so a tenant's first tasks are in the queue while its last are still being built.
  for (let i = 0; i < all.length; i += 500) {
    const results = await producer.enqueueMany(all.slice(i, i + 500));
    const failed = results.find((r) => r.status !== 'sent');
    if (failed) throw new Error(`enqueue failed: ${JSON.stringify(failed)}`);
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`fairness: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function figures(done: readonly Completion[], tenant: string, startedAt: number): PhaseFigures {
  const mine = done.filter((c) => c.tenant === tenant);
  return {
    latencyMs: roundSummary(summarize(mine.map((c) => c.doneAt - c.sentAt))),
    drainedMs: Math.max(...mine.map((c) => c.doneAt)) - startedAt,
  };
}

function roundSummary(s: Summary): Summary {
  return {
    n: s.n,
    mean: round(s.mean, 0),
    p50: round(s.p50, 0),
    p95: round(s.p95, 0),
    min: round(s.min, 0),
    max: round(s.max, 0),
  };
}

async function run(context: BenchContext): Promise<FairnessResult> {
  const { progress, endpoints } = context;
  const workDir = await mkdtemp(join(os.tmpdir(), 'tierq-fairness-bench-'));
  const recorder = await startRecorder();
  let stack: LocalStack | undefined;
  try {
    progress.update('synthesizing the fairness app');
    stack = await startLocalStack({
      assemblyDir: synthesizeFairnessBench(join(workDir, 'cdk.out')),
      emulators: { region: 'us-east-1', endpoints },
      namePrefix: uniqueName('fair'),
      stateFile: false,
      functionEnvironment: {
        FAIRNESS_RECORDER_URL: recorder.url,
        FAIRNESS_PER_TENANT: String(PER_TENANT),
      },
      onProgress: (line) => progress.update(line),
    });
    const running = stack;
    context.onInterrupt(() => running.stop());
    const credentials = stack.principals?.producer;
    const producer = createProducer({
      region: stack.region,
      endpoints: stack.endpoints,
      queues: stack.queues,
      table: stack.table,
      ...(credentials === undefined ? {} : { credentials }),
    });

    // Warm every poller's sandbox: many tenants, so no task waits for a lease.
    progress.update('warming the sandboxes');
    const warm = Array.from({ length: 50 }, (_, i) => items(`warm-${i}`, 4)).flat();
    await enqueueAll(producer, warm);
    await until(() => recorder.done.length >= warm.length, 'the warm-up tasks');

    progress.update(`alone: ${QUIET_TASKS} tasks of the quiet tenant`);
    const loadAlone = os.loadavg()[0] ?? Number.NaN;
    let started = Date.now();
    await enqueueAll(producer, items('quiet-alone', QUIET_TASKS));
    await until(
      () => recorder.done.filter((c) => c.tenant === 'quiet-alone').length >= QUIET_TASKS,
      'the quiet tenant alone',
    );
    const alone = figures(recorder.done, 'quiet-alone', started);

    progress.update(`contended: ${NOISY_TASKS} noisy and ${QUIET_TASKS} quiet tasks at once`);
    const loadContended = os.loadavg()[0] ?? Number.NaN;
    started = Date.now();
    let noisyEnqueueMs = 0;
    await Promise.all([
      enqueueAll(producer, items('noisy', NOISY_TASKS)).then(() => {
        noisyEnqueueMs = Date.now() - started;
      }),
      enqueueAll(producer, items('quiet', QUIET_TASKS)),
    ]);
    await until(
      () => recorder.done.filter((c) => c.tenant === 'quiet').length >= QUIET_TASKS,
      'the quiet tenant beside the noisy one',
    );
    const contended = figures(recorder.done, 'quiet', started);
    const quietDoneAt = started + contended.drainedMs;
    const noisyDone = recorder.done.filter((c) => c.tenant === 'noisy' && c.doneAt <= quietDoneAt).length;
    progress.update('the noisy tenant alone');
    const watchFrom = Date.now();
    await new Promise((resolve) => setTimeout(resolve, NOISY_ALONE_MS));
    const noisyAlone = recorder.done.filter(
      (c) => c.tenant === 'noisy' && c.doneAt > watchFrom && c.doneAt <= watchFrom + NOISY_ALONE_MS,
    ).length;
    const p95Ratio = round(contended.latencyMs.p95 / alone.latencyMs.p95, 2);
    return {
      noisyTasks: NOISY_TASKS,
      quietTasks: QUIET_TASKS,
      perTenant: PER_TENANT,
      taskMs: TASK_MS,
      tier: TIER,
      alone,
      contended,
      noisyDoneWhenQuietDone: noisyDone,
      noisyEnqueueMs,
      noisyTasksPerSecondAlone: round(noisyAlone / (NOISY_ALONE_MS / 1000), 1),
      noisyTasksPerSecondCeiling: round((PER_TENANT * 1000) / TASK_MS, 1),
      p95Ratio,
      met: p95Ratio <= TARGET_RATIO,
      loadAverage: { alone: round(loadAlone, 2), contended: round(loadContended, 2) },
    };
  } finally {
    progress.update('stopping the fairness stack');
    await stack?.stop();
    await recorder.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

function render(r: FairnessResult): string {
  const row = (name: string, f: PhaseFigures, load: number) => [
    name,
    f.latencyMs.n,
    fmt(f.latencyMs.p50, 0),
    fmt(f.latencyMs.p95, 0),
    fmt(f.latencyMs.max, 0),
    fmt(f.drainedMs / 1000, 1),
    fmt(load, 2),
  ];
  return [
    `The same task (\`concurrency: { perTenant: ${r.perTenant} }\`, ${r.taskMs} ms of work) on the ` +
      `\`${r.tier}\` tier of the local stack. The quiet tenant enqueues ${r.quietTasks} tasks alone, ` +
      `then at the same moment as a noisy tenant's ${fmt(r.noisyTasks, 0)}.`,
    '',
    table(
      ['quiet tenant', 'tasks', 'p50 ms', 'p95 ms', 'max ms', 'all done after s', 'load avg (1 min)'],
      [
        row('alone', r.alone, r.loadAverage.alone),
        row(`beside ${fmt(r.noisyTasks, 0)} noisy`, r.contended, r.loadAverage.contended),
      ],
    ),
    '',
    `**p95 contended ÷ alone: ${fmt(r.p95Ratio, 2)}×** (target ≤ ${TARGET_RATIO}×: ${r.met ? 'met' : 'missed'}). ` +
      `Noisy tasks completed by then: ${fmt(r.noisyDoneWhenQuietDone, 0)} of ${fmt(r.noisyTasks, 0)} ` +
      `(its enqueue took ${fmt(r.noisyEnqueueMs / 1000, 1)} s); in the ${NOISY_ALONE_MS / 1000} s after, ` +
      `${fmt(r.noisyTasksPerSecondAlone, 1)} noisy tasks/s, against a ceiling of ${fmt(r.noisyTasksPerSecondCeiling, 0)}/s ` +
      `(${r.perTenant} at once × ${r.taskMs} ms).`,
  ].join('\n');
}

/** Benchmark 6: per-tenant fairness. */
export const fairness: Benchmark<FairnessResult> = {
  name: 'fairness',
  title: 'Per-tenant fairness',
  run,
  render,
};
