import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { DeadLetterReason } from '../../shared/consumer/dead-letter.js';
import type { DeadLetterInfo } from '../../shared/dlq/dead-letter-info.js';
import { getTaskState } from '../../shared/stores/task-lookup.js';
import { uniqueName, waitFor } from '../helpers/aws.js';
import { principalClients } from '../helpers/e2e.js';
import { badCases } from './fuzz/bad-cases.js';
import { bad, envelope, escapeSurrogates, type FuzzCase, sqsAccepts } from './fuzz/cases.js';
import { goodCases } from './fuzz/good-cases.js';
import { drainDeadLetters, heldMessages } from './queues.js';
import { seededRandom, shuffled } from './random.js';

/**
 * Bad input, end to end: a thousand generated malformed or hostile bodies mixed with good tasks,
 * sent with plain SQS calls to the default app's local stack (the example tasks). Every bad one
 * must reach the DLQ once with its reason, every good one must complete, and no invocation may
 * crash. The generators are seeded: the seed is printed, and TIERQ_FUZZ_SEED replays a run.
 */

const SEED = Number(process.env.TIERQ_FUZZ_SEED ?? 0xf022);
const BAD = 1_000;
const GOOD = 300;
/** Bodies near the size limit, sent together so one batch holds several: its dead letters exceed 1 MiB. */
const BURST = 16;
/** Bytes of each body in the burst of large unknown-task messages. */
const BURST_BODY_BYTES = 250_000;

const assemblyDir = join('.tierq', `test-cdk.out-fuzz-${randomUUID().slice(0, 8)}`);
const stateDir = mkdtempSync(join(tmpdir(), 'tierq-fuzz-'));
let stack: LocalStack;
let sqs: SQSClient;
let operator: SQSClient;
let dynamodb: DynamoDBClient;
const progress: string[] = [];

beforeAll(async () => {
  const emulators = inject('emulators');
  stack = await startLocalStack({
    emulators,
    outputDir: assemblyDir,
    namePrefix: uniqueName('fuzz'),
    stateFile: join(stateDir, 'local.json'),
    // Not 6 s as elsewhere: the first batches wait for 21 sandboxes starting cold at once (3–4 s
    // on two cores), and a batch still running when its visibility ends is delivered again, which
    // would dead-letter a bad body twice. No fault here needs a quick redelivery.
    visibilityTimeoutOverride: 30,
    onProgress: (line) => progress.push(line),
  });
  // Sent as the stack's producer, watched as its operator: each held to its IAM policy.
  ({ producer: sqs, operator, dynamodb } = principalClients(stack));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  sqs?.destroy();
  operator?.destroy();
  dynamodb?.destroy();
  await rm(assemblyDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

function generate(): { cases: FuzzCase[]; burst: FuzzCase[] } {
  const token = (kind: string, i: number) => `fuzz-${SEED.toString(16)}-${kind}${i}`;
  // fauxqs refuses characters beyond U+FFFF; as JSON escapes they still reach the consumer.
  const safe = (c: FuzzCase): FuzzCase => ({ ...c, body: escapeSurrogates(c.body) });
  const bads = fc.sample(badCases(), { seed: SEED, numRuns: BAD - BURST });
  const goods = fc.sample(goodCases(), { seed: SEED + 1, numRuns: GOOD });
  const cases = [
    ...bads.map((b, i) => safe(b(token('b', i)))),
    ...goods.map((g, i) => safe(g(token('g', i)))),
  ];
  const burst = Array.from({ length: BURST }, (_, i) => {
    const fields = { id: token('burst', i), task: 'no-such-task', payload: '' };
    // Large enough that ten dead letters overflow one 1 MiB SendMessageBatch; small enough that a
    // dead letter (body plus tierq's attributes) still fits SQS's 1 MiB message.
    const payload = 'p'.repeat(BURST_BODY_BYTES - envelope(fields).length);
    return bad('huge-burst', DeadLetterReason.UnknownTask, envelope({ ...fields, payload }));
  });
  return { cases: shuffled(seededRandom(SEED), cases), burst };
}

/** Sends bodies to tiers round robin, in SendMessageBatch requests under SQS's 1 MiB batch limit. */
async function sendAll(cases: readonly FuzzCase[], tiers: readonly string[]): Promise<void> {
  const batches: { tier: string; bodies: string[]; bytes: number }[] = [];
  cases.forEach((c, i) => {
    const tier = tiers[i % tiers.length] as string;
    const bytes = Buffer.byteLength(c.body);
    let last = batches.findLast((b) => b.tier === tier);
    if (!last || last.bodies.length === 10 || last.bytes + bytes > 1_000_000) {
      last = { tier, bodies: [], bytes: 0 };
      batches.push(last);
    }
    last.bodies.push(c.body);
    last.bytes += bytes;
  });
  for (const { tier, bodies } of batches) {
    const { Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.queues[tier],
        Entries: bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody })),
      }),
    );
    if (Failed.length > 0) throw new Error(`SendMessageBatch failed: ${JSON.stringify(Failed)}`);
  }
}

describe('the consumer given a thousand malformed and hostile bodies', () => {
  it('dead-letters every bad one with its reason, completes every good one, and never crashes', async () => {
    const { cases, burst } = generate();
    const all = [...burst, ...cases];
    expect(new Set(all.map((c) => c.body)).size).toBe(all.length);
    expect(all.filter((c) => !sqsAccepts(c.body))).toEqual([]);
    const started = Date.now();

    await Promise.all(
      burst.map((c) => sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.low, MessageBody: c.body }))),
    );
    await sendAll(cases, stack.tiers);
    let quiet = 0;
    await waitFor(
      async () => {
        const held = await Promise.all(Object.values(stack.queues).map((url) => heldMessages(operator, url)));
        quiet = held.every((n) => n === 0) && stack.stats().every((s) => s.inFlight === 0) ? quiet + 1 : 0;
        return quiet >= 2;
      },
      { timeoutMs: 150_000, intervalMs: 500, message: 'every tier queue to drain' },
    );
    const drainedMs = Date.now() - started;
    const letters = await drainDeadLetters(operator, stack.dlq);

    const byBody = new Map<string, DeadLetterInfo[]>();
    for (const l of letters) byBody.set(l.body, [...(byBody.get(l.body) ?? []), l]);
    const wrong: string[] = [];
    for (const c of all) {
      const found = byBody.get(c.body) ?? [];
      const what = `${c.category} ${JSON.stringify(c.body.slice(0, 100))}`;
      if (c.expect.kind === 'bad') {
        const reasons = found.map((l) => l.reason);
        if (reasons.length !== 1 || reasons[0] !== c.expect.reason)
          wrong.push(`${what}: expected ${c.expect.reason}, DLQ has [${reasons}]`);
        continue;
      }
      if (found.length > 0)
        wrong.push(`${what}: good, but dead-lettered as ${found.map((l) => `${l.reason} (${l.error})`)}`);
      const state = await getTaskState({ client: dynamodb, tableName: stack.table }, c.expect.key);
      if (state.status !== 'succeeded') wrong.push(`${what}: good, but its state is ${state.status}`);
    }
    const stats = stack.stats();
    const sum = (field: 'errors' | 'timeouts' | 'malformed') => stats.reduce((n, s) => n + s[field], 0);
    const count = (kind: string) => all.filter((c) => c.expect.kind === kind).length;
    const reasons: Record<string, number> = {};
    for (const l of letters) reasons[l.reason] = (reasons[l.reason] ?? 0) + 1;
    console.info(
      `fuzz, seed 0x${SEED.toString(16)}: ${count('bad')} bad and ${count('good')} good bodies drained in ` +
        `${(drainedMs / 1000).toFixed(1)} s; ${letters.length} dead letters ${JSON.stringify(reasons)}; ` +
        `${stats.reduce((n, s) => n + s.batches, 0)} invocations, ${sum('errors')} errors, ${sum('timeouts')} timeouts`,
    );

    expect(wrong.slice(0, 20)).toEqual([]);
    expect(letters).toHaveLength(count('bad'));
    expect({ errors: sum('errors'), timeouts: sum('timeouts'), malformed: sum('malformed') }).toEqual({
      errors: 0,
      timeouts: 0,
      malformed: 0,
    });
  });
});
