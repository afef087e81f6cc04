import { DeleteMessageCommand, PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { describeDeadLetter } from './dead-letter-info.js';
import { scanDeadLetters } from './scan.js';

/** Options of {@link purgeDeadLetters}. */
export interface PurgeDeadLettersOptions {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  /** Delete only the letters of this task; without it the whole DLQ is purged. */
  readonly task?: string;
}

/**
 * Deletes dead letters for good. Without `task` the DLQ is purged with PurgeQueue (which SQS
 * allows once a minute and completes asynchronously) and the result is `'all'`; with `task` the
 * DLQ is read and only that task's letters are deleted, and the result is how many.
 *
 * @example
 * ```ts
 * const deleted = await purgeDeadLetters({ sqs, dlqUrl, task: 'send-email' }); // e.g. 3
 * await purgeDeadLetters({ sqs, dlqUrl }); // 'all'
 * ```
 */
export async function purgeDeadLetters(options: PurgeDeadLettersOptions): Promise<number | 'all'> {
  const { sqs, dlqUrl, task } = options;
  if (task === undefined) {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
    return 'all';
  }
  let deleted = 0;
  await scanDeadLetters({ sqs, dlqUrl }, async (message) => {
    if (describeDeadLetter(message).task !== task) return false;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
    deleted++;
    return true;
  });
  return deleted;
}
