/**
 * Replaying dead letters: each back to the tier it came from, with a fresh attempt budget.
 */
import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, type Message, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { queueNameOf } from '../consumer/config.js';
import { parseEnvelope, serializeEnvelope } from '../contract.js';
import { taskAttributes } from '../message-attributes.js';
import { type DeadLetterInfo, describeDeadLetter } from './dead-letter-info.js';
import { scanDeadLetters } from './scan.js';

/** What happened to one letter during {@link replayDeadLetters}. */
export type ReplayOutcome = 'replayed' | 'skipped' | 'failed';

/** Counts returned by {@link replayDeadLetters}; letters that did not match are not counted. */
export interface ReplayResult {
  /** Sent back to their tier and deleted from the DLQ. */
  replayed: number;
  /** Left in the DLQ because they cannot be replayed: unparseable body, or no queue for their tier. */
  skipped: number;
  /** Left in the DLQ because sending the copy failed. */
  failed: number;
}

/** Reported to `onProgress` after each matching letter. */
export interface ReplayProgress extends ReplayResult {
  readonly letter: DeadLetterInfo;
  readonly outcome: ReplayOutcome;
  /** Why it was skipped or failed, or a delete that failed after a successful send. */
  readonly error?: unknown;
}

/** Options of {@link replayDeadLetters}. */
export interface ReplayDeadLettersOptions {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  /** Queue URL of each tier, e.g. `{ high: 'https://…/tierq-high', … }`. */
  readonly queues: Readonly<Record<string, string>>;
  /** The tier for letters that name none (neither `tierq-tier` nor `tierq.tier` in the body). */
  readonly defaultTier: string;
  /** Replay only letters of this task. */
  readonly task?: string;
  /** Replay only letters whose source tier is this one. */
  readonly tier?: string;
  /**
   * Replay only letters this accepts (on top of `task` and `tier`), e.g. those a person selected
   * by message id in the dashboard.
   */
  readonly match?: (letter: DeadLetterInfo) => boolean;
  /** Replay at most this many matching letters. */
  readonly limit?: number;
  /** Letters are hidden this long (seconds) while the replay runs. Default 60. */
  readonly visibilityTimeoutSeconds?: number;
  readonly onProgress?: (progress: ReplayProgress) => void;
}

/**
 * The body to re-send: the original with a fresh attempt budget (`tierq.priorAttempts`
 * removed) and this replay's id, everything else kept, with its tenant (the message group it
 * goes back in). Undefined when the body is not a valid envelope.
 */
function freshBody(body: string, replayId: string): { body: string; tenant?: string } | undefined {
  const parsed = parseEnvelope(body);
  if (!parsed.ok) return undefined;
  const { priorAttempts: _, ...tierq } = parsed.envelope.tierq ?? {};
  const envelope = { ...parsed.envelope, tierq: { ...tierq, replay: replayId } };
  try {
    const tenant = envelope.tenant;
    return { body: serializeEnvelope(envelope), ...(tenant === undefined ? {} : { tenant }) };
  } catch {
    return undefined;
  }
}

/**
 * The tier a letter goes back to: the queue SQS says it moved the letter from
 * (`DeadLetterQueueSourceArn`, where SQS sets it), else the tier the letter carries (its
 * `tierq-tier` attribute or the body's), else `defaultTier`.
 *
 * @example
 * replayTier(letter, { high: highUrl, low: lowUrl }, 'low'); // 'high' for a letter from the high queue
 */
export function replayTier(
  letter: Pick<DeadLetterInfo, 'sourceQueueArn' | 'tier'>,
  queues: Readonly<Record<string, string>>,
  defaultTier: string,
): string {
  const source = letter.sourceQueueArn === undefined ? undefined : queueNameOf(letter.sourceQueueArn);
  const fromSource = Object.keys(queues).find((tier) => queueNameOf(queues[tier] ?? '') === source);
  return fromSource ?? letter.tier ?? defaultTier;
}

function replayedBy(body: string): string | undefined {
  const parsed = parseEnvelope(body);
  return parsed.ok ? parsed.envelope.tierq?.replay : undefined;
}

/**
 * Moves matching dead letters back to the queue of their source tier (see {@link replayTier}),
 * with the same task id, a fresh attempt budget and the tier attribute. Nothing is lost if the replay is interrupted: a letter is deleted from
 * the DLQ only after its copy was sent, so a crash in between leaves a duplicate (which the
 * consumer's idempotency on the task id absorbs), never a gap. Letters that do not match, are
 * skipped or fail are made visible again.
 *
 * @example
 * ```ts
 * const { replayed, skipped, failed } = await replayDeadLetters({
 *   sqs, dlqUrl, queues: { high: highUrl, low: lowUrl }, defaultTier: 'low', task: 'send-email',
 *   onProgress: (p) => console.log(p.outcome, p.letter.id),
 * });
 * ```
 */
export async function replayDeadLetters(options: ReplayDeadLettersOptions): Promise<ReplayResult> {
  const { sqs, dlqUrl, queues } = options;
  const result: ReplayResult = { replayed: 0, skipped: 0, failed: 0 };
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const report = (letter: DeadLetterInfo, outcome: ReplayOutcome, error?: unknown) => {
    result[outcome]++;
    options.onProgress?.({ ...result, letter, outcome, error });
  };

  // A replayed task that fails again comes back to the DLQ while the replay still runs; the id
  // in its body tells this run not to send it round again (it stays for a later replay).
  const replayId = randomUUID();
  const replayOne = async (message: Message): Promise<boolean> => {
    if (replayedBy(message.Body ?? '') === replayId) return false;
    const letter = describeDeadLetter(message);
    const tier = replayTier(letter, queues, options.defaultTier);
    if (options.task !== undefined && letter.task !== options.task) return false;
    if (options.tier !== undefined && tier !== options.tier) return false;
    if (options.match !== undefined && !options.match(letter)) return false;
    const queueUrl = Object.hasOwn(queues, tier) ? queues[tier] : undefined;
    const fresh = freshBody(letter.body, replayId);
    if (queueUrl === undefined || fresh === undefined) {
      const why = fresh === undefined ? 'body is not a valid v1 envelope' : `no queue for tier "${tier}"`;
      report(letter, 'skipped', new Error(why));
      return false;
    }
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: fresh.body,
          MessageAttributes: taskAttributes(tier),
          // A tenant's task goes back into its tenant's fair-queue group.
          ...(fresh.tenant === undefined ? {} : { MessageGroupId: fresh.tenant }),
        }),
      );
    } catch (error) {
      report(letter, 'failed', error);
      return false;
    }
    try {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
    } catch (error) {
      // The copy is on its way: count it, and let the caller know the letter is still in the DLQ.
      report(letter, 'replayed', error);
      return false;
    }
    report(letter, 'replayed');
    return true;
  };

  await scanDeadLetters(
    {
      sqs,
      dlqUrl,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 60,
      stop: () => result.replayed + result.skipped + result.failed >= limit,
    },
    replayOne,
  );
  return result;
}
