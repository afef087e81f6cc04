import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MappingStats } from '../../local/event-source-runner.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { getTaskState } from '../../shared/stores/task-lookup.js';
import type { TaskState } from '../../shared/stores/task-store.js';
import { uniqueName, waitFor } from '../helpers/aws.js';
import { connectE2e, e2eProducer, peekDeadLetters, queueDepth, sendTask } from '../helpers/e2e.js';

/**
 * End to end, scheduling: a runAt further away than one delay hop, and the order in which a
 * backlog on every tier drains. Producers write plain v1 JSON with the SQS client.
 *
 * The consumer runs with `TIERQ_MAX_HOP_SECONDS=1`, so a runAt 4 s away takes the same path
 * (several re-enqueued hops) as one more than 15 minutes away does with the default 900 s hop.
 */

/** Inside the project, so the bundle resolves the AWS SDK from its node_modules as in `npm start`. */
const assemblyDir = join('.tierq', `test-cdk.out-e2e-scheduling-${randomUUID().slice(0, 8)}`);
const stateDir = mkdtempSync(join(tmpdir(), 'tierq-e2e-scheduling-'));

/** The default shares of 20 pollers by weight 8:4:2:1 (see infra/constructs/tiers.ts). */
const POLLERS = { critical: 11, high: 5, normal: 3, low: 2 } as const;
/** The default batch sizes per tier (docs/architecture.md). */
const BATCH_SIZES = { critical: 5, high: 10, normal: 10, low: 10 } as const;

let stack: LocalStack;
let dynamodb: DynamoDBClient;
const progress: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    emulators: inject('emulators'),
    outputDir: assemblyDir,
    namePrefix: uniqueName('e2e-sched'),
    stateFile: join(stateDir, 'local.json'),
    // Test-only, as in e2e.test.ts: failed records come back after 6 s.
    visibilityTimeoutOverride: 6,
    functionEnvironment: { TIERQ_MAX_HOP_SECONDS: '1' },
    onProgress: (line) => progress.push(line),
  });
  // Sent as the stack's producer, read as its operator: each held to its IAM policy.
  ({ dynamodb } = connectE2e(stack));
  // Each poller's first invocation starts a sandbox (Node and the bundle: seconds for 21 at once
  // on two cores, longer than the 6-s visibility when the machine is busy, which would deliver
  // records twice). Keep that out of the timings: one full batch of short sleeps per poller, all
  // at once, so every poller's sandbox starts here.
  const warmUps = await Promise.all(
    Object.entries(POLLERS).map(([tier, pollers]) =>
      sendBurst(queue(tier), pollers * BATCH_SIZES[tier as keyof typeof BATCH_SIZES], 'sleep', { ms: 200 }),
    ),
  );
  await waitFor(async () => (await states(warmUps.flat())).every((s) => s.status === 'succeeded'), {
    timeoutMs: 60_000,
    intervalMs: 250,
    message: 'the warm-up tasks to succeed',
  });
}, 120_000);

afterAll(async () => {
  dynamodb?.destroy();
  await stack?.stop();
  await rm(assemblyDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

const queue = (tier: string): string => {
  const url = stack.queues[tier];
  if (url === undefined) throw new Error(`no tier "${tier}" in ${stack.tiers.join(', ')}`);
  return url;
};
const mapping = (tier: string): MappingStats => {
  const stats = stack.stats().find((s) => s.queueUrl === queue(tier));
  if (stats === undefined) throw new Error(`no event source mapping for the ${tier} tier`);
  return stats;
};
const state = (id: string): Promise<TaskState> =>
  getTaskState({ client: dynamodb, tableName: stack.table }, id);

/** Sends `count` envelopes to a queue in SendMessageBatch calls of 10, all at once; returns their ids. */
async function sendBurst(queueUrl: string, count: number, task: string, payload: unknown): Promise<string[]> {
  const ids = Array.from({ length: count }, () => `e2e-sched-${randomUUID()}`);
  const chunks = Array.from({ length: Math.ceil(count / 10) }, (_, i) => ids.slice(i * 10, i * 10 + 10));
  await Promise.all(
    chunks.map(async (chunk) => {
      const { Failed = [] } = await e2eProducer().send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((id, i) => ({
            Id: String(i),
            MessageBody: JSON.stringify({ v: 1, id, task, payload, enqueuedAt: new Date().toISOString() }),
          })),
        }),
      );
      if (Failed.length > 0) throw new Error(`SendMessageBatch failed: ${JSON.stringify(Failed)}`);
    }),
  );
  return ids;
}

/** Reads many task states, a few dozen at a time. */
async function states(ids: readonly string[]): Promise<TaskState[]> {
  const all: TaskState[] = [];
  for (let i = 0; i < ids.length; i += 50) all.push(...(await Promise.all(ids.slice(i, i + 50).map(state))));
  return all;
}

describe('tierq scheduling on the local stack, end to end', () => {
  it('defers a task due several hops away without running it early or spending attempts', async () => {
    const normal = mapping('normal');
    const receivedBefore = normal.records;
    const runAtMs = Date.now() + 4_000;
    const id = await sendTask(queue('normal'), {
      task: 'echo',
      payload: { scheduled: true },
      runAt: new Date(runAtMs).toISOString(),
    });

    // Each state read is a round trip to DynamoDB, which paces this loop.
    while (Date.now() < runAtMs - 250) {
      expect((await state(id)).status).not.toBe('succeeded');
    }
    const s = await waitFor(
      async () => {
        const current = await state(id);
        return current.status === 'succeeded' || current.status === 'dead' ? current : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, message: `task ${id} to succeed or die` },
    );

    expect(s).toMatchObject({ status: 'succeeded', attempts: 1, result: { scheduled: true } });
    expect(Date.parse(s.updatedAt)).toBeGreaterThanOrEqual(runAtMs);
    // The first delivery, at least 3 re-enqueued 1-s hops, and the run: the default 900-s hop
    // would have taken one hop of 4 s.
    expect(normal.records - receivedBefore).toBeGreaterThanOrEqual(4);
    expect(await peekDeadLetters(stack.dlq)).toEqual([]);
  }, 30_000);

  it('drains a backlog on every tier in priority order without starving the low tier', async () => {
    const perTier = 110;
    const sleepMs = 400;
    const tiers = stack.tiers;
    expect(Object.fromEntries(tiers.map((t) => [t, mapping(t).pollers]))).toEqual(POLLERS);

    const started = Date.now();
    const sent = await Promise.all(
      tiers.map(async (tier) => ({
        tier,
        ids: await sendBurst(queue(tier), perTier, 'sleep', { ms: sleepMs }),
      })),
    );
    const maxInFlight = Object.fromEntries(tiers.map((t) => [t, 0]));
    await waitFor(
      async () => {
        for (const t of tiers) maxInFlight[t] = Math.max(maxInFlight[t] ?? 0, mapping(t).inFlight);
        const depths = await Promise.all(tiers.map((t) => queueDepth(queue(t))));
        return depths.every((d) => d === 0);
      },
      { timeoutMs: 30_000, intervalMs: 20, message: 'every tier to drain' },
    );

    // Completion times from the task table: when each tier ran its first and its last task.
    const drained: Record<string, { first: number; last: number }> = {};
    for (const { tier, ids } of sent) {
      const done = await states(ids);
      for (const s of done) expect(s).toMatchObject({ status: 'succeeded', attempts: 1 });
      const times = done.map((s) =>
        s.status === 'unknown' ? Number.NaN : Date.parse(s.updatedAt) - started,
      );
      drained[tier] = { first: Math.min(...times), last: Math.max(...times) };
    }
    console.info(
      'backlog drain (ms after the first send):',
      JSON.stringify({ drained, maxInFlight, perTier, sleepMs }),
    );

    const { critical, high, normal, low } = drained as Record<string, { first: number; last: number }>;
    if (!critical || !high || !normal || !low) throw new Error(`tiers are ${tiers.join(', ')}`);
    // 110 tasks are 2 rounds for critical's 11 pollers × 5 and 6 for low's 2 × 10: critical is
    // done long before low, yet low runs from the start.
    expect(critical.last).toBeLessThan(low.last - 1_000);
    expect(low.first).toBeLessThan(critical.last);
    expect(critical.last).toBeLessThanOrEqual(normal.last);
    expect(high.last).toBeLessThanOrEqual(low.last);
    // No tier ran more records at once than its pollers × batch size allow, and critical used its share.
    expect(maxInFlight.low).toBeLessThanOrEqual(POLLERS.low * 10);
    expect(maxInFlight.normal).toBeLessThanOrEqual(POLLERS.normal * 10);
    expect(maxInFlight.high).toBeLessThanOrEqual(POLLERS.high * 10);
    expect(maxInFlight.critical).toBeLessThanOrEqual(POLLERS.critical * 5);
    expect(maxInFlight.critical).toBeGreaterThan(POLLERS.low * 10);
    expect(await peekDeadLetters(stack.dlq)).toEqual([]);
  }, 45_000);
});
