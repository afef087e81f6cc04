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

let producerSqs: SQSClient | undefined;
let operatorSqs: SQSClient | undefined;

/** Sends tasks: as the target's producer once {@link connectE2e} has run, else to the test emulators. */
function producer(): SQSClient {
  return producerSqs ?? sqsClient();
}

/**
 * The SQS client tasks are sent with: the target's producer once {@link connectE2e} has run.
 *
 * @example
 * await e2eProducer().send(new SendMessageBatchCommand({ QueueUrl, Entries }));
 */
export function e2eProducer(): SQSClient {
  return producer();
}

/** Looks at queues and the DLQ: as the target's operator once {@link connectE2e} has run. */
function operator(): SQSClient {
  return operatorSqs ?? sqsClient();
}

/** The endpoints of an end-to-end target (see test/helpers/target.ts). */
export interface E2eEndpoints {
  readonly region: string;
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string };
  readonly principals?: {
    readonly producer?: { readonly accessKeyId: string; readonly secretAccessKey: string };
    readonly operator?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
}

/**
 * Points this file's helpers at the target's SQS endpoint — sending as its producer, looking as
 * its operator, as a real producer and `tierq` would — and returns a DynamoDB client for its
 * table with the operator's keys, so a suite reaches the stack the target describes whatever the
 * global setup started and is held to the policies the stack grants.
 *
 * @example
 * const { dynamodb } = connectE2e(target);
 */
export function connectE2e(target: E2eEndpoints): { dynamodb: DynamoDBClient } {
  producerSqs?.destroy();
  operatorSqs?.destroy();
  const clients = principalClients(target);
  producerSqs = clients.producer;
  operatorSqs = clients.operator;
  return { dynamodb: clients.dynamodb };
}

/**
 * Clients acting as the target's producer (SQS) and operator (SQS and DynamoDB); the emulators'
 * placeholder keys (the account's administrator) where the target names no principal.
 *
 * @example
 * const { producer, operator, dynamodb } = principalClients(stack);
 */
export function principalClients(target: E2eEndpoints): {
  producer: SQSClient;
  operator: SQSClient;
  dynamodb: DynamoDBClient;
} {
  const config = (endpoint: string, as: 'producer' | 'operator') => {
    const credentials = target.principals?.[as];
    return { ...localClientConfig(endpoint), region: target.region, ...(credentials ? { credentials } : {}) };
  };
  return {
    producer: new SQSClient(config(target.endpoints.sqs, 'producer')),
    operator: new SQSClient(config(target.endpoints.sqs, 'operator')),
    dynamodb: new DynamoDBClient(config(target.endpoints.dynamodb, 'operator')),
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
  await producer().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

/** Visible plus in-flight messages. */
export async function queueDepth(queueUrl: string): Promise<number> {
  const { Attributes } = await operator().send(
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
  const { Messages = [] } = await operator().send(
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
    await operator().send(
      new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }),
    );
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
  const { Messages = [] } = await operator().send(
    new ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages.map(toLetter);
}
