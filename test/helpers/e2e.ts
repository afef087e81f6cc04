import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../local/emulators.js';
import { sqsClient } from './aws.js';

let targetSqs: SQSClient | undefined;

/** Where the helpers below send: the e2e target once {@link connectE2e} has run, else the test emulators. */
function sqs(): SQSClient {
  return targetSqs ?? sqsClient();
}

/** The endpoints of an end-to-end target (see test/helpers/target.ts). */
export interface E2eEndpoints {
  readonly region: string;
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string };
}

/**
 * Points this file's helpers at the target's SQS endpoint and returns a DynamoDB client for its
 * table, so a suite reaches the stack the target describes whatever the global setup started.
 *
 * @example
 * const { dynamodb } = connectE2e(target);
 */
export function connectE2e(target: E2eEndpoints): { dynamodb: DynamoDBClient } {
  targetSqs?.destroy();
  targetSqs = new SQSClient({ ...localClientConfig(target.endpoints.sqs), region: target.region });
  return {
    dynamodb: new DynamoDBClient({ ...localClientConfig(target.endpoints.dynamodb), region: target.region }),
  };
}

/** A v1 envelope as a producer in another language would write it: plain JSON, no tierq import. */
export interface EnvelopeFields {
  id?: string;
  task: string;
  payload: unknown;
  runAt?: string;
  idempotencyKey?: string;
}

/** Sends one v1 envelope with a plain SendMessage and returns its id. */
export async function sendTask(queueUrl: string, fields: EnvelopeFields): Promise<string> {
  const id = fields.id ?? `e2e-${randomUUID()}`;
  await sendBody(queueUrl, JSON.stringify({ v: 1, ...fields, id, enqueuedAt: new Date().toISOString() }));
  return id;
}

/** Sends a raw body, valid or not. */
export async function sendBody(queueUrl: string, body: string): Promise<void> {
  await sqs().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

/** Visible plus in-flight messages. */
export async function queueDepth(queueUrl: string): Promise<number> {
  const { Attributes } = await sqs().send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

/** A dead letter with its tierq-* attributes flattened to strings. */
export interface DeadLetterSeen {
  body: string;
  attributes: Record<string, string>;
}

/**
 * Peeks (VisibilityTimeout 0) at the DLQ once and returns the first message matching `match`,
 * deleting it so later tests see a DLQ holding only their own letters.
 */
export async function takeDeadLetter(
  dlqUrl: string,
  match: (letter: DeadLetterSeen) => boolean,
): Promise<DeadLetterSeen | undefined> {
  const { Messages = [] } = await sqs().send(
    new ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      MessageAttributeNames: ['All'],
    }),
  );
  for (const message of Messages) {
    const letter = toLetter(message);
    if (!match(letter)) continue;
    await sqs().send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
    return letter;
  }
  return undefined;
}

function toLetter(message: Message): DeadLetterSeen {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  return { body: message.Body ?? '', attributes };
}

/** Every message on the DLQ, peeked without hiding them (for an "empty DLQ" assertion that explains itself). */
export async function peekDeadLetters(dlqUrl: string): Promise<DeadLetterSeen[]> {
  const { Messages = [] } = await sqs().send(
    new ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages.map(toLetter);
}
