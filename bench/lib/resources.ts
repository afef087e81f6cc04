import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type QueueAttributeName,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../local/emulators.js';

const DEPTH: QueueAttributeName[] = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
];

/** Endpoints of the running emulators, as `startEmulators` reports them. */
export interface Endpoints {
  readonly sqs: string;
  readonly dynamodb: string;
}

/**
 * A name no earlier run in this process used (queues and tables live as long as the emulators).
 *
 * @example
 * uniqueName('bench-tierq'); // 'bench-tierq-m3x9k2-1a2b3c'
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * A fresh DynamoDB client on the emulator. Each variant gets its own, so counts never mix.
 *
 * @example
 * const ddb = dynamoClient(endpoints);
 */
export function dynamoClient(endpoints: Endpoints): DynamoDBClient {
  return new DynamoDBClient(localClientConfig(endpoints.dynamodb));
}

/**
 * A fresh SQS client on the emulator.
 *
 * @example
 * const sqs = sqsClient(endpoints);
 */
export function sqsClient(endpoints: Endpoints): SQSClient {
  return new SQSClient(localClientConfig(endpoints.sqs));
}

/**
 * Creates an on-demand table and waits until it is ACTIVE. `pk-sk` is tierq's layout
 * (generic string keys); `id` is the layout Powertools' DynamoDBPersistenceLayer expects.
 *
 * @example
 * await createTable(ddb, 'bench-tierq', 'pk-sk');
 */
export async function createTable(
  client: DynamoDBClient,
  name: string,
  layout: 'pk-sk' | 'id',
): Promise<void> {
  const keys = layout === 'id' ? ['id'] : ['pk', 'sk'];
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: keys.map((k) => ({ AttributeName: k, AttributeType: 'S' })),
      KeySchema: keys.map((k, i) => ({ AttributeName: k, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
    }),
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${name} did not become ACTIVE within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Creates a standard queue and returns its URL and ARN.
 *
 * @example
 * const { url, arn } = await createQueue(sqs, 'bench-producer');
 */
export async function createQueue(client: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name }));
  if (QueueUrl === undefined) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`GetQueueAttributes ${name} returned no QueueArn`);
  return { url: QueueUrl, arn };
}

/**
 * The largest item among up to `limit` items of a table, in bytes as DynamoDB sizes them
 * (attribute names plus values), so write units can be checked: up to 1 KB is one unit.
 *
 * @example
 * const bytes = await largestItemBytes(ddb, 'bench-tierq');
 */
export async function largestItemBytes(client: DynamoDBClient, table: string, limit = 200): Promise<number> {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: table, Limit: limit }));
  return Math.max(0, ...Items.map(itemBytes));
}

/** DynamoDB's item size rules, closely enough to tell 1 KB from more. */
function itemBytes(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += Buffer.byteLength(name) + valueBytes(value);
  return bytes;
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  // Numbers: about one byte per two significant digits, plus one.
  if (value.N !== undefined) return Math.ceil(value.N.replace(/[-.]/g, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined) return 3 + itemBytes(value.M);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueBytes(v), 0);
  return 0;
}

/**
 * Messages visible, in flight or delayed on `urls`, by SQS's approximate counts.
 *
 * @example
 * const left = await messagesOn(sqs, [queueUrl]);
 */
export async function messagesOn(client: SQSClient, urls: readonly string[]): Promise<number> {
  const counts = await Promise.all(
    urls.map(async (QueueUrl) => {
      const { Attributes = {} } = await client.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: DEPTH }),
      );
      return DEPTH.reduce((total, name) => total + Number(Attributes[name] ?? 0), 0);
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}
