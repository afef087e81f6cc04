import { randomUUID } from 'node:crypto';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ConsumerConfig } from '../../shared/consumer/config.js';
import { createConsumer } from '../../shared/consumer/consumer.js';
import type { BreakerStore } from '../../shared/consumer/runtime.js';
import { SQS_MAX_MESSAGE_BYTES } from '../../shared/declaration.js';
import { type AnyTask, TaskRegistry } from '../../shared/registry.js';
import { DynamoBreakerStore } from '../../shared/stores/dynamo-breaker-store.js';
import { DynamoPausedTasks } from '../../shared/stores/dynamo-pause-store.js';
import { DynamoRateLimiter } from '../../shared/stores/dynamo-rate-limiter.js';
import { DynamoTaskStore } from '../../shared/stores/dynamo-task-store.js';
import { DynamoTenantLeases } from '../../shared/stores/dynamo-tenant-leases.js';
import type { PausedTasks } from '../../shared/stores/pause-store.js';
import type { RateLimiter } from '../../shared/stores/rate-limiter.js';
import { getTaskState } from '../../shared/stores/task-lookup.js';
import type { TaskStore } from '../../shared/stores/task-store.js';
import type { TenantLeases } from '../../shared/stores/tenant-leases.js';
import { createTestTable, dynamoClient, sqsClient, uniqueName } from './aws.js';
import { lambdaContext } from './sqs-event.js';

export const TIERS = ['critical', 'high', 'normal', 'low'] as const;

async function queue(prefix: string, attributes: Record<string, string> = {}) {
  const { QueueUrl } = await sqsClient().send(
    new CreateQueueCommand({ QueueName: uniqueName(prefix), Attributes: attributes }),
  );
  const url = QueueUrl as string;
  const { Attributes } = await sqsClient().send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return { url, arn: Attributes?.QueueArn as string };
}

export interface HarnessOptions {
  readonly tasks: readonly AnyTask[];
  readonly maxReceiveCount?: number;
  readonly maxHopSeconds?: number;
  /** Shifts the consumer's clock, to test far-future `runAt` without waiting. */
  readonly clockOffsetMs?: () => number;
  /** Points the stores at another table (e.g. one that does not exist). */
  readonly storeTableName?: string;
  /** The stores' DynamoDB client, e.g. one going through a wire proxy. Default: the emulator's. */
  readonly storeClient?: DynamoDBClient;
  /** Wraps the task store the consumer uses, e.g. to make one of its methods misbehave. */
  readonly wrapStore?: (store: TaskStore) => TaskStore;
  /** The rate limiter of every handler made. Default: a DynamoRateLimiter of its own per handler. */
  readonly limiter?: RateLimiter;
  /** Wraps the breaker store the consumer uses, e.g. to make it fail. */
  readonly wrapBreakers?: (store: BreakerStore) => BreakerStore;
  /**
   * The paused tasks every handler made reads. Default: one DynamoPausedTasks per handler on the
   * harness's own table (through `storeClient`): `storeTableName` moves the task store and the
   * limiter, whose failures those tests are about.
   */
  readonly pauses?: PausedTasks;
  /** The lease store of every handler made. Default: a DynamoTenantLeases of its own per handler. */
  readonly leases?: TenantLeases;
  /** The consumer's random source (backoff jitter). Default: Math.random. */
  readonly random?: () => number;
}

/**
 * A real consumer wired to real emulators: four tier queues redriving to one DLQ, a fresh
 * table, and the handler. `poll` receives from a tier like Lambda's event source mapping and
 * deletes what the partial batch response does not name.
 */
export async function consumerHarness(options: HarnessOptions) {
  const maxReceiveCount = options.maxReceiveCount ?? 10;
  const dlq = await queue('dlq');
  const redrive = JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount });
  const tiers = await Promise.all(
    TIERS.map(async (name) => ({
      name,
      ...(await queue(name, { RedrivePolicy: redrive, VisibilityTimeout: '30' })),
    })),
  );
  const tableName = await createTestTable('tierq');
  const config: ConsumerConfig = {
    tableName,
    deadLetterQueueUrl: dlq.url,
    tiers: tiers.map((t) => ({ name: t.name, queueUrl: t.url })),
    maxReceiveCount,
    maxHopSeconds: options.maxHopSeconds ?? 900,
    maxMessageBytes: SQS_MAX_MESSAGE_BYTES,
  };
  const storeTable = options.storeTableName ?? tableName;
  const storeClient = options.storeClient ?? dynamoClient();
  const store = new DynamoTaskStore(storeClient, storeTable);
  const limiter = new DynamoRateLimiter(storeClient, storeTable);
  const makeHandler = () =>
    createConsumer({
      config,
      registry: new TaskRegistry(options.tasks),
      sqs: sqsClient(),
      store: options.wrapStore?.(store) ?? store,
      // A second limiter instance is a second consumer with its own cache.
      limiter: options.limiter ?? new DynamoRateLimiter(storeClient, storeTable),
      breakers: (options.wrapBreakers ?? ((b) => b))(new DynamoBreakerStore(storeClient, storeTable)),
      pauses: options.pauses ?? new DynamoPausedTasks(storeClient, tableName),
      // Likewise its own lease store: leases are shared through the table, not a cache.
      leases: options.leases ?? new DynamoTenantLeases(storeClient, storeTable),
      metrics: new Metrics({ namespace: 'tierq-test' }),
      now: () => Date.now() + (options.clockOffsetMs?.() ?? 0),
      maxHopSeconds: config.maxHopSeconds,
      ...(options.random === undefined ? {} : { random: options.random }),
    });
  const handler = makeHandler();
  const urlOf = (tier: string) => tiers.find((t) => t.name === tier)?.url as string;
  const arnOf = (tier: string) => tiers.find((t) => t.name === tier)?.arn as string;

  const toRecord = (m: Message, tier: string): SQSRecord => ({
    messageId: m.MessageId as string,
    receiptHandle: m.ReceiptHandle as string,
    body: m.Body as string,
    attributes: m.Attributes as unknown as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: m.MD5OfBody as string,
    eventSource: 'aws:sqs',
    eventSourceARN: arnOf(tier),
    awsRegion: 'us-east-1',
  });

  return {
    config,
    store,
    limiter,
    /** The state of the task(s) recorded under `key`, as `tierq task` reads it. */
    taskState: (key: string, task?: string) =>
      getTaskState({ client: storeClient, tableName: storeTable }, key, task),
    handler,
    makeHandler,
    urlOf,
    /** Sends a v1 body (or a raw string) to a tier; returns the task id. */
    async send(tier: string, body: Record<string, unknown> | string, delaySeconds = 0): Promise<string> {
      const id = typeof body === 'string' ? '' : String(body.id ?? `t-${randomUUID()}`);
      const text = typeof body === 'string' ? body : JSON.stringify({ v: 1, id, ...body });
      await sqsClient().send(
        new SendMessageCommand({ QueueUrl: urlOf(tier), MessageBody: text, DelaySeconds: delaySeconds }),
      );
      return id;
    },
    /** Receives up to `max` messages from a tier as a Lambda SQSEvent (empty when none arrive). */
    async receive(tier: string, max = 10, waitSeconds = 1): Promise<SQSEvent> {
      const { Messages = [] } = await sqsClient().send(
        new ReceiveMessageCommand({
          QueueUrl: urlOf(tier),
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      return { Records: Messages.map((m) => toRecord(m, tier)) };
    },
    /**
     * Runs the handler on an event and deletes what it acknowledged, like the event source mapping;
     * `context` is a Lambda context, or the ms its invocation has left.
     */
    async invoke(
      event: SQSEvent,
      h = handler,
      context: number | Context = 30_000,
    ): Promise<SQSBatchResponse> {
      const response = await h(event, typeof context === 'number' ? lambdaContext(context) : context);
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const done = event.Records.filter((r) => !failed.has(r.messageId));
      if (done.length > 0) {
        await sqsClient().send(
          new DeleteMessageBatchCommand({
            QueueUrl: urlOf(TIERS.find((t) => arnOf(t) === done[0]?.eventSourceARN) as string),
            Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
          }),
        );
      }
      return response;
    },
    /** Reads every DLQ message (without deleting), with its attributes. */
    async deadLetters(): Promise<Message[]> {
      const { Messages = [] } = await sqsClient().send(
        new ReceiveMessageCommand({
          QueueUrl: dlq.url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 0,
          MessageAttributeNames: ['All'],
        }),
      );
      return Messages;
    },
    async depth(tier: string) {
      const { Attributes = {} } = await sqsClient().send(
        new GetQueueAttributesCommand({ QueueUrl: urlOf(tier), AttributeNames: ['All'] }),
      );
      return {
        visible: Number(Attributes.ApproximateNumberOfMessages),
        inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
        delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
      };
    },
  };
}
export type ConsumerHarness = Awaited<ReturnType<typeof consumerHarness>>;
