/**
 * The local stack holds requests to AWS's rules where the emulators do not: IAM evaluated against
 * the synthesized template's policies for the caller, answered with the errors AWS sends, and
 * SQS's 12-hour visibility limit measured from the receive.
 */
import { randomUUID } from 'node:crypto';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAwsGateway } from '../../local/aws-gateway.js';
import { localClientConfig } from '../../local/emulators.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { getTaskState } from '../../shared/stores/task-lookup.js';
import { dynamoClient, uniqueName, waitFor } from '../helpers/aws.js';
import { principalClients } from '../helpers/e2e.js';

/** Inside the project, so the bundle resolves the AWS SDK from its node_modules as in `npm start`. */
const assemblyDir = join('.tierq', `test-cdk.out-aws-rules-${randomUUID().slice(0, 8)}`);
const brokenDir = join('.tierq', `test-cdk.out-aws-rules-broken-${randomUUID().slice(0, 8)}`);

const envelope = (id: string, task: string, payload: unknown) =>
  JSON.stringify({ v: 1, id, task, payload, enqueuedAt: new Date().toISOString() });

/** The error a rejected promise carries, for assertions on its name and message. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the request to be denied, but it succeeded');
}

afterAll(async () => {
  await rm(assemblyDir, { recursive: true, force: true });
  await rm(brokenDir, { recursive: true, force: true });
});

describe('IAM on the local stack', () => {
  const progress: string[] = [];
  let stack: LocalStack;
  let clients: ReturnType<typeof principalClients>;
  let producerDynamo: DynamoDBClient;

  beforeAll(async () => {
    stack = await startLocalStack({
      emulators: inject('emulators'),
      outputDir: assemblyDir,
      namePrefix: uniqueName('iam'),
      stateFile: false,
      onProgress: (line) => progress.push(line),
    });
    clients = principalClients(stack);
    producerDynamo = new DynamoDBClient({
      ...localClientConfig(stack.endpoints.dynamodb),
      region: stack.region,
      credentials: stack.principals?.producer,
    });
  }, 90_000);

  afterAll(async () => {
    producerDynamo?.destroy();
    for (const client of Object.values(clients ?? {})) client.destroy();
    await stack?.stop();
  });

  const put = (pk: string) =>
    new PutItemCommand({
      TableName: stack.table,
      Item: { pk: { S: pk }, sk: { S: 'dedup' }, taskId: { S: 'x' } },
    });

  it('denies a producer a task# write with AccessDeniedException, and allows its dedup# claim', async () => {
    const denied = await failure(producerDynamo.send(put(`task#${randomUUID()}`)));
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toMatch(
      /is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:.*:table\//,
    );
    await expect(producerDynamo.send(put(`dedup#${randomUUID()}`))).resolves.toBeDefined();
  });

  it("denies a producer another task's result", async () => {
    const read = new GetItemCommand({
      TableName: stack.table,
      Key: { pk: { S: 'task#someone-else' }, sk: { S: 'task' } },
    });
    expect((await failure(producerDynamo.send(read))).name).toBe('AccessDeniedException');
  });

  it('denies a producer a receive from a tier with SQS AccessDenied', async () => {
    const receive = new ReceiveMessageCommand({ QueueUrl: stack.queues.critical, WaitTimeSeconds: 0 });
    const denied = await failure(clients.producer.send(receive));
    expect(denied.name).toBe('AccessDenied');
    expect((denied as Error & { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(403);
    // SQS names the action in lower case.
    expect(denied.message).toMatch(/not authorized to perform: sqs:receivemessage on resource: arn:aws:sqs:/);
  });

  it('lets the operator peek at the DLQ but not purge a tier', async () => {
    await expect(
      clients.operator.send(
        new ReceiveMessageCommand({ QueueUrl: stack.dlq, WaitTimeSeconds: 0, VisibilityTimeout: 0 }),
      ),
    ).resolves.toBeDefined();
    expect(
      (await failure(clients.operator.send(new PurgeQueueCommand({ QueueUrl: stack.queues.low })))).name,
    ).toBe('AccessDenied');
  });

  it('logs a denial once per principal, action and resource, and counts each', async () => {
    const before = stack.gatewayStats().denied;
    const read = (pk: string) =>
      new GetItemCommand({ TableName: stack.table, Key: { pk: { S: pk }, sk: { S: 'bucket' } } });
    for (let i = 0; i < 3; i++) await failure(producerDynamo.send(read(`ratelimit#${randomUUID()}`)));
    const lines = progress.filter((l) => l.startsWith('IAM denied') && l.includes('dynamodb:GetItem'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^IAM denied TaskQueueProducerPolicy\w+: dynamodb:GetItem on arn:aws:dynamodb:.*table\//,
    );
    expect(stack.gatewayStats().denied - before).toBe(3);
  });

  it("refuses a message over the queue's MaximumMessageSize (1 MiB), as SQS does", async () => {
    const body = envelope(randomUUID(), 'echo', 'x'.repeat(1_048_576));
    const refused = await failure(
      clients.producer.send(new SendMessageCommand({ QueueUrl: stack.queues.low, MessageBody: body })),
    );
    // fauxqs names it AWS.SimpleQueueService.InvalidParameterValue; SQS's JSON protocol, InvalidParameterValue.
    expect(refused.name).toMatch(/InvalidParameterValue$/);
    expect(refused.message).toContain('1048576');
  });
});

describe('a template missing one action the code needs, with a smaller low tier', () => {
  const progress: string[] = [];
  let stack: LocalStack;

  beforeAll(async () => {
    // The synthesized template of the first suite, with BatchWriteItem taken from the consumer's role.
    await cp(assemblyDir, brokenDir, { recursive: true });
    const templateFile = (await readdir(brokenDir)).find((f) => f.endsWith('.template.json')) as string;
    const template = JSON.parse(await readFile(join(brokenDir, templateFile), 'utf8'));
    let removed = 0;
    for (const resource of Object.values(template.Resources) as { Type: string; Properties: any }[]) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      for (const statement of resource.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        if (!actions.includes('dynamodb:BatchWriteItem')) continue;
        statement.Action = actions.filter((a: string) => a !== 'dynamodb:BatchWriteItem');
        removed += 1;
      }
    }
    expect(removed).toBe(1);
    // And the low tier takes messages of at most 2 KiB, as `maxMessageSize: 2048` would set it.
    const low = Object.entries(template.Resources).find(([id]) => id.startsWith('TaskQueueLowQueue'));
    if (low === undefined) throw new Error('the template has no low tier queue');
    (low[1] as { Properties: Record<string, unknown> }).Properties.MaximumMessageSize = 2048;
    await writeFile(join(brokenDir, templateFile), JSON.stringify(template));
    stack = await startLocalStack({
      emulators: inject('emulators'),
      assemblyDir: brokenDir,
      namePrefix: uniqueName('iam-broken'),
      stateFile: false,
      onProgress: (line) => progress.push(line),
    });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('cannot store a completion: AWS denies BatchWriteItem, so the record fails and stays on its queue', async () => {
    const { producer, operator } = principalClients(stack);
    const id = `iam-${randomUUID()}`;
    await producer.send(
      new SendMessageCommand({ QueueUrl: stack.queues.normal, MessageBody: envelope(id, 'echo', { n: 1 }) }),
    );
    await waitFor(async () => progress.some((l) => /^IAM denied \w+: dynamodb:BatchWriteItem on /.test(l)), {
      timeoutMs: 20_000,
      message: 'the gateway to deny the completion write',
    });
    await waitFor(async () => stack.stats().reduce((n, s) => n + s.failed, 0) === 1, {
      timeoutMs: 10_000,
      message: 'the record to be reported failed',
    });
    // The task ran, but its success was never stored: on AWS it would run again on every receive.
    const state = await getTaskState({ client: dynamoClient(), tableName: stack.table }, id);
    expect(state.status).toBe('running');
    expect(stack.stats().reduce((n, s) => n + s.succeeded, 0)).toBe(0);
    const { Attributes } = await operator.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.queues.normal,
        AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('1');
    producer.destroy();
    operator.destroy();
  });

  it("refuses a message over its queue's MaximumMessageSize, as the template sets it", async () => {
    const { producer } = principalClients(stack);
    const send = (bytes: number) =>
      producer.send(new SendMessageCommand({ QueueUrl: stack.queues.low, MessageBody: 'x'.repeat(bytes) }));
    await expect(send(2_048)).resolves.toBeDefined();
    const refused = await failure(send(2_049));
    // fauxqs names it AWS.SimpleQueueService.InvalidParameterValue; SQS's JSON protocol, InvalidParameterValue.
    expect(refused.name).toMatch(/InvalidParameterValue$/);
    expect(refused.message).toContain('2048');
    producer.destroy();
  });
});

describe('the 12-hour visibility limit', () => {
  it('refuses a change that would hold a message past 12 hours from its receive, single or in a batch', async () => {
    let clock = Date.now();
    const gateway = await startAwsGateway({ targets: inject('emulators').endpoints, now: () => clock });
    const sqs = new SQSClient({
      ...localClientConfig(gateway.endpoints.sqs),
      region: inject('emulators').region,
    });
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('visibility') }));
      for (const n of [1, 2]) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `m${n}` }));
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 2, WaitTimeSeconds: 1 }),
      );
      expect(Messages).toHaveLength(2);
      const [first, second] = Messages.map((m) => m.ReceiptHandle as string);
      await sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first, VisibilityTimeout: 43_200 }),
      );

      clock += 10_000;
      const refused = await failure(
        sqs.send(
          new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first, VisibilityTimeout: 43_200 }),
        ),
      );
      expect(refused.name).toBe('InvalidParameterValue');
      expect(refused.message).toContain('beyond the limit [43200 seconds]');
      await sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first, VisibilityTimeout: 43_190 }),
      );

      const batch = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl,
          Entries: [
            { Id: 'fits', ReceiptHandle: first, VisibilityTimeout: 60 },
            { Id: 'too-long', ReceiptHandle: second, VisibilityTimeout: 43_195 },
          ],
        }),
      );
      expect(batch.Successful?.map((s) => s.Id)).toEqual(['fits']);
      expect(batch.Failed).toEqual([
        expect.objectContaining({ Id: 'too-long', Code: 'InvalidParameterValue', SenderFault: true }),
      ]);
      expect(gateway.stats().visibilityRefused).toBe(2);
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      expect(Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('2');
    } finally {
      sqs.destroy();
      await gateway.stop();
    }
  });
});
