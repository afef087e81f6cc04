import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** Options shared by the DLQ operations that read the queue. */
export interface ScanOptions {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  /** Stop after this many distinct messages. Default: no limit. */
  readonly limit?: number;
  /**
   * How long each received message stays hidden while the scan runs, in seconds. Held messages
   * are released at the end; after a crash they reappear on their own once this passes.
   */
  readonly visibilityTimeoutSeconds?: number;
  /** Long-poll wait of each receive; the scan ends at the first empty receive. Default 1. */
  readonly waitTimeSeconds?: number;
  /** Checked before each message: once true, the scan receives nothing more. */
  readonly stop?: () => boolean;
}

/**
 * Receives every message of the DLQ once, hiding each until the scan ends, and hands each to
 * `visit`. `visit` returns true when it has deleted the message; every other message is made
 * visible again (visibility 0) when the scan ends, even if `visit` throws.
 *
 * Messages are held hidden rather than released one by one so that the scan cannot see the same
 * message twice and always ends; MessageIds are deduplicated as well, since SQS may redeliver.
 *
 * @example
 * ```ts
 * let n = 0;
 * await scanDeadLetters({ sqs, dlqUrl }, async () => { n++; return false; });
 * ```
 */
export async function scanDeadLetters(
  options: ScanOptions,
  visit: (message: Message) => Promise<boolean>,
): Promise<number> {
  const { sqs, dlqUrl, limit = Number.POSITIVE_INFINITY, stop = () => false } = options;
  const seen = new Set<string>();
  // Every received message is held until the end, so one that `visit` never reached (it threw
  // midway through a batch) is released too instead of staying hidden for the whole timeout.
  const held: Message[] = [];
  const deleted = new Set<Message>();
  try {
    while (seen.size < limit && !stop()) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          WaitTimeSeconds: options.waitTimeSeconds ?? 1,
          VisibilityTimeout: options.visibilityTimeoutSeconds ?? 30,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      held.push(...Messages);
      for (const message of Messages) {
        const id = message.MessageId ?? '';
        if (seen.has(id) || seen.size >= limit || stop()) continue;
        seen.add(id);
        if (await visit(message)) deleted.add(message);
      }
    }
  } finally {
    await release(
      sqs,
      dlqUrl,
      held.filter((m) => !deleted.has(m)),
    );
  }
  return seen.size;
}

/**
 * Makes held messages visible again. A failed release is not a loss: the message reappears
 * by itself when its visibility timeout ends, so a failure here must not mask the real result.
 */
async function release(sqs: SQSClient, dlqUrl: string, messages: readonly Message[]): Promise<void> {
  await Promise.allSettled(
    messages.map((m) =>
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: dlqUrl,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      ),
    ),
  );
}
