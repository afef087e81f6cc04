import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DeadLetterInfo, describeDeadLetter } from '../../shared/dlq/dead-letter-info.js';

/**
 * Every message a queue holds: visible, in flight and delayed (deferred copies waiting out
 * their DelaySeconds). Zero means nothing is left to do and nothing is stuck.
 *
 * @example
 * await waitFor(async () => (await heldMessages(sqs, url)) === 0);
 */
export async function heldMessages(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed)
  );
}

/**
 * Receives and deletes everything on a DLQ, decoded. Call it once nothing else writes there.
 *
 * @example
 * const letters = await drainDeadLetters(sqs, stack.dlq);
 */
export async function drainDeadLetters(sqs: SQSClient, dlqUrl: string): Promise<DeadLetterInfo[]> {
  const letters: DeadLetterInfo[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0 && (await heldMessages(sqs, dlqUrl)) === 0) return letters;
    letters.push(...Messages.map(describeDeadLetter));
    if (Messages.length === 0) continue;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}
