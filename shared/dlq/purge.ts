import { DeleteMessageCommand, PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DeadLetterInfo, describeDeadLetter } from './dead-letter-info.js';
import { scanDeadLetters } from './scan.js';

/** Options of {@link purgeDeadLetters}. */
export interface PurgeDeadLettersOptions {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  /** Delete only the letters of this task. */
  readonly task?: string;
  /** Delete only the letters this accepts (on top of `task`), e.g. a selection by message id. */
  readonly match?: (letter: DeadLetterInfo) => boolean;
}

/**
 * Deletes dead letters for good. Without `task` or `match` the DLQ is purged with PurgeQueue
 * (which SQS allows once a minute and completes asynchronously) and the result is `'all'`; with
 * either, the DLQ is read and only the matching letters are deleted, and the result is how many.
 *
 * @example
 * ```ts
 * const deleted = await purgeDeadLetters({ sqs, dlqUrl, task: 'send-email' }); // e.g. 3
 * await purgeDeadLetters({ sqs, dlqUrl }); // 'all'
 * ```
 */
export async function purgeDeadLetters(options: PurgeDeadLettersOptions): Promise<number | 'all'> {
  const { sqs, dlqUrl, task, match } = options;
  if (task === undefined && match === undefined) {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
    return 'all';
  }
  let deleted = 0;
  await scanDeadLetters({ sqs, dlqUrl }, async (message) => {
    const letter = describeDeadLetter(message);
    if (task !== undefined && letter.task !== task) return false;
    if (match !== undefined && !match(letter)) return false;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
    deleted++;
    return true;
  });
  return deleted;
}
