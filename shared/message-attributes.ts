/**
 * SQS message attributes: the one tierq puts on every task message (its tier), and their size
 * as SQS counts it — a message's size is its body plus, for every attribute, its name, data
 * type and value, all against the queue's limit.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/**
 * Attributes tierq sets on the task messages it sends. `tier` travels with the message, so a
 * message SQS moves to the DLQ itself (after `maxReceiveCount`) still says which tier it came
 * from: SQS keeps a message's attributes when it redrives it.
 */
export const TaskAttribute = {
  tier: 'tierq-tier',
} as const;

/**
 * The attributes of a task message sent to `tier`.
 *
 * @example
 * await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody, MessageAttributes: taskAttributes('high') }));
 */
export function taskAttributes(tier: string): Record<string, MessageAttributeValue> {
  return { [TaskAttribute.tier]: { DataType: 'String', StringValue: tier } };
}

/**
 * The bytes SQS counts for `attributes`: name, data type and value of each.
 *
 * @example
 * attributeBytes({ 'tierq-tier': { DataType: 'String', StringValue: 'high' } }); // 20
 */
export function attributeBytes(
  attributes: Readonly<Record<string, MessageAttributeValue>> | undefined,
): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    bytes +=
      value.StringValue === undefined
        ? (value.BinaryValue?.length ?? 0)
        : Buffer.byteLength(value.StringValue);
  }
  return bytes;
}

/**
 * A message's size as SQS counts it against `MaximumMessageSize`: body and attributes.
 *
 * @example
 * if (messageBytes(body, attributes) > limit) deadLetter(record);
 */
export function messageBytes(
  body: string,
  attributes?: Readonly<Record<string, MessageAttributeValue>>,
): number {
  return Buffer.byteLength(body) + attributeBytes(attributes);
}
