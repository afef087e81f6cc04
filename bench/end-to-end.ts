import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LOCAL_CREDENTIALS } from '../local/emulators.js';
import { startLocalStack } from '../local/stack.js';
import { createProducer, type EnqueueItem } from '../shared/producer/index.js';
import { dynamoCeiling, sqsCeiling } from './emulator-ceiling.js';
import {
  analyse,
  type CeilingComparison,
  compareWithCeiling,
  type EndToEndCounts,
  type TimeBreakdown,
} from './end-to-end-analysis.js';
import { renderEndToEnd } from './end-to-end-report.js';
import type { BenchContext, Benchmark } from './lib/benchmark.js';
import { traceHttp } from './lib/http-trace.js';
import { messagesOn, sqsClient, uniqueName } from './lib/resources.js';

const TASKS = 6_000;
const DEADLINE_MS = 180_000;
// A BatchWriteItem counts as one request here: the wire trace sees requests, not items (see the report).
const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'];

/** The result of the end-to-end benchmark. */
export interface EndToEndResult {
  readonly tasks: number;
  readonly task: string;
  readonly tasksByTier: Record<string, number>;
  readonly enqueueSeconds: number;
  readonly totalSeconds: number;
  readonly tasksPerSecond: number;
  readonly failedRecords: number;
  /** Records handed to the consumer; more than `tasks` would mean redeliveries. */
  readonly recordsDelivered: number;
  readonly deadLettered: number;
  readonly counts: EndToEndCounts;
  readonly breakdown: TimeBreakdown;
  readonly ceiling: CeilingComparison;
  /** Size of the consumer bundle `cdk synth` produced, to compare with the cold-start bundle. */
  readonly consumerAssetBytes: number | undefined;
  /**
   * Share of the window this process's event loop was busy. fauxqs, the runner's pollers, the
   * consumer and the producer all share it, so near 1 it is the bottleneck, and request
   * latencies measured here include waiting for it.
   */
  readonly eventLoopUtilization: number;
  /** CPU time of this process ÷ wall time (cores in use; DynamoDB Local's java is apart). */
  readonly nodeCpuCores: number;
}

/** Splits `total` tasks across tiers in proportion to their pollers, so every tier drains together. */
function split(total: number, pollers: Record<string, number>): Record<string, number> {
  const all = Object.values(pollers).reduce((a, b) => a + b, 0);
  const shares = Object.fromEntries(
    Object.entries(pollers).map(([tier, p]) => [tier, Math.floor((total * p) / all)]),
  );
  const first = Object.keys(shares)[0] as string;
  shares[first] = (shares[first] ?? 0) + total - Object.values(shares).reduce((a, b) => a + b, 0);
  return shares;
}

async function assetBytes(dir: string): Promise<number | undefined> {
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (!entry.startsWith('asset.')) continue;
    const size = await stat(join(dir, entry, 'index.js')).then(
      (s) => s.size,
      () => undefined,
    );
    if (size !== undefined) return size;
  }
  return undefined;
}

async function run(context: BenchContext): Promise<EndToEndResult> {
  const { endpoints, progress } = context;
  const sqsBefore = await sqsCeiling(endpoints, progress);
  const dynamoBefore = await dynamoCeiling(endpoints, progress);
  const outputDir = join('.tierq', uniqueName('bench-cdk.out'));
  let ready = false;
  // Registered before synth starts: an interrupt during synth must not leave the assembly behind.
  context.onInterrupt(() => rm(outputDir, { recursive: true, force: true }));
  const stack = await startLocalStack({
    emulators: { region: 'us-east-1', endpoints },
    outputDir,
    namePrefix: uniqueName('bench'),
    stateFile: false,
    demo: false,
    // Start-up steps go on the progress line; once ready, lines are notable events (a failed
    // or timed-out invocation) and must stay visible.
    onProgress: (line) => (ready ? progress.log(`  local stack: ${line}`) : progress.update(line)),
  });
  ready = true;
  context.onInterrupt(() => stack.stop());
  const client = sqsClient(endpoints);
  const trace = traceHttp(endpoints);
  try {
    const tierOf = new Map(Object.entries(stack.queues).map(([tier, url]) => [url, tier]));
    const pollers = Object.fromEntries(
      stack.stats().map((s) => [tierOf.get(s.queueUrl) ?? s.queueUrl, s.pollers]),
    );
    const tasksByTier = split(TASKS, pollers);
    const items: EnqueueItem[] = Object.entries(tasksByTier).flatMap(([tier, n]) =>
      Array.from({ length: n }, (_, i) => ({
        task: 'echo',
        payload: { tier, i },
        options: { priority: tier },
      })),
    );
    const producer = createProducer({
      region: stack.region,
      queues: stack.queues,
      table: stack.table,
      credentials: LOCAL_CREDENTIALS,
      sqs: client,
    });
    const elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const start = performance.now();
    const sent = await producer.enqueueMany(items);
    const enqueued = performance.now();
    if (sent.some((r) => r.status !== 'sent')) throw new Error('end-to-end: some tasks were not enqueued');
    // Done when SQS says so: every tier queue empty, nothing in flight or delayed. The runner's
    // `succeeded` counter is not used: it loses increments when pollers of one mapping delete
    // at the same time (`s.succeeded += await …` reads the counter before the await).
    const left = async () => messagesOn(client, Object.values(stack.queues));
    for (let n = await left(); n > 0; n = await left()) {
      if (performance.now() - start > DEADLINE_MS)
        throw new Error(`end-to-end: ${n} tasks left after ${DEADLINE_MS} ms`);
      const failed = stack.stats().reduce((total, s) => total + s.failed, 0);
      progress.update(
        `${TASKS - n}/${TASKS} tasks done, ${failed} records failed (they return after their visibility timeout)`,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const end = performance.now();
    const used = process.cpuUsage(cpu);
    const eventLoopUtilization = performance.eventLoopUtilization(elu).utilization;
    const stats = stack.stats();
    const { counts, breakdown } = analyse(trace.between(start, end), stats, TASKS, start, end);
    const tasksPerSecond = TASKS / ((end - start) / 1000);
    const writesPerTask = WRITES.reduce((total, op) => total + (counts.dynamoPerTask[op] ?? 0), 0);
    const failedRecords = stats.reduce(
      (total, s) => total + s.failed + s.errors + s.timeouts + s.malformed,
      0,
    );
    const recordsDelivered = stats.reduce((total, s) => total + s.records, 0);
    const deadLettered = await messagesOn(client, [stack.dlq]);
    const consumerAssetBytes = await assetBytes(outputDir);
    // The stack's pollers stop before the second measurement, so they do not compete with it.
    await stack.stop();
    const sqsAfter = await sqsCeiling(endpoints, progress);
    const dynamoAfter = await dynamoCeiling(endpoints, progress);
    return {
      tasks: TASKS,
      task: 'echo (functions/tasks.ts; idempotency: default `lock`, no rate limit)',
      tasksByTier,
      enqueueSeconds: (enqueued - start) / 1000,
      totalSeconds: (end - start) / 1000,
      tasksPerSecond,
      failedRecords,
      recordsDelivered,
      deadLettered,
      counts,
      breakdown,
      ceiling: compareWithCeiling(
        tasksPerSecond,
        [sqsBefore, sqsAfter],
        [dynamoBefore, dynamoAfter],
        writesPerTask,
      ),
      consumerAssetBytes,
      eventLoopUtilization,
      nodeCpuCores: (used.user + used.system) / 1000 / (end - start),
    };
  } finally {
    trace.stop();
    client.destroy();
    await stack.stop();
    await rm(outputDir, { recursive: true, force: true });
  }
}

/** End to end: tasks/s through the local stack against the emulators' own ceiling. */
export const endToEnd: Benchmark<EndToEndResult> = {
  name: 'end-to-end',
  title: 'End to end',
  run,
  render: renderEndToEnd,
};
