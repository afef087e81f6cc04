import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { getTaskState, type TaskState } from '../../shared/stores/task-store.js';
import { dynamoClient, uniqueName, waitFor } from '../helpers/aws.js';
import {
  type DeadLetterSeen,
  peekDeadLetters,
  queueDepth,
  sendBody,
  sendTask,
  takeDeadLetter,
} from '../helpers/e2e.js';

/**
 * End to end: producers write plain v1 JSON with SendMessage to the queues the synthesized stack
 * reports, and the outcome is read where an operator would read it — the task table and the DLQ.
 *
 * Not covered: a runAt more than 15 minutes away. It needs TIERQ_MAX_HOP_SECONDS on the consumer,
 * and startLocalStack has no option to override a function's environment.
 */

/** Inside the project, so the bundle resolves the AWS SDK from its node_modules as in `npm start`. */
const assemblyDir = join('.tierq', `test-cdk.out-e2e-${randomUUID().slice(0, 8)}`);
const stateDir = mkdtempSync(join(tmpdir(), 'tierq-e2e-'));
const uid = (label: string) => `e2e-${label}-${randomUUID()}`;

let stack: LocalStack;
const progress: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    emulators: inject('emulators'),
    outputDir: assemblyDir,
    namePrefix: uniqueName('e2e'),
    stateFile: join(stateDir, 'local.json'),
    // Test-only: failed records return after 6 s instead of the template's minutes. Not shorter:
    // the low tier gathers batches for 5 s, and a record whose visibility runs out while it is
    // gathered is received again, which shows up as a second attempt.
    visibilityTimeoutOverride: 6,
    onProgress: (line) => progress.push(line),
  });
  // The first invocation loads the bundle and opens connections; keep that out of the timings.
  const warmUp = await sendTask(queue('normal'), { task: 'echo', payload: 'warm-up' });
  await waitFor(async () => (await state(warmUp)).status === 'succeeded', {
    timeoutMs: 30_000,
    intervalMs: 100,
    message: 'the warm-up task to succeed',
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await rm(assemblyDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

const queue = (tier: string): string => {
  const url = stack.queues[tier];
  if (url === undefined) throw new Error(`no tier "${tier}" in ${stack.tiers.join(', ')}`);
  return url;
};
const state = (id: string): Promise<TaskState> =>
  getTaskState({ client: dynamoClient(), tableName: stack.table }, id);

async function settled(id: string, timeoutMs = 15_000): Promise<TaskState> {
  return waitFor(
    async () => {
      const s = await state(id);
      return s.status === 'succeeded' || s.status === 'dead' ? s : undefined;
    },
    { timeoutMs, intervalMs: 100, message: `task ${id} to succeed or die` },
  );
}

function deadLetter(match: (letter: DeadLetterSeen) => boolean, what: string): Promise<DeadLetterSeen> {
  return waitFor(() => takeDeadLetter(stack.dlq, match), {
    timeoutMs: 15_000,
    intervalMs: 200,
    message: `${what} in the DLQ`,
  });
}
const byId = (id: string) => (letter: DeadLetterSeen) => letter.attributes['tierq-id'] === id;

describe('tierq on the local stack, end to end', () => {
  it('completes an echo task on every tier', async () => {
    const sent = await Promise.all(
      stack.tiers.map(async (tier) => ({
        tier,
        id: await sendTask(queue(tier), { task: 'echo', payload: { tier } }),
      })),
    );

    const states = await Promise.all(sent.map(({ id }) => settled(id)));

    expect(stack.tiers).toEqual(['critical', 'high', 'normal', 'low']);
    states.forEach((s, i) => {
      expect(s).toMatchObject({ status: 'succeeded', attempts: 1, result: { tier: sent[i]?.tier } });
    });
  });

  it('retries a flaky task until it succeeds on its third attempt', async () => {
    const id = await sendTask(queue('high'), { task: 'flaky', payload: { failTimes: 2 } });

    const s = await settled(id, 30_000);

    expect(s).toMatchObject({ status: 'succeeded', attempts: 3, result: { succeededOnAttempt: 3 } });
  }, 40_000);

  it('dead-letters a permanent error on its first attempt, with its tier', async () => {
    const id = await sendTask(queue('critical'), { task: 'reject', payload: { why: 'no such customer' } });

    const letter = await deadLetter(byId(id), `reject task ${id}`);

    expect(letter.attributes).toMatchObject({
      'tierq-reason': 'permanent-error',
      'tierq-attempts': '1',
      'tierq-tier': 'critical',
      'tierq-task': 'reject',
      'tierq-id': id,
      'tierq-error': expect.stringContaining('no such customer'),
    });
    expect(JSON.parse(letter.body)).toMatchObject({ v: 1, id, task: 'reject' });
    expect(await state(id)).toMatchObject({ status: 'dead', attempts: 1 });
  });

  it('dead-letters malformed messages with their reasons while a valid one in the same burst succeeds', async () => {
    const marker = uid('broken');
    const unknownId = uid('unknown');
    const [, , echoId] = await Promise.all([
      sendBody(queue('normal'), `{"v":1,"id":"${marker}",`),
      sendTask(queue('normal'), { id: unknownId, task: 'no-such-task', payload: {} }),
      sendTask(queue('normal'), { task: 'echo', payload: { ok: true } }),
    ]);

    // One DLQ reader at a time: a peek by one reader renews the receipt handle the other deletes with.
    const invalidJson = await deadLetter((l) => l.body.includes(marker), 'the invalid JSON');
    const unknownTask = await deadLetter(byId(unknownId), 'the unknown task');
    const echo = await settled(echoId);

    expect(invalidJson.attributes).toMatchObject({ 'tierq-reason': 'invalid-json', 'tierq-tier': 'normal' });
    expect(unknownTask.attributes).toMatchObject({
      'tierq-reason': 'unknown-task',
      'tierq-tier': 'normal',
      'tierq-error': expect.stringContaining('no-such-task'),
    });
    expect(echo).toMatchObject({ status: 'succeeded', attempts: 1, result: { ok: true } });
    expect(await peekDeadLetters(stack.dlq)).toEqual([]); // each dead-lettered exactly once
  });

  it('runs a task enqueued twice under one idempotency key once', async () => {
    const key = uid('key');
    const payload = { ms: 10 };
    const first = await sendTask(queue('normal'), { task: 'sleep', payload, idempotencyKey: key });
    const done = await settled(key);
    const normal = stack.stats().find((s) => s.queueUrl === queue('normal'));
    if (!normal) throw new Error('no event source mapping for the normal tier');
    const handledBefore = normal.succeeded;

    const second = await sendTask(queue('normal'), { task: 'sleep', payload, idempotencyKey: key });
    await waitFor(async () => normal.succeeded > handledBefore && (await queueDepth(queue('normal'))) === 0, {
      timeoutMs: 15_000,
      message: 'the duplicate to be acknowledged',
    });

    // Had it run again, the record's attempt and write time would have changed.
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, result: { slept: 10 } });
    expect(await state(key)).toEqual(done);
    expect(await state(first)).toEqual({ id: first, status: 'unknown' });
    expect(await state(second)).toEqual({ id: second, status: 'unknown' });
    expect(await peekDeadLetters(stack.dlq)).toEqual([]);
  });

  it('does not run a delayed task before its runAt, and runs it after', async () => {
    const runAtMs = Date.now() + 5_000;
    const id = await sendTask(queue('low'), {
      task: 'echo',
      payload: { delayed: true },
      runAt: new Date(runAtMs).toISOString(),
    });

    // Each state read is a round trip to DynamoDB, which paces this loop.
    while (Date.now() < runAtMs - 250) {
      expect((await state(id)).status).not.toBe('succeeded');
    }
    const s = await settled(id);

    expect(s).toMatchObject({ status: 'succeeded', attempts: 1, result: { delayed: true } });
    if (s.status === 'unknown') throw new Error('unreachable');
    expect(Date.parse(s.updatedAt)).toBeGreaterThanOrEqual(runAtMs);
  }, 30_000);

  it('holds a rate-limited task to its rate across tiers', async () => {
    const perSecond = 5;
    const burst = 10;
    const count = 30;
    const started = Date.now();
    const ids = await Promise.all(
      Array.from({ length: count }, (_, n) =>
        sendTask(queue(n % 2 === 0 ? 'high' : 'low'), { task: 'limited', payload: { n } }),
      ),
    );

    const states = await Promise.all(ids.map((id) => settled(id, 40_000)));
    const elapsedMs = Date.now() - started;

    for (const s of states) expect(s.status).toBe('succeeded');
    expect(elapsedMs).toBeGreaterThanOrEqual(((count - burst) / perSecond) * 1000 - 500);
    const ranAt = states
      .map((s) => (s.status === 'unknown' ? Number.NaN : Date.parse((s.result as { ranAt: string }).ranAt)))
      .sort((a, b) => a - b);
    // No one-second window holds more than a full bucket plus a second's refill.
    for (const [i, t] of ranAt.entries()) {
      expect(ranAt.filter((u) => u >= t && u < t + 1_000).length, `window from run ${i}`).toBeLessThanOrEqual(
        burst + perSecond,
      );
    }
    expect(await peekDeadLetters(stack.dlq)).toEqual([]);
  }, 50_000);
});
