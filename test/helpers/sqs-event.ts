import { createHash, randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

export const TEST_QUEUE_ARN = (tier: string) => `arn:aws:sqs:us-east-1:123456789012:tierq-dev-${tier}-queue`;
export const TEST_QUEUE_URL = (tier: string) =>
  `https://sqs.us-east-1.amazonaws.com/123456789012/tierq-dev-${tier}-queue`;

/** Builds one SQS record exactly as Lambda delivers it. */
export function sqsRecord(body: string, options: { tier?: string; receiveCount?: number } = {}): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `handle-${randomUUID()}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: now,
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: TEST_QUEUE_ARN(options.tier ?? 'normal'),
    awsRegion: 'us-east-1',
  };
}

/** A v1 task body. */
export function taskBody(task: string, payload: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ v: 1, id: `t-${randomUUID()}`, task, payload, ...extra });
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A Lambda context whose remaining time counts down from `timeoutMs`. */
export function lambdaContext(timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'tierq-consumer',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:tierq-consumer',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/tierq-consumer',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The environment the TaskQueue construct gives the consumer, with test URLs. */
export function consumerEnv(tiers = ['critical', 'high', 'normal', 'low']): Record<string, string> {
  return {
    TIERQ_TIERS: tiers.join(','),
    TIERQ_MAX_RECEIVE_COUNT: '10',
    TIERQ_TABLE_NAME: 'tierq-test-table',
    TIERQ_DLQ_URL: TEST_QUEUE_URL('dlq'),
    ...Object.fromEntries(tiers.map((t) => [`TIERQ_QUEUE_URL_${t.toUpperCase()}`, TEST_QUEUE_URL(t)])),
  };
}
