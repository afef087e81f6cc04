/**
 * The consumer keeps back from its deadline what its after-hooks may need, and starts no task
 * that could not finish before that margin: such a record waits for a fresh invocation as a
 * deferred copy, spending no attempt. Against fauxqs and DynamoDB Local.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { localClientConfig } from '../../local/emulators.js';
import { defineTask } from '../../shared/registry.js';
import { helperEndpoints, waitFor } from '../helpers/aws.js';
import { consumerHarness } from '../helpers/consumer-harness.js';
import { lambdaContext } from '../helpers/sqs-event.js';

/** A context whose invocation started with `startMs` but has only `leftMs` left once running. */
function contextAfterSlowStart(startMs: number, leftMs: number): Context {
  const context = lambdaContext(startMs);
  let calls = 0;
  const deadline = () => Date.now() + leftMs;
  let later: number | undefined;
  return {
    ...context,
    getRemainingTimeInMillis: () => {
      calls += 1;
      if (calls === 1) return startMs;
      later ??= deadline();
      return Math.max(0, later - Date.now());
    },
  };
}

describe('the deadline margin', () => {
  it('does not start a task that could not finish before the margin, and defers it without an attempt', async () => {
    const runs: number[] = [];
    const task = defineTask({
      name: 'report',
      schema: z.object({ n: z.number() }),
      timeoutMs: 5_000,
      handler: ({ n }) => void runs.push(n),
    });
    const h = await consumerHarness({ tasks: [task] });
    await h.send('normal', { id: 'late', task: 'report', payload: { n: 1 } });
    // 30 s at the start, 6 s once the middlewares before the run are done: room for the
    // task's 5 s, but not for it and what the after-hooks may need.
    const event = await h.receive('normal');

    const response = await h.invoke(event, h.handler, contextAfterSlowStart(30_000, 6_000));

    expect(response.batchItemFailures).toEqual([]);
    expect(runs).toEqual([]);
    expect(await h.store.get('late', 'report')).toBeUndefined();
    const copy = await waitFor(async () => {
      const again = await h.receive('normal', 10, 1);
      return again.Records.length === 1 ? again : undefined;
    });
    expect(JSON.parse(copy.Records[0]?.body ?? '{}').tierq).toMatchObject({ priorAttempts: 0 });
    expect((await h.invoke(copy)).batchItemFailures).toEqual([]);
    expect(runs).toEqual([1]);
  });

  it('keeps enough back for slow after-hooks: the invocation still answers before its deadline', async () => {
    let slowWrites = false;
    const task = defineTask({
      name: 'until-stopped',
      schema: z.null(),
      handler: async (_, ctx) => {
        slowWrites = true;
        // Runs until its timeout, the invocation's remaining time less the margin.
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      },
    });
    const storeClient = new DynamoDBClient({
      ...localClientConfig(helperEndpoints().dynamodb),
      region: inject('emulators').region,
    });
    // Once the task has started, each write of the task's state takes 1.5 s.
    storeClient.middlewareStack.add(
      (next) => async (args) => {
        if (slowWrites) await sleep(1_500);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'slowStateWrites' },
    );
    const h = await consumerHarness({ tasks: [task], storeClient });
    await h.send('high', { id: 'stopped', task: 'until-stopped', payload: null });
    const event = await h.receive('high');
    const deadline = Date.now() + 8_000;

    const response = await h.invoke(event, h.handler, 8_000);

    expect(Date.now()).toBeLessThan(deadline);
    expect(response.batchItemFailures).toHaveLength(1);
    expect(await h.store.get('stopped', 'until-stopped')).toMatchObject({
      status: 'retrying',
      lastError: expect.stringMatching(/TaskTimeoutError/),
    });
  });

  it('still runs tasks on a function too short for the whole margin', async () => {
    const runs: number[] = [];
    const quick = defineTask({ name: 'quick', schema: z.number(), handler: (n) => void runs.push(n) });
    const h = await consumerHarness({ tasks: [quick] });
    await h.send('critical', { task: 'quick', payload: 1 });

    const response = await h.invoke(await h.receive('critical'), h.handler, 1_000);

    expect(response.batchItemFailures).toEqual([]);
    expect(runs).toEqual([1]);
  });
});
