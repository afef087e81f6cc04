import { randomUUID } from 'node:crypto';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { sqsClient } from './aws.js';

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
  await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

/** Visible plus in-flight messages. */
export async function queueDepth(queueUrl: string): Promise<number> {
  const { Attributes } = await sqsClient().send(
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
  const { Messages = [] } = await sqsClient().send(
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
    await sqsClient().send(
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
  const { Messages = [] } = await sqsClient().send(
    new ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages.map(toLetter);
}
