import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS } from '../local/emulators.js';
import type { MappingStats } from '../local/event-source-runner.js';
import { type LocalStack, startLocalStack } from '../local/stack.js';
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
import { dynamoDbLocalPid, machineCpuSeconds, processCpuSeconds } from './lib/cpu.js';
import { clip, readSandboxTraces, SANDBOX_TRACE_PRELOAD, traceHttp } from './lib/http-trace.js';
import type { Progress } from './lib/progress.js';
import { messagesOn, sqsClient, uniqueName } from './lib/resources.js';

const TASKS = 6_000;
/**
 * Tasks sent and drained before the clock starts, so that every poller's sandbox is warm: a
 * burst this size keeps all 21 pollers busy at once. Cold starts are benchmark 3's subject, and
 * the previous in-process runner loaded the bundle before the clock too.
 */
const WARM_UP_TASKS = 1_000;
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
   * Share of the window this process's event loop was busy. fauxqs, the runner's pollers and
   * the producer share it (the consumer runs in its sandboxes), so near 1 it is the bottleneck,
   * and SQS latencies measured here include waiting for it.
   */
  readonly eventLoopUtilization: number;
  /** CPU time of this process ÷ wall time (cores in use; sandboxes and DynamoDB Local's java are apart). */
  readonly nodeCpuCores: number;
  /** The function sandboxes: which Node ran them, how many, their CPU in the window. */
  readonly sandboxes: {
    readonly node: string;
    /** Started (warmed up) before the clock. */
    readonly warm: number;
    /** Started inside the measured window: cold starts the run waited for. */
    readonly coldStartsInWindow: number;
    /** Their CPU time in the window ÷ wall time. */
    readonly cpuCores: number;
  };
  /** DynamoDB Local's (java) CPU time in the window ÷ wall time; undefined if its pid was not found. */
  readonly dynamoDbLocalCpuCores: number | undefined;
  /**
   * CPU ms per task of each part, against what the ceilings cost: the two cores are shared, so
   * the stack's rate is bounded by cores ÷ (the sum per task) whatever its concurrency.
   */
  readonly cpuMsPerTask: {
    readonly runner: number;
    readonly sandboxes: number;
    readonly dynamoDbLocal: number | undefined;
  };
  /** CPU time of every process on the machine in the window ÷ wall time (of `nproc` cores). */
  readonly machineCpuCores: number;
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

/** Sends `items` in one enqueueMany and polls until SQS holds none of them; returns the enqueue time. */
async function runTasks(
  stack: LocalStack,
  client: SQSClient,
  tasksByTier: Record<string, number>,
  label: string,
  progress: Progress,
): Promise<{ start: number; enqueued: number; end: number }> {
  const items: EnqueueItem[] = Object.entries(tasksByTier).flatMap(([tier, n]) =>
    Array.from({ length: n }, (_, i) => ({
      task: 'echo',
      payload: { tier, i },
      options: { priority: tier },
    })),
  );
  const total = items.length;
  const producer = createProducer({
    region: stack.region,
    queues: stack.queues,
    table: stack.table,
    credentials: LOCAL_CREDENTIALS,
    sqs: client,
  });
  const start = performance.now();
  const sent = await producer.enqueueMany(items);
  const enqueued = performance.now();
  if (sent.some((r) => r.status !== 'sent')) throw new Error('end-to-end: some tasks were not enqueued');
  // Done when SQS says so: every tier queue empty, nothing in flight or delayed.
  const left = async () => messagesOn(client, Object.values(stack.queues));
  for (let n = await left(); n > 0; n = await left()) {
    if (performance.now() - start > DEADLINE_MS)
      throw new Error(`end-to-end: ${n} ${label} tasks left after ${DEADLINE_MS} ms`);
    const failed = stack.stats().reduce((sum, st) => sum + st.failed, 0);
    progress.update(
      `${label}: ${total - n}/${total} tasks done, ${failed} records failed (they return after their visibility timeout)`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { start, enqueued, end: performance.now() };
}

/** Counters of the measured run alone: the stats now minus those after the warm-up. */
function since(before: readonly MappingStats[], now: readonly MappingStats[]): MappingStats[] {
  return now.map((s, i) => {
    const b = before[i] as MappingStats;
    return {
      ...s,
      batches: s.batches - b.batches,
      records: s.records - b.records,
      succeeded: s.succeeded - b.succeeded,
      failed: s.failed - b.failed,
      errors: s.errors - b.errors,
      timeouts: s.timeouts - b.timeouts,
      malformed: s.malformed - b.malformed,
    };
  });
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
  const traceDir = await mkdtemp(join(os.tmpdir(), 'tierq-bench-trace-'));
  let ready = false;
  let functionNode = 'unknown';
  // Registered before synth starts: an interrupt during synth must not leave the assembly behind.
  context.onInterrupt(async () => {
    await rm(outputDir, { recursive: true, force: true });
    await rm(traceDir, { recursive: true, force: true });
  });
  const stack = await startLocalStack({
    emulators: { region: 'us-east-1', endpoints },
    outputDir,
    namePrefix: uniqueName('bench'),
    stateFile: false,
    demo: false,
    // The template's flag, plus the tracer that counts the consumer's requests in its sandboxes.
    functionEnvironment: {
      NODE_OPTIONS: `--enable-source-maps --require ${SANDBOX_TRACE_PRELOAD}`,
      TIERQ_BENCH_TRACE_DIR: traceDir,
    },
    // Start-up steps go on the progress line; once ready, lines are notable events (a failed
    // or timed-out invocation) and must stay visible.
    onProgress: (line) => {
      if (line.startsWith('Loaded function')) functionNode = /\((.*?), \d+ s,/.exec(line)?.[1] ?? line;
      if (ready) progress.log(`  local stack: ${line}`);
      else progress.update(line);
    },
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
    await runTasks(stack, client, split(WARM_UP_TASKS, pollers), 'warm-up', progress);
    const statsBefore = structuredClone(stack.stats()) as MappingStats[];
    const warmPids = [...(await readSandboxTraces(traceDir)).starts.keys()];
    const cpuBefore = new Map(warmPids.map((pid) => [pid, processCpuSeconds(pid)]));
    const machineBefore = machineCpuSeconds();
    const javaPid = dynamoDbLocalPid(endpoints.dynamodb);
    const javaBefore = javaPid === undefined ? 0 : processCpuSeconds(javaPid);

    const tasksByTier = split(TASKS, pollers);
    const elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const { start, enqueued, end } = await runTasks(stack, client, tasksByTier, 'measured', progress);
    const used = process.cpuUsage(cpu);
    const eventLoopUtilization = performance.eventLoopUtilization(elu).utilization;
    const machineAfter = machineCpuSeconds();
    const javaAfter = javaPid === undefined ? 0 : processCpuSeconds(javaPid);
    const sandboxes = await readSandboxTraces(traceDir);
    const sandboxCpu = [...sandboxes.starts.keys()].reduce(
      (sum, pid) => sum + processCpuSeconds(pid) - (cpuBefore.get(pid) ?? 0),
      0,
    );
    const wallSeconds = (end - start) / 1000;
    const stats = since(statsBefore, stack.stats());
    const requests = [...trace.between(start, end), ...clip(sandboxes.requests, start, end)];
    const { counts, breakdown } = analyse(requests, stats, TASKS, start, end);
    const tasksPerSecond = TASKS / wallSeconds;
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
      totalSeconds: wallSeconds,
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
      sandboxes: {
        node: functionNode,
        warm: warmPids.length,
        coldStartsInWindow: [...sandboxes.starts.values()].filter((t) => t >= start && t < end).length,
        cpuCores: sandboxCpu / wallSeconds,
      },
      dynamoDbLocalCpuCores: javaPid === undefined ? undefined : (javaAfter - javaBefore) / wallSeconds,
      cpuMsPerTask: {
        runner: (used.user + used.system) / 1000 / TASKS,
        sandboxes: (sandboxCpu * 1000) / TASKS,
        dynamoDbLocal: javaPid === undefined ? undefined : ((javaAfter - javaBefore) * 1000) / TASKS,
      },
      machineCpuCores: (machineAfter.busy - machineBefore.busy) / wallSeconds,
    };
  } finally {
    trace.stop();
    client.destroy();
    await stack.stop();
    await rm(outputDir, { recursive: true, force: true });
    await rm(traceDir, { recursive: true, force: true });
  }
}

/** End to end: tasks/s through the local stack against the emulators' own ceiling. */
export const endToEnd: Benchmark<EndToEndResult> = {
  name: 'end-to-end',
  title: 'End to end',
  run,
  render: renderEndToEnd,
};
