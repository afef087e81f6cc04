/**
 * The producer's size check follows each queue's own `MaximumMessageSize`, read from SQS once per
 * queue and only for a message that could exceed the smallest limit a queue can have: small
 * messages, the common case, cost no request. What must fit is a message's `neededBytes`: body
 * and attributes, and the bookkeeping tierq adds when it re-sends the task.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MessageTooLargeError } from '../errors.js';
import type { OutgoingMessage } from './message.js';

/** The smallest `MaximumMessageSize` SQS lets a queue have. */
export const MIN_QUEUE_MESSAGE_BYTES = 1_024;

/**
 * Each queue's `MaximumMessageSize`, learned lazily and kept for the producer's lifetime.
 *
 * @example
 * ```ts
 * const limits = new QueueSizeLimits(sqs);
 * await limits.load(limits.unknownFor(messages));
 * const tooLarge = limits.violation(message); // MessageTooLargeError, a lookup error, or undefined
 * ```
 */
export class QueueSizeLimits {
  private readonly known = new Map<string, number>();
  private readonly failures = new Map<string, Error>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(private readonly sqs: SQSClient) {}

  /** Queues whose limit `messages` need and that is not known yet. */
  unknownFor(messages: readonly OutgoingMessage[]): string[] {
    const urls = new Set<string>();
    for (const m of messages) {
      if (m.neededBytes > MIN_QUEUE_MESSAGE_BYTES && !this.known.has(m.queueUrl)) urls.add(m.queueUrl);
    }
    return [...urls];
  }

  /** Reads the limits of `queueUrls` (concurrent calls for one queue share one request). */
  async load(queueUrls: readonly string[]): Promise<void> {
    await Promise.all(
      queueUrls.map((url) => {
        this.failures.delete(url);
        let loading = this.loading.get(url);
        if (loading === undefined) {
          loading = this.read(url).finally(() => this.loading.delete(url));
          this.loading.set(url, loading);
        }
        return loading;
      }),
    );
  }

  /**
   * Why `message` may not be sent: too large for its queue, or its queue's limit could not be
   * read (the SDK error, so the caller fails the item rather than guess); undefined when it fits.
   */
  violation(message: OutgoingMessage): Error | undefined {
    if (message.neededBytes <= MIN_QUEUE_MESSAGE_BYTES) return undefined;
    const limit = this.known.get(message.queueUrl);
    if (limit === undefined) {
      return (
        this.failures.get(message.queueUrl) ??
        new Error(`the size limit of ${message.queueUrl} was not loaded`)
      );
    }
    return message.neededBytes > limit
      ? new MessageTooLargeError({ task: message.task, bytes: message.neededBytes, limit })
      : undefined;
  }

  /** Throws {@link violation} for one message, loading its queue's limit first if needed. */
  async check(message: OutgoingMessage): Promise<void> {
    const unknown = this.unknownFor([message]);
    if (unknown.length > 0) await this.load(unknown);
    const error = this.violation(message);
    if (error !== undefined) throw error;
  }

  private async read(queueUrl: string): Promise<void> {
    try {
      const { Attributes } = await this.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MaximumMessageSize'] }),
      );
      const limit = Number(Attributes?.MaximumMessageSize);
      if (!Number.isInteger(limit) || limit < MIN_QUEUE_MESSAGE_BYTES) {
        throw new Error(`${queueUrl} reported MaximumMessageSize ${String(Attributes?.MaximumMessageSize)}`);
      }
      this.known.set(queueUrl, limit);
    } catch (error) {
      this.failures.set(queueUrl, error instanceof Error ? error : new Error(String(error)));
    }
  }
}
