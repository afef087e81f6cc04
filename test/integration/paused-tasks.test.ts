/**
 * The consumer's side of `tierq pause task`, on the emulators: a paused task's records are
 * deferred without running and without spending an attempt (even on their last receive), the
 * paused tasks are read once per container and cache lifetime, and a table that cannot be read
 * fails the records instead of running or acknowledging them.
 */
import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { removePause, writePause } from '../../shared/pause/pause-notes.js';
import { defineTask } from '../../shared/registry.js';
import { DynamoPausedTasks } from '../../shared/stores/dynamo-pause-store.js';
import { dynamoClient, waitFor } from '../helpers/aws.js';
import { consumerHarness } from '../helpers/consumer-harness.js';

const note = (name: string) => ({ name, pausedAt: new Date().toISOString(), pausedBy: 'test' });

function countedTask() {
  const runs: unknown[] = [];
  const task = defineTask({ name: 'counted', schema: v.number(), handler: (n) => void runs.push(n) });
  return { task, runs };
}

describe('paused tasks in the consumer', () => {
  it('defers a paused record on its last receive without running it, its attempts unchanged', async () => {
    const { task, runs } = countedTask();
    // maxReceiveCount 1: every receive is the last, where a failure would be dead-lettered.
    const h = await consumerHarness({ tasks: [task], maxReceiveCount: 1, maxHopSeconds: 1 });
    const table = { client: dynamoClient(), tableName: h.config.tableName };
    await writePause(table, 'task', note('counted'));
    const id = `p-${randomUUID()}`;
    // A copy that already failed twice: its attempts must survive the pause.
    await h.send('normal', {
      id,
      task: 'counted',
      payload: 7,
      enqueuedAt: new Date().toISOString(),
      tierq: { priorAttempts: 2, tier: 'normal' },
    });

    const first = await h.receive('normal');
    expect(first.Records).toHaveLength(1);
    expect((await h.invoke(first)).batchItemFailures).toEqual([]);
    expect(runs).toEqual([]);
    expect(await h.deadLetters()).toEqual([]);
    expect((await h.taskState(id, 'counted')).status).toBe('unknown');

    const copy = await waitFor(async () => (await h.receive('normal')).Records[0], {
      timeoutMs: 10_000,
      message: 'the deferred copy',
    });
    expect(JSON.parse(copy.body).tierq).toEqual({ priorAttempts: 2, tier: 'normal' });
    // Still paused: deferred again, not run (a fresh handler, so nothing is cached).
    expect((await h.invoke({ Records: [copy] }, h.makeHandler())).batchItemFailures).toEqual([]);
    expect(runs).toEqual([]);

    await removePause(table, 'task', 'counted');
    const again = await waitFor(async () => (await h.receive('normal')).Records[0], {
      timeoutMs: 10_000,
      message: 'the copy after resume',
    });
    expect((await h.invoke({ Records: [again] }, h.makeHandler())).batchItemFailures).toEqual([]);
    expect(runs).toEqual([7]);
    expect(await h.taskState(id, 'counted')).toMatchObject({ status: 'succeeded', attempts: 3 });
  });

  it('fails the records, running nothing, when the paused tasks cannot be read', async () => {
    const { task, runs } = countedTask();
    const h = await consumerHarness({
      tasks: [task],
      pauses: new DynamoPausedTasks(dynamoClient(), `missing-${randomUUID()}`),
    });
    const ids = [
      await h.send('high', { task: 'counted', payload: 1 }),
      await h.send('high', { task: 'counted', payload: 2 }),
    ];
    const event = await waitFor(async () => {
      const e = await h.receive('high', 10, 1);
      return e.Records.length === 2 && e;
    });
    const response = await h.invoke(event);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      event.Records.map((r) => r.messageId).sort(),
    );
    expect(runs).toEqual([]);
    for (const id of ids) expect((await h.taskState(id, 'counted')).status).toBe('unknown');
  });
});

describe('DynamoPausedTasks', () => {
  it('reads once per cache lifetime, shared by concurrent callers, and sees a pause after it', async () => {
    const h = await consumerHarness({ tasks: [] });
    const table = { client: dynamoClient(), tableName: h.config.tableName };
    const pauses = new DynamoPausedTasks(dynamoClient(), h.config.tableName, { cacheMs: 300 });

    const answers = await Promise.all(Array.from({ length: 20 }, () => pauses.pausedTasks()));
    expect(answers.every((a) => a.size === 0)).toBe(true);
    expect(pauses.requests).toBe(1);

    await writePause(table, 'task', note('send-email'));
    await writePause(table, 'tier', note('low'));
    expect((await pauses.pausedTasks()).size).toBe(0);
    expect(pauses.requests).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...(await pauses.pausedTasks())]).toEqual(['send-email']);
    expect(pauses.requests).toBe(2);
  });

  it('does not cache a failed read', async () => {
    const pauses = new DynamoPausedTasks(dynamoClient(), `missing-${randomUUID()}`);
    await expect(pauses.pausedTasks()).rejects.toMatchObject({ name: 'StoreError' });
    await expect(pauses.pausedTasks()).rejects.toMatchObject({ name: 'StoreError' });
    expect(pauses.requests).toBe(2);
  });
});
