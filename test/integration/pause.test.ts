/**
 * Pause and resume on the local stack, through the `tierq` CLI as the stack's operator: a paused
 * task's records never run while paused and all run after resume with their attempts unchanged;
 * a paused tier's event source mapping stops polling, so its messages stay in the queue; and only
 * a principal granted pausing may pause.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClientConfig } from '../../local/emulators.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { getTaskState } from '../../shared/stores/task-lookup.js';
import { uniqueName, waitFor } from '../helpers/aws.js';
import { cliWorkspace, runCli } from '../helpers/cli.js';
import { principalClients } from '../helpers/e2e.js';

/** Inside the project, so the bundle resolves the AWS SDK from its node_modules as in `npm start`. */
const assemblyDir = join('.tierq', `test-cdk.out-pause-${randomUUID().slice(0, 8)}`);

let stack: LocalStack;
let clients: ReturnType<typeof principalClients>;
let workspace: string;

beforeAll(async () => {
  stack = await startLocalStack({
    emulators: inject('emulators'),
    outputDir: assemblyDir,
    namePrefix: uniqueName('pause'),
    stateFile: false,
    // A paused task's record looks again after its hop (30–60 s on AWS, 1 s here).
    functionEnvironment: { TIERQ_MAX_HOP_SECONDS: '1' },
  });
  clients = principalClients(stack);
  // What `npm start` writes to .tierq/local.json; the CLI acts as the operator with it.
  const { region, endpoints, queues, dlq, table, principals, eventSourceMappings } = stack;
  workspace = await cliWorkspace({ region, endpoints, queues, dlq, table, principals, eventSourceMappings });
}, 120_000);

afterAll(async () => {
  for (const client of Object.values(clients ?? {})) client.destroy();
  await stack?.stop();
  await rm(assemblyDir, { recursive: true, force: true });
  if (workspace !== undefined) await rm(workspace, { recursive: true, force: true });
});

const tierq = (...args: string[]) => runCli(args, workspace);

async function send(
  producer: SQSClient,
  tier: string,
  tasks: { id: string; task: string; payload: unknown }[],
) {
  for (let i = 0; i < tasks.length; i += 10) {
    const { Failed = [] } = await producer.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.queues[tier],
        Entries: tasks.slice(i, i + 10).map((t, j) => ({
          Id: String(j),
          MessageBody: JSON.stringify({ v: 1, ...t, enqueuedAt: new Date().toISOString() }),
        })),
      }),
    );
    expect(Failed).toEqual([]);
  }
}

const stateOf = (id: string, task: string) =>
  getTaskState({ client: clients.dynamodb, tableName: stack.table }, id, task);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('tierq pause task', () => {
  it('runs nothing of a paused task while paused, and all of it after resume, attempts unchanged', async () => {
    const paused = await tierq('pause', 'task', 'echo', '--reason', 'downstream maintenance', '--by', 'test');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/paused task echo/);

    const run = randomUUID().slice(0, 8);
    const echoes = Array.from({ length: 12 }, (_, i) => ({
      id: `echo-${run}-${i}`,
      task: 'echo',
      payload: i,
    }));
    const others = Array.from({ length: 3 }, (_, i) => ({
      id: `sleep-${run}-${i}`,
      task: 'sleep',
      payload: { ms: 1 },
    }));
    await send(clients.producer, 'high', [...echoes, ...others]);

    // The consumer keeps running other tasks meanwhile…
    await waitFor(
      async () =>
        (await Promise.all(others.map((t) => stateOf(t.id, 'sleep')))).every((s) => s.status === 'succeeded'),
      { timeoutMs: 30_000, message: 'the unpaused tasks to succeed' },
    );
    // …and keeps looking at the paused ones (each comes back every second here) without running them.
    const delivered = () => stack.stats().reduce((sum, m) => sum + m.records, 0);
    const before = delivered();
    await sleep(4_000);
    expect(delivered() - before).toBeGreaterThanOrEqual(echoes.length);
    for (const t of echoes) expect((await stateOf(t.id, 'echo')).status).toBe('unknown');

    const status = await tierq('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const shown = JSON.parse(status.stdout) as { paused: { tasks: { name: string; reason?: string }[] } };
    expect(shown.paused.tasks).toEqual([
      expect.objectContaining({ name: 'echo', pausedBy: 'test', reason: 'downstream maintenance' }),
    ]);

    const resumed = await tierq('resume', 'task', 'echo');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resumed task echo/);
    const states = await waitFor(
      async () => {
        const all = await Promise.all(echoes.map((t) => stateOf(t.id, 'echo')));
        return all.every((s) => s.status === 'succeeded') && all;
      },
      { timeoutMs: 30_000, message: 'every echo to run after resume' },
    );
    for (const [i, s] of states.entries()) {
      expect(s).toMatchObject({ status: 'succeeded', attempts: 1, result: i });
    }
    const after = await tierq('status', '--json');
    expect(JSON.parse(after.stdout).paused.tasks).toEqual([]);
  }, 90_000);
});

describe('tierq pause tier', () => {
  const depth = async (tier: string) => {
    const { Attributes = {} } = await clients.operator.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.queues[tier],
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
    };
  };

  it('stops its event source mapping: its messages stay in the queue until resumed', async () => {
    const paused = await tierq('pause', 'tier', 'low');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/paused tier low: event source mapping \S+ is Disabled/);
    const mapping = stack.eventSourceMappings?.low as string;
    expect(paused.stdout).toContain(mapping);

    const run = randomUUID().slice(0, 8);
    const tasks = Array.from({ length: 5 }, (_, i) => ({ id: `low-${run}-${i}`, task: 'echo', payload: i }));
    const lowStats = () => stack.stats().find((s) => s.queueUrl === stack.queues.low);
    const received = lowStats()?.records ?? 0;
    await send(clients.producer, 'low', tasks);
    await sleep(4_000);
    expect(await depth('low')).toEqual({ visible: 5, inFlight: 0 });
    expect(lowStats()?.records).toBe(received);

    const status = await tierq('status', '--json');
    expect(JSON.parse(status.stdout).paused.tiers).toEqual([
      expect.objectContaining({ name: 'low', state: 'Disabled' }),
    ]);
    const text = await tierq('status');
    expect(text.stdout).toMatch(/tier\s+low\s+Disabled\s+since/);

    const resumed = await tierq('resume', 'tier', 'low');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resumed tier low: event source mapping \S+ is Enabled/);
    await waitFor(
      async () =>
        (await Promise.all(tasks.map((t) => stateOf(t.id, 'echo')))).every((s) => s.status === 'succeeded'),
      { timeoutMs: 30_000, message: 'the low tier to drain after resume' },
    );
    expect(await depth('low')).toEqual({ visible: 0, inFlight: 0 });
    expect(JSON.parse((await tierq('status', '--json')).stdout).paused.tiers).toEqual([]);
  }, 90_000);

  it('is refused to a principal the operator policy was not given to, as AWS refuses it', async () => {
    const keys = stack.principals?.producer;
    const lambda = new LambdaClient({
      ...localClientConfig(stack.endpoints.lambda as string),
      region: stack.region,
      credentials: keys,
    });
    const producerDynamo = new DynamoDBClient({
      ...localClientConfig(stack.endpoints.dynamodb),
      region: stack.region,
      credentials: keys,
    });
    try {
      const denied = await lambda
        .send(new UpdateEventSourceMappingCommand({ UUID: stack.eventSourceMappings?.low, Enabled: false }))
        .then(
          () => undefined,
          (error: Error) => error,
        );
      expect(denied?.name).toBe('AccessDeniedException');
      expect(denied?.message).toMatch(
        /not authorized to perform: lambda:UpdateEventSourceMapping on resource: arn:aws:lambda:.*:event-source-mapping:/,
      );
      const write = await producerDynamo
        .send(
          new PutItemCommand({
            TableName: stack.table,
            Item: { pk: { S: 'pause#task' }, sk: { S: 'echo' } },
          }),
        )
        .then(
          () => undefined,
          (error: Error) => error,
        );
      expect(write?.name).toBe('AccessDeniedException');
      // Nothing was paused by either.
      expect(JSON.parse((await tierq('status', '--json')).stdout).paused).toEqual({ tasks: [], tiers: [] });
    } finally {
      lambda.destroy();
      producerDynamo.destroy();
    }
  });
});

describe('tierq pause and resume arguments', () => {
  it.each([
    [['pause', 'tier', 'urgent'], /unknown tier "urgent"; the tiers are: critical, high, normal, low/],
    [['pause', 'task'], /missing required argument 'name'/],
    [['resume', 'queue', 'low'], /expected "task" or "tier" before the name, got "queue"/],
    [['pause', 'task', 'no spaces'], /task name "no spaces" must be 1–128 characters/],
  ])('tierq %j exits 2 saying what is wrong', async (args, message) => {
    const run = await tierq(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('says so when a task was not paused', async () => {
    const run = await tierq('resume', 'task', 'flaky');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/task flaky was not paused; nothing to do/);
  });
});
