import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentTaskError } from '../../shared/errors.js';
import { defineTask } from '../../shared/registry.js';
import { sqsClient, waitFor } from '../helpers/aws.js';
import { cliWorkspace, harnessWorkspace, runCli } from '../helpers/cli.js';
import { type ConsumerHarness, consumerHarness, TIERS } from '../helpers/consumer-harness.js';
import { type DeclaredAccess, startDeclaredAccess } from '../helpers/declared-access.js';

const echo = defineTask({ name: 'echo', schema: z.object({ n: z.number() }), handler: ({ n }) => ({ n }) });
const reject = defineTask({
  name: 'reject',
  schema: z.null(),
  handler: () => {
    throw new PermanentTaskError('no such customer');
  },
});

let access: DeclaredAccess;
// The CLI runs as the operator, holding exactly the operator's declared access (IAM enforced).
beforeAll(async () => {
  access = await startDeclaredAccess();
});
afterAll(async () => {
  await access?.stop();
});

/** Real queues, table and consumer, and a directory whose .tierq/local.json points at them. */
async function setup() {
  const h = await consumerHarness({ tasks: [echo, reject] });
  const dir = await harnessWorkspace(h, access);
  const tierq = (...args: string[]) => runCli(args, dir);
  return { h, dir, tierq };
}

async function bodiesOn(url: string): Promise<Record<string, unknown>[]> {
  const { Messages = [] } = await sqsClient().send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  return Messages.map((m) => JSON.parse(m.Body as string));
}

/** Runs `reject` `count` times on the low tier, through the real consumer, into the DLQ. */
async function deadLetters(h: ConsumerHarness, count: number) {
  for (let i = 0; i < count; i++) await h.send('low', { id: `dead-${i}`, task: 'reject', payload: null });
  await waitFor(
    async () => {
      await h.invoke(await h.receive('low', 10, 0));
      return (await h.depth('low')).visible === 0;
    },
    { message: 'the low tier to be drained into the DLQ' },
  );
}

describe('tierq enqueue', () => {
  it('sends to the named tier and prints the id', async () => {
    const { h, tierq } = await setup();
    const run = await tierq(
      'enqueue',
      'echo',
      '--payload',
      '{"n":1}',
      '--priority',
      'high',
      '--id',
      'cli-1',
      '--json',
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({ id: 'cli-1', status: 'sent' });
    const [body] = await bodiesOn(h.urlOf('high'));
    expect(body).toMatchObject({ v: 1, id: 'cli-1', task: 'echo', payload: { n: 1 } });
  });

  it('sends the tenant in the envelope with --tenant', async () => {
    const { h, tierq } = await setup();
    const run = await tierq('enqueue', 'echo', '--tenant', 'acme', '--id', 'cli-t', '--json');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [body] = await bodiesOn(h.urlOf('normal'));
    expect(body).toMatchObject({ id: 'cli-t', tenant: 'acme' });
  });

  it('reads a payload from @file and delays with --delay', async () => {
    const { h, dir, tierq } = await setup();
    await writeFile(join(dir, 'payload.json'), '{"n":2}');
    const run = await tierq('enqueue', 'echo', '--payload', '@payload.json', '--delay', '30s');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^sent \S+\n$/);
    expect(await h.depth('normal')).toMatchObject({ visible: 0, delayed: 1 });
  });

  it('deduplicates a second enqueue with the same key inside the window', async () => {
    const { h, tierq } = await setup();
    const first = await tierq('enqueue', 'echo', '--payload', '{"n":3}', '--dedup-key', 'order-3', '--json');
    const second = await tierq('enqueue', 'echo', '--payload', '{"n":3}', '--dedup-key', 'order-3', '--json');
    const firstId = JSON.parse(first.stdout).id;
    expect(JSON.parse(second.stdout)).toEqual({ id: firstId, status: 'deduplicated', dedupOf: firstId });
    expect((await h.depth('normal')).visible).toBe(1);
  });

  it.each([
    [['--priority', 'urgent'], 'unknown priority "urgent"; the tiers are: critical, high, normal, low'],
    [['--payload', '{oops'], "option '--payload <json|@file>' argument '{oops' is invalid"],
    [['--delay', 'soon'], 'expected a duration such as 30s'],
    [
      ['--delay', '5s', '--run-at', '2030-01-01T00:00:00Z'],
      "option '--delay <duration>' cannot be used with option '--run-at <time>'",
    ],
    [['--id', 'has space'], 'field "id" must be 1–128 characters'],
    [['--tenant', 'acme corp'], 'tenant must be 1–128 characters'],
  ])('rejects %j with exit code 2 and says why', async (args, why) => {
    const { h, tierq } = await setup();
    const run = await tierq('enqueue', 'echo', ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(why);
    expect((await h.depth('normal')).visible).toBe(0);
  });

  it("names the queue's size limit for an oversize payload", async () => {
    const { dir, tierq } = await setup();
    await writeFile(join(dir, 'big.json'), JSON.stringify({ n: 1, blob: 'x'.repeat(1_100_000) }));
    const run = await tierq('enqueue', 'echo', '--payload', '@big.json');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is \d+ bytes .*, over its queue's limit of 1048576 bytes/);
  });
});

describe('tierq status', () => {
  it('prints the documented JSON: counts per tier and the DLQ depth', async () => {
    const { h, tierq } = await setup();
    await h.send('critical', { task: 'echo', payload: { n: 1 } });
    await h.send('critical', { task: 'echo', payload: { n: 2 } });
    await h.send('low', { task: 'echo', payload: { n: 3 } }, 60);
    const run = await tierq('status', '--json');
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(Object.keys(status.tiers)).toEqual([...TIERS]);
    expect(status.tiers.critical).toEqual({ visible: 2, inFlight: 0, delayed: 0, oldestAgeSeconds: null });
    expect(status.tiers.low).toMatchObject({ visible: 0, delayed: 1 });
    expect(status.dlq).toEqual({ visible: 0 });
  });

  it('prints a table per tier for people', async () => {
    const { h, tierq } = await setup();
    await h.send('high', { task: 'echo', payload: { n: 1 } });
    const run = await tierq('status');
    expect(run.stdout).toMatch(/tier\s+visible\s+in flight\s+delayed\s+oldest/);
    expect(run.stdout).toMatch(/\nhigh\s+1\s+0\s+0\s+-\n/);
    expect(run.stdout).toContain('dead-letter queue: 0');
  });
});

describe('tierq task', () => {
  it('shows a finished task with its result, and unknown for an id never seen', async () => {
    const { h, tierq } = await setup();
    const id = await h.send('normal', { task: 'echo', payload: { n: 5 } });
    await h.invoke(await h.receive('normal'));
    const done = await tierq('task', id, '--json');
    expect(JSON.parse(done.stdout)).toEqual({
      id,
      taskId: id,
      task: 'echo',
      status: 'succeeded',
      attempts: 1,
      result: { n: 5 },
      error: null,
    });
    const unknown = await tierq('task', 'never-enqueued', '--json');
    expect(JSON.parse(unknown.stdout)).toMatchObject({ id: 'never-enqueued', status: 'unknown' });
  });

  it('lists every task recorded under a key, and shows one with --task', async () => {
    const { h, tierq } = await setup();
    await h.send('normal', {
      id: 'order-7-echo',
      task: 'echo',
      payload: { n: 7 },
      idempotencyKey: 'order-7',
    });
    await h.send('normal', {
      id: 'order-7-reject',
      task: 'reject',
      payload: null,
      idempotencyKey: 'order-7',
    });
    await waitFor(async () => {
      await h.invoke(await h.receive('normal', 10, 0));
      return (await h.depth('normal')).visible + (await h.depth('normal')).inFlight === 0;
    });

    const all = await tierq('task', 'order-7', '--json');
    const one = await tierq('task', 'order-7', '--task', 'reject', '--json');
    const text = await tierq('task', 'order-7');

    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual([
      expect.objectContaining({ id: 'order-7', taskId: 'order-7-echo', task: 'echo', status: 'succeeded' }),
      expect.objectContaining({ id: 'order-7', taskId: 'order-7-reject', task: 'reject', status: 'dead' }),
    ]);
    expect(JSON.parse(one.stdout)).toMatchObject({ task: 'reject', status: 'dead', attempts: 1 });
    expect(text.stdout).toMatch(/task\s+echo\n[\s\S]*task\s+reject\n/);
  });
});

describe('tierq dlq', () => {
  it('peeks as JSON with id, task, tier, reason, error and attempts', async () => {
    const { h, tierq } = await setup();
    await deadLetters(h, 2);
    const run = await tierq('dlq', 'peek', '--json');
    const letters = JSON.parse(run.stdout);
    expect(letters.map((l: { id: string }) => l.id).sort()).toEqual(['dead-0', 'dead-1']);
    expect(letters[0]).toEqual({
      id: expect.stringMatching(/^dead-/),
      task: 'reject',
      tier: 'low',
      reason: 'permanent-error',
      error: expect.stringContaining('no such customer'),
      attempts: 1,
    });
  });

  it('replays to the source tier and reports counts', async () => {
    const { h, tierq } = await setup();
    await deadLetters(h, 3);
    const run = await tierq('dlq', 'replay', '--task', 'reject', '--limit', '2');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('replayed 2, skipped 0, failed 0');
    expect(await bodiesOn(h.urlOf('low'))).toHaveLength(2);
  });

  it('refuses to purge without --yes when it cannot ask, and purges one task with it', async () => {
    const { h, tierq } = await setup();
    await deadLetters(h, 2);
    const refused = await tierq('dlq', 'purge');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to delete every dead letter without --yes');
    const purged = await tierq('dlq', 'purge', '--task', 'reject', '--yes');
    expect(purged.stdout).toContain('deleted 2 dead letter(s)');
    expect(JSON.parse((await tierq('dlq', 'peek', '--json')).stdout)).toEqual([]);
  });

  it('rejects a bad --limit with exit code 2', async () => {
    const { tierq } = await setup();
    const run = await tierq('dlq', 'peek', '--limit', '0');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('expected a positive whole number');
    expect(run.stderr).toContain('Usage: tierq dlq peek');
  });
});

describe('tierq breaker', () => {
  it('forces a breaker open and closed as the operator, and lists it here and in tierq status', async () => {
    const { tierq } = await setup();
    expect((await tierq('breaker', 'list', '--json')).stdout.trim()).toBe('[]');

    const opened = await tierq('breaker', 'open', 'payments', '--for', '10m', '--by', 'ci');
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toMatch(/^breaker payments is open until \d{4}-/);
    const [listed] = JSON.parse((await tierq('breaker', 'list', '--json')).stdout);
    expect(listed).toMatchObject({
      name: 'payments',
      state: 'open',
      opens: 1,
      forcedBy: 'ci',
      probing: false,
    });
    expect(Date.parse(listed.openUntil) - Date.now()).toBeGreaterThan(9 * 60_000);
    const status = JSON.parse((await tierq('status', '--json')).stdout);
    expect(status.breakers).toEqual([listed]);
    expect((await tierq('status')).stdout).toMatch(/payments +open/);

    expect((await tierq('breaker', 'close', 'payments')).code).toBe(0);
    const [closed] = JSON.parse((await tierq('breaker', 'list', '--json')).stdout);
    expect(closed).toMatchObject({ name: 'payments', state: 'closed', openUntil: null, failures: 0 });
  });

  it('rejects a bad name or duration with exit code 2 and says why', async () => {
    const { tierq } = await setup();
    const badName = await tierq('breaker', 'open', 'pay ments');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/breaker name is 1–128 letters/);
    const badFor = await tierq('breaker', 'open', 'payments', '--for', 'soon');
    expect(badFor.code).toBe(2);
    expect(badFor.stderr).toMatch(/expected a duration/);
    expect((await tierq('breaker', 'close')).code).toBe(2);
  });
});

describe('tierq target', () => {
  it('says how to start a local stack when there is none', async () => {
    const run = await runCli(['status'], await mkdtemp(join(tmpdir(), 'tierq-cli-empty-')));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'no local stack here (.tierq/local.json not found): start one with `npm start`',
    );
  });

  it('names the endpoint it cannot reach', async () => {
    const dir = await cliWorkspace({
      region: 'us-east-1',
      endpoints: { sqs: 'http://127.0.0.1:9', dynamodb: 'http://127.0.0.1:9' },
      queues: { high: 'http://127.0.0.1:9/000000000000/high' },
      dlq: 'http://127.0.0.1:9/000000000000/dlq',
      table: 't',
    });
    const run = await runCli(['status'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'cannot reach the local stack (SQS http://127.0.0.1:9, DynamoDB http://127.0.0.1:9)',
    );
    expect(run.stderr).toContain('start it again with `npm start`');
  });
});
