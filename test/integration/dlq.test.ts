import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { peekDeadLetters, purgeDeadLetters, replayDeadLetters } from '../../shared/dlq/index.js';
import { PermanentTaskError } from '../../shared/errors.js';
import { snapshot } from '../../shared/monitoring/snapshot.js';
import { defineTask } from '../../shared/registry.js';
import { sqsClient, uniqueName, waitFor } from '../helpers/aws.js';
import { type ConsumerHarness, consumerHarness, TIERS } from '../helpers/consumer-harness.js';
import { type DeclaredAccess, startDeclaredAccess } from '../helpers/declared-access.js';

const reject = defineTask({
  name: 'reject',
  schema: z.null(),
  handler: () => {
    throw new PermanentTaskError('no such customer');
  },
});
const always = defineTask({
  name: 'always',
  schema: z.null(),
  retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
  handler: () => {
    throw new Error('still broken');
  },
});

/** The body of the letter that carries earlier attempts, as the producer sent it. */
const PRIOR = { task: 'always', payload: null, tierq: { priorAttempts: 2, tier: 'normal' }, extra: 'kept' };

let access: DeclaredAccess;
/** The DLQ operations run as a principal holding exactly the operator's declared access (IAM enforced). */
let operator: SQSClient;
beforeAll(async () => {
  access = await startDeclaredAccess();
});
afterAll(async () => {
  await access?.stop();
});

/** Four real dead letters, made by the real consumer; resolves once all are in the DLQ. */
async function withDeadLetters() {
  const h = await consumerHarness({ tasks: [reject, always] });
  const resources = {
    queues: TIERS.map((t) => h.urlOf(t)),
    dlq: h.config.deadLetterQueueUrl,
    table: h.config.tableName,
  };
  operator = access.clients(await access.grant('operator', resources)).sqs;
  const ids = {
    reject: await h.send('low', { task: 'reject', payload: null }),
    always: await h.send('critical', { task: 'always', payload: null }),
    prior: await h.send('normal', PRIOR),
  };
  await h.send('high', '{"v":1,"id":');
  for (const tier of ['low', 'critical', 'normal', 'high']) await h.invoke(await h.receive(tier));
  const dlqUrl = h.config.deadLetterQueueUrl;
  await waitFor(async () => (await dlqSize(h)) === 4, { message: '4 dead letters' });
  return { h, ids, dlqUrl, queues: Object.fromEntries(TIERS.map((t) => [t, h.urlOf(t)])) };
}

async function dlqSize(h: ConsumerHarness): Promise<number> {
  const snap = await snapshot({ sqs: operator, queues: {}, dlqUrl: h.config.deadLetterQueueUrl });
  return snap.dlq.visible;
}

async function receiveBodies(queueUrl: string): Promise<unknown[]> {
  const { Messages = [] } = await sqsClient().send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  return Messages.map((m) => JSON.parse(m.Body as string));
}

describe('dead-letter operations', () => {
  it('peeks at dead letters with reason, tier and attempts, and leaves them in the DLQ', async () => {
    const { ids, dlqUrl } = await withDeadLetters();
    const letters = await peekDeadLetters({ sqs: operator, dlqUrl, limit: 10 });
    const summary = letters
      .map(({ id, task, tier, reason, attempts }) => ({ id, task, tier, reason, attempts }))
      .sort((a, b) => String(a.tier).localeCompare(String(b.tier)));
    expect(summary).toEqual([
      { id: ids.always, task: 'always', tier: 'critical', reason: 'max-attempts', attempts: 1 },
      { id: undefined, task: undefined, tier: 'high', reason: 'invalid-json', attempts: 0 },
      { id: ids.reject, task: 'reject', tier: 'low', reason: 'permanent-error', attempts: 1 },
      { id: ids.prior, task: 'always', tier: 'normal', reason: 'max-attempts', attempts: 3 },
    ]);
    expect(letters.find((l) => l.task === 'reject')?.error).toBe('PermanentTaskError: no such customer');
    expect(letters.every((l) => l.deadAt && !Number.isNaN(Date.parse(l.deadAt)))).toBe(true);
    expect(new Set(letters.map((l) => l.messageId)).size).toBe(4);
    const again = await peekDeadLetters({ sqs: operator, dlqUrl });
    expect(again.map((l) => l.messageId).sort()).toEqual(letters.map((l) => l.messageId).sort());
    expect(await peekDeadLetters({ sqs: operator, dlqUrl, limit: 2 })).toHaveLength(2);
  });

  it('describes a letter SQS redrove itself as redriven-by-sqs, with the tier from the body', async () => {
    const { dlqUrl } = await withDeadLetters();
    const body = JSON.stringify({
      v: 1,
      id: 'crashed',
      task: 'always',
      payload: null,
      tierq: { tier: 'low' },
    });
    await sqsClient().send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body }));
    const letters = await waitFor(async () => {
      const all = await peekDeadLetters({ sqs: operator, dlqUrl });
      return all.length === 5 ? all : undefined;
    });
    expect(letters.find((l) => l.id === 'crashed')).toMatchObject({
      reason: 'redriven-by-sqs',
      tier: 'low',
      task: 'always',
      attempts: undefined,
      body,
    });
  });

  it('replays one task to its source tiers with a fresh attempt budget', async () => {
    const { h, ids, dlqUrl, queues } = await withDeadLetters();
    const progress: string[] = [];
    const result = await replayDeadLetters({
      sqs: operator,
      dlqUrl,
      queues,
      defaultTier: 'normal',
      task: 'always',
      onProgress: (p) => progress.push(`${p.outcome}:${p.letter.tier}`),
    });
    expect(result).toEqual({ replayed: 2, skipped: 0, failed: 0 });
    expect(progress.sort()).toEqual(['replayed:critical', 'replayed:normal']);
    await waitFor(async () => (await dlqSize(h)) === 2, { message: 'the DLQ to drop to 2' });
    const left = await peekDeadLetters({ sqs: operator, dlqUrl });
    expect(left.map((l) => l.reason).sort()).toEqual(['invalid-json', 'permanent-error']);

    // The copies carry the replay's id, so a task failing again during this replay is not resent.
    const replay = expect.any(String);
    expect(await receiveBodies(h.urlOf('critical'))).toEqual([
      { v: 1, id: ids.always, task: 'always', payload: null, tierq: { replay } },
    ]);
    const { priorAttempts: _, ...tierq } = PRIOR.tierq;
    expect(await receiveBodies(h.urlOf('normal'))).toEqual([
      { v: 1, id: ids.prior, ...PRIOR, tierq: { ...tierq, replay } },
    ]);
    expect((await h.depth('low')).visible + (await h.depth('high')).visible).toBe(0);
  });

  it('does not send round again a task that fails anew while the same replay runs', async () => {
    const { h, dlqUrl, queues } = await withDeadLetters();
    let bounce: Promise<unknown> | undefined;
    const result = await replayDeadLetters({
      sqs: operator,
      dlqUrl,
      queues,
      defaultTier: 'normal',
      task: 'reject',
      // The consumer takes the copy and dead-letters it again while the replay is still reading
      // the DLQ (its next receive long-polls for a second).
      onProgress: () => {
        bounce = h.receive('low', 10, 1).then((event) => h.invoke(event));
      },
    });
    await bounce;
    expect(result).toEqual({ replayed: 1, skipped: 0, failed: 0 });
    await waitFor(async () => (await dlqSize(h)) === 4, { message: 'the rejected task back in the DLQ' });
    // A second pass over the DLQ by a new replay does pick it up: only this replay skips it.
    const again = await replayDeadLetters({
      sqs: operator,
      dlqUrl,
      queues,
      defaultTier: 'normal',
      task: 'reject',
    });
    expect(again.replayed).toBe(1);
  });

  it('keeps a letter in the DLQ when sending its copy fails, and skips bodies it cannot replay', async () => {
    const { h, dlqUrl, queues } = await withDeadLetters();
    const missing = h.urlOf('normal').replace(/[^/]+$/, uniqueName('missing'));
    const result = await replayDeadLetters({
      sqs: operator,
      dlqUrl,
      queues: { ...queues, normal: missing },
      defaultTier: 'low',
    });
    // critical and low replayed; normal failed to send; the invalid-json body is skipped.
    expect(result).toEqual({ replayed: 2, skipped: 1, failed: 1 });
    await waitFor(async () => (await dlqSize(h)) === 2, { message: 'the DLQ to drop to 2' });
    const left = await peekDeadLetters({ sqs: operator, dlqUrl });
    expect(left.map((l) => `${l.reason}:${l.tier}`).sort()).toEqual([
      'invalid-json:high',
      'max-attempts:normal',
    ]);
    expect(await receiveBodies(h.urlOf('critical'))).toHaveLength(1);
    expect(await receiveBodies(h.urlOf('low'))).toHaveLength(1);
  });

  it('loses nothing when the replay is aborted midway: the rest are visible again at once', async () => {
    const { h, dlqUrl, queues } = await withDeadLetters();
    const replay = replayDeadLetters({
      sqs: operator,
      dlqUrl,
      queues,
      defaultTier: 'low',
      task: 'always',
      onProgress: () => {
        throw new Error('operator pressed Ctrl-C');
      },
    });
    await expect(replay).rejects.toThrow('operator pressed Ctrl-C');
    // One copy was sent and its letter deleted before the abort; the other three are released.
    const left = await peekDeadLetters({ sqs: operator, dlqUrl });
    expect(left).toHaveLength(3);
    const replayedTier = TIERS.find((t) => !left.some((l) => l.task === 'always' && l.tier === t));
    expect(await receiveBodies(h.urlOf(replayedTier as string))).toHaveLength(1);
  });

  it('replays and purges only the letters a selection accepts (the dashboard picks them by message id)', async () => {
    const { h, ids, dlqUrl, queues } = await withDeadLetters();
    const letters = await peekDeadLetters({ sqs: operator, dlqUrl });
    const chosen = letters.find((l) => l.id === ids.prior)?.messageId;
    const result = await replayDeadLetters({
      sqs: operator,
      dlqUrl,
      queues,
      defaultTier: 'normal',
      match: (letter) => letter.messageId === chosen,
    });
    expect(result).toEqual({ replayed: 1, skipped: 0, failed: 0 });
    expect(await receiveBodies(h.urlOf('normal'))).toEqual([expect.objectContaining({ id: ids.prior })]);
    await waitFor(async () => (await dlqSize(h)) === 3, { message: 'the DLQ to drop to 3' });

    expect(await purgeDeadLetters({ sqs: operator, dlqUrl, match: (l) => l.reason === 'invalid-json' })).toBe(
      1,
    );
    const left = await peekDeadLetters({ sqs: operator, dlqUrl });
    expect(left.map((l) => l.id).sort()).toEqual([ids.always, ids.reject].sort());
  });

  it('purges one task only, or the whole DLQ', async () => {
    const { h, dlqUrl } = await withDeadLetters();
    expect(await purgeDeadLetters({ sqs: operator, dlqUrl, task: 'always' })).toBe(2);
    const left = await peekDeadLetters({ sqs: operator, dlqUrl });
    expect(left.map((l) => l.reason).sort()).toEqual(['invalid-json', 'permanent-error']);
    expect(await purgeDeadLetters({ sqs: operator, dlqUrl })).toBe('all');
    await waitFor(async () => (await dlqSize(h)) === 0, { message: 'an empty DLQ' });
  });
});

describe('snapshot', () => {
  it('reports visible, in-flight and delayed counts per tier and the DLQ depth', async () => {
    const { h, dlqUrl, queues } = await withDeadLetters();
    for (let i = 0; i < 2; i++) await h.send('high', { task: 'always', payload: null });
    for (let i = 0; i < 3; i++) await h.send('low', { task: 'always', payload: null }, 60);
    await sqsClient().send(
      new ReceiveMessageCommand({ QueueUrl: h.urlOf('high'), MaxNumberOfMessages: 1, VisibilityTimeout: 60 }),
    );
    const snap = await waitFor(async () => {
      const s = await snapshot({ sqs: operator, queues, dlqUrl });
      return s.tiers.high?.inFlight === 1 && s.tiers.low?.delayed === 3 ? s : undefined;
    });
    expect(snap).toEqual({
      tiers: {
        critical: { visible: 0, inFlight: 0, delayed: 0, oldestAgeSeconds: null },
        high: { visible: 1, inFlight: 1, delayed: 0, oldestAgeSeconds: null },
        normal: { visible: 0, inFlight: 0, delayed: 0, oldestAgeSeconds: null },
        low: { visible: 0, inFlight: 0, delayed: 3, oldestAgeSeconds: null },
      },
      dlq: { visible: 4 },
    });
  });
});
