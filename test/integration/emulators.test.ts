import {
  ConditionalCheckFailedException,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createTestQueue, createTestTable, dynamoClient, sqsClient, waitFor } from '../helpers/aws.js';

/** One short receive; VisibilityTimeout 0 makes the message visible again at once. */
async function receiveOne(queueUrl: string, visibilityTimeout?: number): Promise<Message | undefined> {
  const { Messages } = await sqsClient().send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: 0,
      VisibilityTimeout: visibilityTimeout,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  return Messages?.[0];
}

async function queueDepth(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqsClient().send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

describe('emulators', () => {
  describe('SQS', () => {
    it('sends, receives and deletes a message', async () => {
      const queue = await createTestQueue({ prefix: 'send-receive' });
      const sent = await sqsClient().send(
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{"task":"hello"}' }),
      );

      const received = await waitFor(() => receiveOne(queue.url), { message: 'the sent message' });
      expect(received.MessageId).toBe(sent.MessageId);
      expect(received.Body).toBe('{"task":"hello"}');
      expect(received.Attributes?.ApproximateReceiveCount).toBe('1');

      await sqsClient().send(
        new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: received.ReceiptHandle }),
      );
      expect(await queueDepth(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    });

    it('moves a message to the DLQ after maxReceiveCount receives', async () => {
      const queue = await createTestQueue({ prefix: 'redrive', maxReceiveCount: 2 });
      const dlq = queue.dlq;
      if (dlq === undefined) throw new Error('createTestQueue did not create a DLQ');
      const sent = await sqsClient().send(
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'poison' }),
      );

      const first = await waitFor(() => receiveOne(queue.url, 0), { message: 'the first receive' });
      const second = await waitFor(() => receiveOne(queue.url, 0), { message: 'the second receive' });
      expect([first.Attributes?.ApproximateReceiveCount, second.Attributes?.ApproximateReceiveCount]).toEqual(
        ['1', '2'],
      );

      expect(await receiveOne(queue.url, 0)).toBeUndefined();
      const deadLettered = await waitFor(() => receiveOne(dlq.url), { message: 'the message in the DLQ' });
      expect(deadLettered.MessageId).toBe(sent.MessageId);
      expect(deadLettered.Body).toBe('poison');
      expect(await queueDepth(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    });

    it('makes an in-flight message visible again with ChangeMessageVisibility', async () => {
      const queue = await createTestQueue({ prefix: 'visibility', attributes: { VisibilityTimeout: '60' } });
      await sqsClient().send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'retry-me' }));
      const received = await waitFor(() => receiveOne(queue.url), { message: 'the sent message' });
      expect(await receiveOne(queue.url)).toBeUndefined();

      await sqsClient().send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queue.url,
          ReceiptHandle: received.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );

      const again = await waitFor(() => receiveOne(queue.url), { message: 'the message to reappear' });
      expect(again.MessageId).toBe(received.MessageId);
      expect(again.Attributes?.ApproximateReceiveCount).toBe('2');
    });
  });

  describe('DynamoDB', () => {
    it('creates test tables with TTL on expiresAt', async () => {
      const table = await createTestTable('ttl');
      const { TimeToLiveDescription } = await dynamoClient().send(
        new DescribeTimeToLiveCommand({ TableName: table }),
      );
      expect(TimeToLiveDescription).toMatchObject({
        AttributeName: 'expiresAt',
        TimeToLiveStatus: 'ENABLED',
      });
    });

    it('rejects a duplicate conditional PutItem with ConditionalCheckFailedException', async () => {
      const table = await createTestTable('conditional');
      const key = { pk: { S: 'task#1' }, sk: { S: 'idempotency' } };
      const putIfAbsent = (status: string) =>
        dynamoClient().send(
          new PutItemCommand({
            TableName: table,
            Item: { ...key, status: { S: status } },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      await putIfAbsent('first');

      const error = await putIfAbsent('second').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConditionalCheckFailedException);
      expect((error as ConditionalCheckFailedException).Item).toEqual({ ...key, status: { S: 'first' } });
      const { Item } = await dynamoClient().send(new GetItemCommand({ TableName: table, Key: key }));
      expect(Item?.status).toEqual({ S: 'first' });
    });
  });
});
