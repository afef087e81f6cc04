import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClientConfig } from '../../local/emulators.js';
import type { MappingStats } from '../../local/event-source-runner.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { sqsClient, uniqueName, waitFor } from '../helpers/aws.js';

/** Inside the project, so the bundle resolves the AWS SDK from its node_modules as in `npm start`. */
const assemblyDir = join('.tierq', `test-cdk.out-${randomUUID().slice(0, 8)}`);
const stateDir = mkdtempSync(join(tmpdir(), 'tierq-local-'));
/** A mapping id as the local Lambda API gives it. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function depth(url: string): Promise<number> {
  const { Attributes } = await sqsClient().send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

const envelope = (task: string, payload: unknown) =>
  JSON.stringify({ v: 1, id: randomUUID(), task, payload, enqueuedAt: new Date().toISOString() });

afterAll(async () => {
  await rm(assemblyDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

describe('startLocalStack', () => {
  const stateFile = join(stateDir, 'local.json');
  const progress: string[] = [];
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({
      emulators: inject('emulators'),
      outputDir: assemblyDir,
      namePrefix: uniqueName('lst'),
      stateFile,
      // Test-only: failed records return after 6 s instead of the template's 180 s (not shorter: a
      // batch still running when its records reappear would run them twice, as on AWS).
      visibilityTimeoutOverride: 6,
      onProgress: (line) => progress.push(line),
    });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('writes the connection file from the synthesized outputs', async () => {
    const written = JSON.parse(await readFile(stateFile, 'utf8'));
    const { region } = inject('emulators');
    const keys = { accessKeyId: expect.stringMatching(/^AKIALOCAL/), secretAccessKey: expect.any(String) };
    expect(written).toEqual({
      region,
      // The AWS-rules gateway in front of the emulators, not the emulators themselves.
      endpoints: stack.endpoints,
      queues: {
        critical: expect.any(String),
        high: expect.any(String),
        normal: expect.any(String),
        low: expect.any(String),
      },
      dlq: expect.stringContaining('DeadLetterQueue'),
      table: expect.stringContaining('Table'),
      principals: { producer: keys, operator: keys },
      metricsNamespace: 'tierq/tierq-dev/TaskQueue',
      // What `tierq pause tier` disables, through the gateway's Lambda API (endpoints.lambda).
      eventSourceMappings: {
        critical: expect.stringMatching(UUID),
        high: expect.stringMatching(UUID),
        normal: expect.stringMatching(UUID),
        low: expect.stringMatching(UUID),
      },
      taskQueues: [
        expect.objectContaining({
          path: 'tierq-dev/TaskQueue',
          queues: written.queues,
          principals: written.principals,
        }),
      ],
    });
    expect(written.principals.producer.accessKeyId).not.toBe(written.principals.operator.accessKeyId);
    if (!process.env.TIERQ_TEST_ENDPOINT) {
      // Lambda code reaches SQS through AWS_ENDPOINT_URL_SQS only, which works when URLs name the endpoint.
      for (const url of Object.values(written.queues)) {
        expect(url).toMatch(new RegExp(`^${stack.endpoints.sqs}/`));
      }
    }
  });

  it('lists what it does not run', () => {
    expect(stack.notRun.join('\n')).toMatch(/AWS::SNS::Topic/);
    expect(stack.notRun.join('\n')).toMatch(/AWS::IAM::Role/);
  });

  it('runs an echo task on every tier and deletes it', async () => {
    for (const url of Object.values(stack.queues)) {
      await sqsClient().send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: envelope('echo', { n: 1 }) }),
      );
    }
    const succeeded = () => stack.stats().reduce((n, s) => n + s.succeeded, 0);
    await waitFor(async () => succeeded() >= 4, { timeoutMs: 20_000, message: 'four echo tasks to succeed' });
    await waitFor(
      async () => (await Promise.all(Object.values(stack.queues).map(depth))).every((d) => d === 0),
      { timeoutMs: 10_000, message: 'every tier queue to be empty' },
    );
    expect(stack.stats().reduce((n, s) => n + s.failed + s.errors + s.timeouts + s.malformed, 0)).toBe(0);
    expect(await depth(stack.dlq)).toBe(0);
  });

  it('counts every acknowledged record when several pollers delete at once', async () => {
    const critical = () => stack.stats().find((s) => s.queueUrl === stack.queues.critical) as MappingStats;
    const before = { ...critical() };
    const entries = Array.from({ length: 10 }, (_, i) => ({
      Id: String(i),
      MessageBody: envelope('echo', { i }),
    }));
    // 120 tasks on the critical tier, whose maximum concurrency runs several pollers side by side.
    for (let i = 0; i < 12; i++) {
      await sqsClient().send(
        new SendMessageBatchCommand({ QueueUrl: stack.queues.critical, Entries: entries }),
      );
    }
    // Acknowledgements are compared with deliveries, not with sends: a batch that waits for its
    // sandbox's cold start longer than the 1-s test visibility is delivered, and acknowledged, twice.
    const delta = () => {
      const now = critical();
      return {
        delivered: now.records - before.records,
        acked: now.succeeded - before.succeeded,
        failed: now.failed - before.failed,
      };
    };
    await waitFor(
      async () => {
        const { delivered, acked, failed } = delta();
        return (await depth(stack.queues.critical as string)) === 0 && acked === delivered - failed;
      },
      { timeoutMs: 30_000, message: 'the critical tier to drain with every delivery counted' },
    );
    expect(delta().delivered).toBeGreaterThanOrEqual(120);
    expect(delta().failed).toBe(0);
  });

  it('ends with invalid JSON in the dead-letter queue', async () => {
    const marker = `broken-${randomUUID()}`;
    await sqsClient().send(
      new SendMessageCommand({ QueueUrl: stack.queues.normal, MessageBody: `{"v":1,"id":"${marker}",` }),
    );
    const found = await waitFor(
      async () => {
        const { Messages = [] } = await sqsClient().send(
          new ReceiveMessageCommand({ QueueUrl: stack.dlq, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
        );
        return Messages.find((m) => m.Body?.includes(marker));
      },
      // maxReceiveCount 10 with a 1 s visibility timeout, if the consumer does not dead-letter it itself.
      { timeoutMs: 40_000, intervalMs: 250, message: 'the invalid message in the DLQ' },
    );
    expect(found.Body).toContain(marker);
    expect(await depth(stack.queues.normal as string)).toBe(0);
  }, 60_000);
});

describe('startLocalStack with its own emulators', () => {
  it('reports the oldest message age per tier, stops DynamoDB Local and removes the connection file', async () => {
    const stateFile = join(stateDir, 'own.json');
    const javaBefore = dynamoDbLocalPids();
    const stack = await startLocalStack({ assemblyDir, stateFile });
    // Other checkouts' and other suites' JVMs come and go; this stack's own are the new ones.
    const ours = dynamoDbLocalPids().filter((pid) => !javaBefore.includes(pid));
    expect(ours.length).toBeGreaterThan(0);

    // A task that runs for 2.5 s stays in flight: its age grows while it runs.
    const own = new SQSClient(localClientConfig(stack.endpoints.sqs));
    await own.send(
      new SendMessageCommand({ QueueUrl: stack.queues.high, MessageBody: envelope('sleep', { ms: 2_500 }) }),
    );
    await waitFor(() => (stack.oldestMessageAges().high ?? 0) >= 1, {
      timeoutMs: 5_000,
      message: 'an age of 1 s',
    });
    expect(Object.keys(stack.oldestMessageAges())).toEqual([...stack.tiers]);
    expect(stack.oldestMessageAges().low).toBeNull();

    await stack.stop();

    expect(dynamoDbLocalPids().filter((pid) => ours.includes(pid))).toEqual([]);
    await expect(readFile(stateFile, 'utf8')).rejects.toThrow(/ENOENT/);
  }, 60_000);
});

/** Pids of running DynamoDB Local JVMs (the suite's own emulators included). */
function dynamoDbLocalPids(): string[] {
  try {
    return execFileSync('pgrep', ['-f', 'DynamoDBLocal'], { encoding: 'utf8' }).trim().split('\n').sort();
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
