import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackConfig } from '../../shared/connection.js';
import { ConfigError } from '../../shared/errors.js';
import { createProducer } from '../../shared/producer/producer.js';
import { createTestQueue, createTestTable, dynamoClient, sqsClient } from '../helpers/aws.js';

/**
 * CloudFormation has no emulator here, so a loopback server answers DescribeStacks in its
 * query-protocol XML; the SDK client, its parsing and everything after it are real.
 */
function describeStacksXml(name: string, outputs: Record<string, string>): string {
  const members = Object.entries(outputs)
    .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
    .join('');
  return `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${name}</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-11-23T00:00:00Z</CreationTime><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>`;
}

const NOT_FOUND =
  '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id Nope does not exist</Message></Error><RequestId>2</RequestId></ErrorResponse>';

let server: Server;
let cloudformation: CloudFormationClient;
let outputs: Record<string, string> = {};
const requested: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const params = new URLSearchParams(body);
      requested.push(`${params.get('Action')} ${params.get('StackName')}`);
      const found = params.get('StackName') === 'tierq-test';
      res.writeHead(found ? 200 : 400, { 'content-type': 'text/xml' });
      res.end(found ? describeStacksXml('tierq-test', outputs) : NOT_FOUND);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  cloudformation = new CloudFormationClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('loadStackConfig', () => {
  it('builds a producer config from the stack outputs that enqueues to the right tier', async () => {
    const [high, low, dlq] = await Promise.all(
      ['high', 'low', 'dlq'].map((p) => createTestQueue({ prefix: `cf-${p}` })),
    );
    const table = await createTestTable('cf');
    outputs = {
      Tiers: 'high,low',
      QueueUrlHigh: high?.url as string,
      QueueUrlLow: low?.url as string,
      DeadLetterQueueUrl: dlq?.url as string,
      TableName: table,
      AlarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:alarms',
      MetricsNamespace: 'tierq/tierq-test/TaskQueue',
    };
    const connection = await loadStackConfig({
      stackName: 'tierq-test',
      region: 'us-east-1',
      cloudformation,
    });
    expect(requested).toContain('DescribeStacks tierq-test');
    expect(connection).toEqual({
      region: 'us-east-1',
      queues: { high: high?.url, low: low?.url },
      dlq: dlq?.url,
      table,
      metricsNamespace: 'tierq/tierq-test/TaskQueue',
    });
    const producer = createProducer({ ...connection, sqs: sqsClient(), dynamodb: dynamoClient() });
    const { id } = await producer.enqueue('echo', { n: 1 }, { priority: 'low' });
    const { Messages = [] } = await sqsClient().send(
      new ReceiveMessageCommand({ QueueUrl: low?.url, WaitTimeSeconds: 1 }),
    );
    expect(JSON.parse(Messages[0]?.Body as string)).toMatchObject({ id, task: 'echo' });
  });

  it('says which stack and region it could not find', async () => {
    const failure = loadStackConfig({ stackName: 'Nope', region: 'us-east-1', cloudformation });
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow('stack Nope not found in us-east-1');
  });
});
