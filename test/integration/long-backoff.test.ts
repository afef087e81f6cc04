/**
 * A backoff SQS's visibility timeout cannot hold — at most 12 hours from the receive, not from
 * the change — is not lost to a refused change: the retry is re-sent as a delayed copy that hops
 * until its time, counting the failed attempt once. Through the local gateway, which holds
 * ChangeMessageVisibility to that limit as SQS does, in front of fauxqs and DynamoDB Local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTask } from '../../shared/registry.js';
import { waitFor } from '../helpers/aws.js';
import { consumerHarness } from '../helpers/consumer-harness.js';
import { type DeclaredAccess, startDeclaredAccess } from '../helpers/declared-access.js';

const TWELVE_HOURS_MS = 12 * 3_600_000;

let access: DeclaredAccess;
beforeAll(async () => {
  access = await startDeclaredAccess();
});
afterAll(async () => {
  await access?.stop();
});

/** Fails after `ms`, so the change comes that long after the receive; backs off 12 hours at most. */
function slowFailure(ms: number) {
  return defineTask({
    name: 'sync-ledger',
    schema: z.null(),
    retry: { maxAttempts: 3, baseDelayMs: TWELVE_HOURS_MS, maxDelayMs: TWELVE_HOURS_MS },
    handler: async () => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      throw new Error('ledger unavailable');
    },
  });
}

describe('a backoff longer than the visibility timeout can hold', () => {
  it('is re-sent as a delayed copy due at the retry time, its failed attempt counted once', async () => {
    // The longest backoff the policy allows: 12 hours, a second after the receive.
    const h = await consumerHarness({ tasks: [slowFailure(1_100)], random: () => 1 - 1e-9 });
    await h.send('low', { id: 'ledger-1', task: 'sync-ledger', payload: null });

    const response = await h.invoke(await h.receive('low'));

    expect(response.batchItemFailures).toEqual([]);
    const depth = await waitFor(async () => {
      const d = await h.depth('low');
      return d.delayed === 1 ? d : undefined;
    });
    expect(depth).toEqual({ visible: 0, inFlight: 0, delayed: 1 });
    expect(await h.taskState('ledger-1')).toMatchObject({ status: 'retrying', attempts: 1 });
    expect(await h.deadLetters()).toEqual([]);
  });

  it('carries the retry time and the attempt, so the copy runs as the second attempt when due', async () => {
    let offset = 0;
    const attempts: number[] = [];
    const recovers = defineTask({
      name: 'sync-ledger',
      schema: z.null(),
      retry: { maxAttempts: 3, baseDelayMs: TWELVE_HOURS_MS, maxDelayMs: TWELVE_HOURS_MS },
      handler: async (_, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) {
          await new Promise((resolve) => setTimeout(resolve, 1_100));
          throw new Error('ledger unavailable');
        }
        return 'synced';
      },
    });
    const h = await consumerHarness({
      tasks: [recovers],
      random: () => 1 - 1e-9,
      maxHopSeconds: 1,
      clockOffsetMs: () => offset,
    });
    await h.send('low', { id: 'ledger-2', task: 'sync-ledger', payload: null });
    await h.invoke(await h.receive('low'));

    const copy = await waitFor(async () => {
      const e = await h.receive('low', 10, 1);
      return e.Records.length === 1 ? e : undefined;
    });
    const body = JSON.parse(copy.Records[0]?.body ?? '{}');
    expect(Date.parse(body.runAt) - Date.now()).toBeGreaterThan(TWELVE_HOURS_MS - 60_000);
    expect(body.tierq).toMatchObject({ priorAttempts: 1, tier: 'low' });
    offset = TWELVE_HOURS_MS + 60_000; // twelve hours later
    expect((await h.invoke(copy)).batchItemFailures).toEqual([]);
    expect(attempts).toEqual([1, 2]);
    expect(await h.taskState('ledger-2')).toMatchObject({ status: 'succeeded', attempts: 2 });
  });
});
