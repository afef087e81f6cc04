/**
 * SQS message attributes as SQS sizes them: a message's size is its body plus, for every
 * attribute, its name, data type and value — all counted against the queue's limit.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

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
