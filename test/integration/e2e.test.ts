import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTaskState } from '../../shared/stores/task-lookup.js';
import type { TaskState } from '../../shared/stores/task-store.js';
import { waitFor } from '../helpers/aws.js';
import { cliWorkspace, runCli } from '../helpers/cli.js';
import {
  connectE2e,
  type DeadLetterSeen,
  peekDeadLetters,
  queueDepth,
  sendBody,
  sendTask,
  takeDeadLetter,
} from '../helpers/e2e.js';
import { type E2eTarget, e2eSetupTimeoutMs, e2eWarmUpTimeoutMs, startE2eTarget } from '../helpers/target.js';

/**
 * End to end: producers write plain v1 JSON with SendMessage to the queues the synthesized stack
 * reports, and the outcome is read where an operator would read it — the task table and the DLQ.
 *
 * The stack is the target test/helpers/target.ts picks from the environment: by default the
 * local runner on the test emulators; with TIERQ_E2E_TARGET=stack-outputs a deployed stack (e.g.
 * LocalStack via `npm run test:localstack`). Only this setup knows which.
 *
 * Multi-hop delays (the stand-in for a runAt beyond 15 minutes, with 1-s hops) and the backlog
 * drain order across tiers are in e2e-scheduling.test.ts, which runs the local runner only.
 */

const uid = (label: string) => `e2e-${label}-${randomUUID()}`;

let target: E2eTarget;
let tiers: readonly string[];
let dynamodb: DynamoDBClient;
const progress: string[] = [];

beforeAll(async () => {
  target = await startE2eTarget({ label: 'e2e', onProgress: (line) => progress.push(line) });
  tiers = Object.keys(target.queues);
  ({ dynamodb } = connectE2e(target));
  // The first invocation loads the bundle and opens connections; keep that out of the timings.
  const warmUp = await sendTask(queue('normal'), { task: 'echo', payload: 'warm-up' });
  await waitFor(async () => (await state(warmUp)).status === 'succeeded', {
    timeoutMs: e2eWarmUpTimeoutMs(),
    intervalMs: 100,
    message: 'the warm-up task to succeed',
  });
}, e2eSetupTimeoutMs());

afterAll(async () => {
  dynamodb?.destroy();
  await target?.stop();
});

const queue = (tier: string): string => {
  const url = target.queues[tier];
  if (url === undefined) throw new Error(`no tier "${tier}" in ${tiers.join(', ')}`);
  return url;
};
const state = (id: string): Promise<TaskState> =>
  getTaskState({ client: dynamodb, tableName: target.table }, id);

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
  return waitFor(() => takeDeadLetter(target.dlq, match), {
    timeoutMs: 15_000,
    intervalMs: 200,
    message: `${what} in the DLQ`,
  });
}
const byId = (id: string) => (letter: DeadLetterSeen) => letter.attributes['tierq-id'] === id;

describe('tierq on the local stack, end to end', () => {
  it('completes an echo task on every tier', async () => {
    const sent = await Promise.all(
      tiers.map(async (tier) => ({
        tier,
        id: await sendTask(queue(tier), { task: 'echo', payload: { tier } }),
      })),
    );

    const states = await Promise.all(sent.map(({ id }) => settled(id)));

    expect(tiers).toEqual(['critical', 'high', 'normal', 'low']);
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
    expect(await peekDeadLetters(target.dlq)).toEqual([]); // each dead-lettered exactly once
  });

  it('runs a task enqueued twice under one idempotency key once', async () => {
    const key = uid('key');
    const payload = { ms: 10 };
    const first = await sendTask(queue('normal'), { task: 'sleep', payload, idempotencyKey: key });
    const done = await settled(key);
    await waitFor(async () => (await queueDepth(queue('normal'))) === 0, {
      timeoutMs: 15_000,
      message: 'the first to be acknowledged',
    });

    // Sent, it is counted (visible, then in flight) until the consumer acknowledges it.
    const second = await sendTask(queue('normal'), { task: 'sleep', payload, idempotencyKey: key });
    await waitFor(async () => (await queueDepth(queue('normal'))) === 0, {
      timeoutMs: 15_000,
      message: 'the duplicate to be acknowledged',
    });

    // Had it run again, the record's attempt and write time would have changed.
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, result: { slept: 10 } });
    expect(await state(key)).toEqual(done);
    expect(await state(first)).toEqual({ id: first, status: 'unknown' });
    expect(await state(second)).toEqual({ id: second, status: 'unknown' });
    expect(await peekDeadLetters(target.dlq)).toEqual([]);
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
    // No one-second window holds more than a full bucket plus the refill of that second and of
    // the skew between taking a token and stamping ranAt: a batch takes its tokens, then writes
    // its idempotency locks, and the time that takes differs from sandbox to sandbox (up to a few
    // hundred ms while sandboxes start cold on two cores).
    const skewSeconds = 0.4;
    for (const [i, t] of ranAt.entries()) {
      expect(ranAt.filter((u) => u >= t && u < t + 1_000).length, `window from run ${i}`).toBeLessThanOrEqual(
        Math.floor(burst + perSecond * (1 + skewSeconds)),
      );
    }
    expect(await peekDeadLetters(target.dlq)).toEqual([]);
  }, 50_000);
});

describe('the tierq CLI against the stack', () => {
  it('enqueues with `tierq enqueue` and follows the task to succeeded with `tierq task`', async () => {
    const { stop: _, ...info } = target;
    const dir = await cliWorkspace(info);
    const id = uid('cli');
    const sent = await runCli(
      ['enqueue', 'echo', '--payload', '{"via":"cli"}', '--priority', 'high', '--id', id],
      dir,
    );
    expect(sent).toMatchObject({ code: 0, stdout: `sent ${id}\n` });
    const done = await waitFor(
      async () => {
        const view = JSON.parse((await runCli(['task', id, '--json'], dir)).stdout);
        return view.status === 'succeeded' && view;
      },
      { timeoutMs: 20_000, intervalMs: 250, message: 'tierq task to report succeeded' },
    );
    expect(done).toEqual({
      id,
      taskId: id,
      task: 'echo',
      status: 'succeeded',
      attempts: 1,
      result: { via: 'cli' },
      error: null,
    });
    const status = JSON.parse((await runCli(['status', '--json'], dir)).stdout);
    expect(Object.keys(status.tiers)).toEqual([...tiers]);
  }, 30_000);
});
