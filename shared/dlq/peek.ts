import type { SQSClient } from '@aws-sdk/client-sqs';
import { type DeadLetterInfo, describeDeadLetter } from './dead-letter-info.js';
import { scanDeadLetters } from './scan.js';

/** Options of {@link peekDeadLetters}. */
export interface PeekDeadLettersOptions {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  /** At most this many letters. Default 100. */
  readonly limit?: number;
  /** Long-poll wait of each receive; the peek ends at the first empty receive. Default 1. */
  readonly waitTimeSeconds?: number;
}

/**
 * Reads dead letters without consuming them: each is received with a short visibility timeout
 * and made visible again once the peek is done. While a peek runs, the letters it holds are
 * hidden from other readers of the DLQ.
 *
 * @example
 * ```ts
 * const letters = await peekDeadLetters({ sqs, dlqUrl, limit: 20 });
 * for (const l of letters) console.log(l.id, l.task, l.tier, l.reason, l.attempts, l.error);
 * ```
 */
export async function peekDeadLetters(options: PeekDeadLettersOptions): Promise<DeadLetterInfo[]> {
  const letters: DeadLetterInfo[] = [];
  await scanDeadLetters(
    {
      sqs: options.sqs,
      dlqUrl: options.dlqUrl,
      limit: options.limit ?? 100,
      visibilityTimeoutSeconds: 20,
      waitTimeSeconds: options.waitTimeSeconds,
    },
    async (message) => {
      letters.push(describeDeadLetter(message));
      return false;
    },
  );
  return letters;
}
