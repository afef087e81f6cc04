import type { Message } from '@aws-sdk/client-sqs';
import type { SQSMessageAttributes, SQSRecord } from 'aws-lambda';

/**
 * Turns a received SQS message into the record Lambda's SQS event source would hand the
 * function: same field names and casing, attribute values as strings, binary values in base64.
 *
 * @example
 * const event = { Records: messages.map((m) => toSqsRecord(m, queueArn, 'us-east-1')) };
 */
export function toSqsRecord(message: Message, eventSourceARN: string, awsRegion: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined
        ? {}
        : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: { ...message.Attributes } as SQSRecord['attributes'],
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion,
  };
}

/** What the event source does with a batch after a successful invocation. */
export type BatchVerdict =
  | { readonly kind: 'partial'; readonly failed: ReadonlySet<string> }
  | { readonly kind: 'malformed'; readonly reason: string };

/**
 * Reads a function's response the way Lambda does for `ReportBatchItemFailures`: no response
 * or an empty list means every record succeeded; an item identifier that is empty, missing or
 * not in the batch makes the whole batch fail. Without `ReportBatchItemFailures` the response
 * is ignored.
 *
 * @example
 * const verdict = batchVerdict({ batchItemFailures: [{ itemIdentifier: 'm1' }] }, new Set(['m1', 'm2']), true);
 * // { kind: 'partial', failed: Set { 'm1' } }
 */
export function batchVerdict(
  response: unknown,
  messageIds: ReadonlySet<string>,
  reportBatchItemFailures: boolean,
): BatchVerdict {
  const none: BatchVerdict = { kind: 'partial', failed: new Set() };
  if (!reportBatchItemFailures || response === undefined || response === null) return none;
  let parsed: unknown;
  try {
    // Lambda sees the response as JSON: what does not survive serialization does not count.
    parsed = JSON.parse(JSON.stringify(response) ?? 'null');
  } catch (error) {
    return { kind: 'malformed', reason: `response is not serializable to JSON (${String(error)})` };
  }
  if (parsed === null) return none;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    return {
      kind: 'malformed',
      reason: `response is ${Array.isArray(parsed) ? 'an array' : typeof parsed}, not an object`,
    };
  }
  const failures = (parsed as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return none;
  if (!Array.isArray(failures)) return { kind: 'malformed', reason: 'batchItemFailures is not an array' };
  const failed = new Set<string>();
  for (const item of failures as unknown[]) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '') {
      return {
        kind: 'malformed',
        reason: `batchItemFailures has an item without an itemIdentifier: ${JSON.stringify(item)}`,
      };
    }
    if (!messageIds.has(id)) {
      return {
        kind: 'malformed',
        reason: `batchItemFailures names ${JSON.stringify(id)}, which is not in the batch`,
      };
    }
    failed.add(id);
  }
  return { kind: 'partial', failed };
}
