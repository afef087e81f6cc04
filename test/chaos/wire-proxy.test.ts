import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { localClientConfig } from '../../local/emulators.js';
import { startWireProxy, WireFault, type WirePolicy, type WireProxy } from '../../local/wire-proxy.js';
import { DynamoTaskStore } from '../../shared/stores/dynamo-task-store.js';
import { createTestTable, uniqueName } from '../helpers/aws.js';
import { isCompletionWrite } from './faults.js';

/** The wire proxy against the real emulators: what a client sees, and what really happened. */

const proxies: WireProxy[] = [];
const clients: { destroy(): void }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

async function proxyFor(service: 'dynamodb' | 'sqs', policy?: WirePolicy): Promise<WireProxy> {
  const proxy = await startWireProxy({ service, target: inject('emulators').endpoints[service], policy });
  proxies.push(proxy);
  return proxy;
}
function dynamo(endpoint: string, maxAttempts = 1): DynamoDBClient {
  const client = new DynamoDBClient({ ...localClientConfig(endpoint), maxAttempts });
  clients.push(client);
  return client;
}
function sqs(endpoint: string, maxAttempts = 1): SQSClient {
  const client = new SQSClient({ ...localClientConfig(endpoint), maxAttempts });
  clients.push(client);
  return client;
}
const item = (pk: string) => ({ pk: { S: pk }, sk: { S: 'x' } });
const stored = async (table: string, pk: string) =>
  (
    await dynamo(inject('emulators').endpoints.dynamodb).send(
      new GetItemCommand({ TableName: table, Key: item(pk), ConsistentRead: true }),
    )
  ).Item;
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: Error & { $metadata?: { httpStatusCode?: number } }) => error,
  );

describe('startWireProxy', () => {
  it('forwards requests untouched and counts them by action', async () => {
    const table = await createTestTable('proxy');
    const ddbProxy = await proxyFor('dynamodb');
    const sqsProxy = await proxyFor('sqs');

    await dynamo(ddbProxy.endpoint).send(new PutItemCommand({ TableName: table, Item: item('a') }));
    const queue = await sqs(sqsProxy.endpoint).send(
      new CreateQueueCommand({ QueueName: uniqueName('proxy') }),
    );
    await sqs(sqsProxy.endpoint).send(
      new SendMessageCommand({ QueueUrl: queue.QueueUrl, MessageBody: 'hi' }),
    );
    const { Messages } = await sqs(sqsProxy.endpoint).send(
      new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl }),
    );

    expect(await stored(table, 'a')).toBeDefined();
    expect(Messages?.map((m) => m.Body)).toEqual(['hi']);
    // The Host header is forwarded, so fauxqs names the proxy in the URL and SQS clients stay on it.
    expect(queue.QueueUrl).toMatch(new RegExp(`^${sqsProxy.endpoint}/`));
    expect(ddbProxy.stats()).toEqual({ requests: { PutItem: 1 }, faults: {}, faultsByAction: {} });
    expect(sqsProxy.stats().requests).toEqual({ CreateQueue: 1, SendMessage: 1, ReceiveMessage: 1 });
  });

  it("answers DynamoDB throttling in DynamoDB's wire format, alternating its two exceptions", async () => {
    const table = await createTestTable('proxy');
    const proxy = await proxyFor('dynamodb', () => WireFault.throttle);
    const put = () =>
      failure(dynamo(proxy.endpoint).send(new PutItemCommand({ TableName: table, Item: item('t') })));

    const [first, second] = [await put(), await put()];

    expect(first).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    expect(second).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(await stored(table, 't')).toBeUndefined();
    expect(proxy.stats().faults).toEqual({ throttle: 2 });
  });

  it("answers SQS throttling and 500s in SQS's JSON and query formats", async () => {
    const proxy = await proxyFor('sqs');
    const client = sqs(proxy.endpoint);
    const create = () => failure(client.send(new CreateQueueCommand({ QueueName: uniqueName('proxy') })));

    proxy.setPolicy(() => WireFault.throttle);
    const throttled = await create();
    proxy.setPolicy(() => WireFault.internalError);
    const internal = await create();
    proxy.setPolicy(() => WireFault.plain500);
    const plain = await create();
    proxy.setPolicy(() => WireFault.throttle);
    const query = await fetch(proxy.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=ListQueues&Version=2012-11-05',
    });

    expect(throttled).toMatchObject({ name: 'RequestThrottled', $metadata: { httpStatusCode: 400 } });
    expect(internal).toMatchObject({ name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    expect(plain?.$metadata?.httpStatusCode).toBe(500);
    expect(query.status).toBe(400);
    expect(await query.text()).toMatch(/<Code>RequestThrottled<\/Code>/);
    expect(proxy.stats().requests).toMatchObject({ CreateQueue: 3, ListQueues: 1 });
  });

  it('drops a connection before forwarding: the write never happened', async () => {
    const table = await createTestTable('proxy');
    const proxy = await proxyFor('dynamodb', () => WireFault.dropBefore);

    const error = await failure(
      dynamo(proxy.endpoint).send(new PutItemCommand({ TableName: table, Item: item('b') })),
    );

    expect(error).toBeInstanceOf(Error);
    expect(await stored(table, 'b')).toBeUndefined();
  });

  it('drops a connection after forwarding: the write happened though the client saw a failure', async () => {
    const table = await createTestTable('proxy');
    const proxy = await proxyFor('dynamodb', () => WireFault.dropAfter);

    const error = await failure(
      dynamo(proxy.endpoint).send(new PutItemCommand({ TableName: table, Item: item('c') })),
    );

    expect(error).toBeInstanceOf(Error);
    expect(await stored(table, 'c')).toBeDefined();
  });

  it("lets the SDK's retries absorb faults that spare its last attempt", async () => {
    const table = await createTestTable('proxy');
    const proxy = await proxyFor('dynamodb', (r) =>
      r.attempt < r.maxAttempts ? WireFault.plain500 : undefined,
    );

    const output = await dynamo(proxy.endpoint, 3).send(
      new PutItemCommand({ TableName: table, Item: item('d') }),
    );

    expect(output.$metadata.attempts).toBe(3);
    expect(await stored(table, 'd')).toBeDefined();
    expect(proxy.stats()).toMatchObject({ requests: { PutItem: 3 }, faults: { 'plain-500': 2 } });
  });

  it('tells the task store completion writes apart from its other writes', async () => {
    const table = await createTestTable('proxy');
    const seen: [string, boolean][] = [];
    const proxy = await proxyFor('dynamodb', (request) => {
      seen.push([request.action, isCompletionWrite(request)]);
      return undefined;
    });
    const store = new DynamoTaskStore(dynamo(proxy.endpoint), table);
    const write = {
      key: 'k',
      taskId: 'k',
      task: 't',
      payloadHash: 'h',
      attempt: 1,
      ttlSeconds: 60,
      nowMs: Date.now(),
    };

    await store.acquire({ ...write, lockExpiresAtMs: Date.now() + 60_000, owner: 'o' });
    await store.completeMany([{ ...write, result: 1 }]);
    await store.recordFailure({ ...write, key: 'f', error: 'no', status: 'retrying' });
    await store.complete({ ...write, key: 'o', result: 1 });

    expect(seen).toEqual([
      ['UpdateItem', false],
      ['BatchWriteItem', true],
      ['UpdateItem', false],
      ['UpdateItem', true],
    ]);
  });
});
