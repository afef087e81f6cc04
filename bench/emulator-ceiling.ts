import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { dynamoDbLocalPid, processCpuSeconds } from './lib/cpu.js';
import type { Progress } from './lib/progress.js';
import {
  createQueue,
  createTable,
  dynamoClient,
  type Endpoints,
  sqsClient,
  uniqueName,
} from './lib/resources.js';

const IN_FLIGHT = 16;
const WARMUP_PUTS = 500;

/** Raw fauxqs throughput with batches of 10 and 16 requests in flight. */
export interface SqsCeiling {
  readonly messages: number;
  readonly sendPerSecond: number;
  readonly receiveDeletePerSecond: number;
  /** Messages per second for the whole trip: sent, received and deleted. */
  readonly roundTripPerSecond: number;
  /** CPU time of this process (fauxqs and the client) per message's whole trip, ms. */
  readonly cpuMsPerRoundTrip: number;
}

/** Raw DynamoDB Local throughput of conditional PutItem with 16 in flight. */
export interface DynamoCeiling {
  readonly puts: number;
  readonly conditionalPutsPerSecond: number;
  /** DynamoDB Local's (java) CPU time per timed put, ms; undefined if its pid was not found. */
  readonly serverCpuMsPerPut: number | undefined;
}

/** Runs `work` on `n` indexes with `IN_FLIGHT` workers. */
async function pool(n: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

/**
 * Sends `messages` task-sized messages with SendMessageBatch, then receives and deletes them all
 * (ReceiveMessage of 10, DeleteMessageBatch): the same requests tierq's path makes per task.
 *
 * @example
 * const { roundTripPerSecond } = await sqsCeiling(endpoints, progress);
 */
export async function sqsCeiling(
  endpoints: Endpoints,
  progress: Progress,
  messages = 10_000,
): Promise<SqsCeiling> {
  const sqs = sqsClient(endpoints);
  try {
    const { url } = await createQueue(sqs, uniqueName('bench-ceiling'));
    const body = JSON.stringify({
      v: 1,
      id: randomUUID(),
      task: 'echo',
      payload: { n: 1, to: 'user@example.com' },
    });
    const cpu = process.cpuUsage();
    const sendStart = performance.now();
    await pool(messages / 10, async (b) => {
      progress.update(`raw SQS: sending batch ${b + 1}/${messages / 10}`);
      const Entries = Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: body }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
    });
    const sendSeconds = (performance.now() - sendStart) / 1000;
    let received = 0;
    const drainStart = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (received < messages) {
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: url,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 0,
              VisibilityTimeout: 120,
            }),
          );
          if (Messages.length === 0) continue;
          received += Messages.length;
          progress.update(`raw SQS: received and deleted ${received}/${messages}`);
          const Entries = Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }));
          await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries }));
        }
      }),
    );
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      messages,
      sendPerSecond: messages / sendSeconds,
      receiveDeletePerSecond: messages / drainSeconds,
      roundTripPerSecond: messages / (sendSeconds + drainSeconds),
      cpuMsPerRoundTrip: (used.user + used.system) / 1000 / messages,
    };
  } finally {
    sqs.destroy();
  }
}

/**
 * Conditional PutItems of distinct, tierq-sized items (`attribute_not_exists(pk)`), 16 in flight.
 *
 * @example
 * const { conditionalPutsPerSecond } = await dynamoCeiling(endpoints, progress);
 */
export async function dynamoCeiling(
  endpoints: Endpoints,
  progress: Progress,
  puts = 5_000,
): Promise<DynamoCeiling> {
  const ddb = dynamoClient(endpoints);
  try {
    const table = uniqueName('bench-ceiling');
    await createTable(ddb, table, 'pk-sk');
    const hash = 'f'.repeat(64);
    const put = () =>
      ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            pk: { S: `task#${randomUUID()}` },
            sk: { S: 'task' },
            status: { S: 'running' },
            payloadHash: { S: hash },
            updatedAt: { S: new Date().toISOString() },
            expiresAt: { N: String(Math.floor(Date.now() / 1000) + 86_400) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    // Untimed: a JVM that has not compiled its hot paths yet would understate the ceiling.
    await pool(WARMUP_PUTS, async () => void (await put()));
    const javaPid = dynamoDbLocalPid(endpoints.dynamodb);
    const javaBefore = javaPid === undefined ? 0 : processCpuSeconds(javaPid);
    const start = performance.now();
    await pool(puts, async (i) => {
      if (i % 100 === 0) progress.update(`raw DynamoDB: conditional put ${i}/${puts}`);
      await put();
    });
    const seconds = (performance.now() - start) / 1000;
    return {
      puts,
      conditionalPutsPerSecond: puts / seconds,
      serverCpuMsPerPut:
        javaPid === undefined ? undefined : ((processCpuSeconds(javaPid) - javaBefore) * 1000) / puts,
    };
  } finally {
    ddb.destroy();
  }
}
