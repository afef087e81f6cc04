import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { TierqError } from '../errors.js';
import { packBatches } from '../pack-batches.js';
import type { OutgoingMessage } from './message.js';

/**
 * How `sendAll` retries entries SQS did not accept: `attempts` in all, waiting
 * `baseDelayMs * 2^n` (with full jitter) between them.
 *
 * @example
 * ```ts
 * await sendAll(sqs, messages, { attempts: 5, baseDelayMs: 50 });
 * ```
 */
export interface BatchRetryOptions {
  readonly attempts: number;
  readonly baseDelayMs: number;
}

const DEFAULT_RETRY: BatchRetryOptions = { attempts: 3, baseDelayMs: 100 };

/**
 * Sends messages with SendMessageBatch: packed per queue within SQS's limits, batches sent
 * concurrently, and only the failed entries retried. Never throws; the returned array holds,
 * per message in input order, `undefined` when it was sent or the error when it was not.
 *
 * @example
 * ```ts
 * const errors = await sendAll(sqs, messages);
 * const failed = messages.filter((_, i) => errors[i] !== undefined);
 * ```
 */
export async function sendAll(
  sqs: SQSClient,
  messages: readonly OutgoingMessage[],
  retry: BatchRetryOptions = DEFAULT_RETRY,
): Promise<(Error | undefined)[]> {
  const errors: (Error | undefined)[] = messages.map(() => undefined);
  let pending = messages.map((_, index) => index);
  for (let attempt = 1; pending.length > 0; attempt++) {
    const failures = await sendOnce(sqs, messages, pending);
    for (const index of pending) errors[index] = failures.get(index);
    // A sender fault (bad entry) fails the same way again; only the rest is worth retrying.
    pending = [...failures].filter(([, f]) => f.retryable).map(([index]) => index);
    if (attempt >= retry.attempts || pending.length === 0) break;
    await sleep(Math.random() * retry.baseDelayMs * 2 ** (attempt - 1));
  }
  return errors;
}

/**
 * An entry of a SendMessageBatch that SQS rejected, with its code.
 *
 * @example
 * ```ts
 * if (error instanceof BatchEntryError && error.senderFault) fixTheMessage();
 * ```
 */
export class BatchEntryError extends TierqError {
  readonly code: string;
  readonly senderFault: boolean;
  readonly retryable: boolean;
  constructor(props: { code: string; message?: string; senderFault: boolean }, options?: ErrorOptions) {
    super(`SQS rejected the message: ${props.code}${props.message ? ` (${props.message})` : ''}`, options);
    this.name = 'BatchEntryError';
    ({ code: this.code, senderFault: this.senderFault } = props);
    this.retryable = !props.senderFault;
  }
}

/** One pass: returns the error of every message (by index) that was not sent. */
async function sendOnce(
  sqs: SQSClient,
  messages: readonly OutgoingMessage[],
  indexes: readonly number[],
): Promise<Map<number, BatchEntryError>> {
  const byQueue = new Map<string, number[]>();
  for (const index of indexes) {
    const url = (messages[index] as OutgoingMessage).queueUrl;
    const group = byQueue.get(url);
    if (group === undefined) byQueue.set(url, [index]);
    else group.push(index);
  }
  const batches = [...byQueue].flatMap(([queueUrl, group]) =>
    packBatches(group, (index) => (messages[index] as OutgoingMessage).bytes).map((batch) => ({
      queueUrl,
      batch,
    })),
  );
  const failures = new Map<number, BatchEntryError>();
  await Promise.all(
    batches.map(async ({ queueUrl, batch }) => {
      try {
        const { Failed = [] } = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((index) => {
              const message = messages[index] as OutgoingMessage;
              return {
                Id: String(index),
                MessageBody: message.body,
                MessageAttributes: message.attributes,
                DelaySeconds: message.delaySeconds,
                ...(message.groupId === undefined ? {} : { MessageGroupId: message.groupId }),
              };
            }),
          }),
        );
        for (const entry of Failed) {
          const error = new BatchEntryError({
            code: entry.Code ?? 'Unknown',
            message: entry.Message,
            senderFault: entry.SenderFault ?? false,
          });
          failures.set(Number(entry.Id), error);
        }
      } catch (cause) {
        // The SDK already retried throttling and network errors; the whole request failed.
        const code = cause instanceof Error ? cause.name : 'Unknown';
        const message = cause instanceof Error ? cause.message : String(cause);
        for (const index of batch) {
          failures.set(index, new BatchEntryError({ code, message, senderFault: false }, { cause }));
        }
      }
    }),
  );
  return failures;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
