import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { localClientConfig } from '../../local/emulators.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let sqs: SQSClient | undefined;
let dynamo: DynamoDBClient | undefined;
let routed: { readonly sqs: string; readonly dynamodb: string } | undefined;

function clientConfig(endpoint: string) {
  return { ...localClientConfig(endpoint), region: inject('emulators').region };
}

/** Where this file's helpers send: the emulators, or what {@link routeHelpersThrough} set. */
export function helperEndpoints(): { readonly sqs: string; readonly dynamodb: string } {
  return routed ?? inject('emulators').endpoints;
}

/**
 * Sends this file's helper requests (and so creates its queues, whose URLs name the endpoint)
 * through `endpoints`, e.g. a gateway that enforces IAM (test/helpers/declared-access.ts).
 */
export function routeHelpersThrough(endpoints: { readonly sqs: string; readonly dynamodb: string }): void {
  sqs?.destroy();
  dynamo?.destroy();
  sqs = undefined;
  dynamo = undefined;
  routed = endpoints;
}

/** One SQS client per test file, pointed at the emulator (or `TIERQ_TEST_ENDPOINT`). */
export function sqsClient(): SQSClient {
  sqs ??= new SQSClient(clientConfig(helperEndpoints().sqs));
  return sqs;
}

/** One DynamoDB client per test file, pointed at the emulator (or `TIERQ_TEST_ENDPOINT`). */
export function dynamoClient(): DynamoDBClient {
  dynamo ??= new DynamoDBClient(clientConfig(helperEndpoints().dynamodb));
  return dynamo;
}

/**
 * A resource name no other test (or earlier run against a long-lived LocalStack) uses.
 * Valid for SQS queues (80 chars, `[A-Za-z0-9_-]`) and DynamoDB tables.
 */
export function uniqueName(prefix: string): string {
  const safePrefix = prefix.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
  return `${safePrefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface TestQueue {
  name: string;
  url: string;
  arn: string;
}

export interface CreateTestQueueOptions {
  /** Name prefix; a unique suffix is always added. */
  prefix?: string;
  /** Queue attributes such as `VisibilityTimeout`, passed as given. */
  attributes?: Record<string, string>;
  /** Creates a DLQ and a redrive policy that moves a message there after this many receives. */
  maxReceiveCount?: number;
}

/** Creates a standard queue with a unique name, and its DLQ when `maxReceiveCount` is given. */
export async function createTestQueue(
  options: CreateTestQueueOptions = {},
): Promise<TestQueue & { dlq?: TestQueue }> {
  const prefix = options.prefix ?? 'queue';
  const dlq = options.maxReceiveCount === undefined ? undefined : await createQueue(`${prefix}-dlq`, {});
  const attributes = { ...options.attributes };
  if (dlq !== undefined) {
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: options.maxReceiveCount,
    });
  }
  const queue = await createQueue(prefix, attributes);
  return dlq === undefined ? queue : { ...queue, dlq };
}

async function createQueue(prefix: string, attributes: Record<string, string>): Promise<TestQueue> {
  const name = uniqueName(prefix);
  const created = await sqsClient().send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = required(created.QueueUrl, `CreateQueue ${name} returned no QueueUrl`);
  const { Attributes } = await sqsClient().send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return {
    name,
    url,
    arn: required(Attributes?.QueueArn, `GetQueueAttributes ${name} returned no QueueArn`),
  };
}

/**
 * Creates an on-demand table keyed by string `pk`/`sk` with TTL on `expiresAt`, under a unique
 * name derived from `prefix`, and resolves with that name once the table is ACTIVE.
 */
export async function createTestTable(prefix = 'table'): Promise<string> {
  const name = uniqueName(prefix);
  const client = dynamoClient();
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  await waitFor(
    async () =>
      (await client.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus === 'ACTIVE',
    { timeoutMs: 10_000, intervalMs: 20, message: `table ${name} to become ACTIVE` },
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    }),
  );
  return name;
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What is being waited for, for the timeout error. */
  message?: string;
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Calls `fn` until it returns a truthy value and resolves with it; rejects once `timeoutMs` has
 * passed. An error thrown by `fn` is a real failure and rejects at once.
 *
 * @example
 * const message = await waitFor(
 *   async () => (await sqsClient().send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages?.[0],
 *   { timeoutMs: 5_000, message: 'a message on the queue' },
 * );
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50, message = 'condition' }: WaitForOptions = {},
): Promise<Truthy<Awaited<T>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as Truthy<Awaited<T>>;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new Error(message);
  return value;
}
