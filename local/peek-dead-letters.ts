import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from './emulators.js';

/** One dead letter as tierq's consumer labelled it (attributes are absent on SQS redrives). */
export interface PeekedDeadLetter {
  readonly reason: string;
  readonly error: string;
  readonly task?: string;
  readonly tier?: string;
  readonly attempts?: string;
  readonly body: string;
}

/**
 * Reads up to `max` DLQ messages without consuming them: received with `VisibilityTimeout: 0`,
 * so they stay visible and are never deleted.
 *
 * @example
 * const letters = await peekDeadLetters({ region, sqsEndpoint, queueUrl: stack.dlq });
 */
export async function peekDeadLetters(options: {
  readonly region: string;
  readonly sqsEndpoint: string;
  readonly queueUrl: string;
  readonly max?: number;
}): Promise<PeekedDeadLetter[]> {
  const sqs = new SQSClient({ ...localClientConfig(options.sqsEndpoint), region: options.region });
  const max = options.max ?? 30;
  const seen = new Map<string, PeekedDeadLetter>();
  try {
    // A receive returns at most 10; with a visibility timeout of 0 the same ones may come back.
    for (let i = 0; i < Math.ceil(max / 10) + 2 && seen.size < max; i++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      for (const m of Messages) {
        const attr = (name: string) => m.MessageAttributes?.[name]?.StringValue;
        seen.set(m.MessageId ?? String(seen.size), {
          reason: attr('tierq-reason') ?? '(none: redriven by SQS after maxReceiveCount)',
          error: attr('tierq-error') ?? '',
          task: attr('tierq-task'),
          tier: attr('tierq-tier'),
          attempts: attr('tierq-attempts'),
          body: m.Body ?? '',
        });
      }
    }
  } finally {
    sqs.destroy();
  }
  return [...seen.values()].slice(0, max);
}
