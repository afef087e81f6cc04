/**
 * Reading a dead letter: the tierq-* attributes and what the body says, decoded leniently.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { DeadLetterAttribute } from '../consumer/dead-letter.js';

/**
 * The `reason` given to a dead letter that carries no tierq-* attributes: SQS moved it itself
 * after `maxReceiveCount` receives (e.g. the consumer crashed or timed out every time).
 *
 * @example
 * ```ts
 * const crashed = letters.filter((l) => l.reason === REDRIVEN_BY_SQS);
 * ```
 */
export const REDRIVEN_BY_SQS = 'redriven-by-sqs';

/**
 * One dead letter as read from the DLQ: the tierq-* attributes decoded, plus the raw body.
 *
 * @example
 * ```ts
 * const [first]: DeadLetterInfo[] = await peekDeadLetters({ sqs, dlqUrl, limit: 1 });
 * console.log(`${first.task} died on ${first.tier}: ${first.reason} (${first.error})`);
 * ```
 */
export interface DeadLetterInfo {
  /** The task id (`tierq-id`, else the body's `id`), when known. */
  readonly id: string | undefined;
  /** The task name (`tierq-task`, else the body's `task`), when known. */
  readonly task: string | undefined;
  /**
   * The tier it came from (`tierq-tier`, which the producer sets and SQS keeps when it
   * redrives a message; else the body's `tierq.tier`), when known.
   */
  readonly tier: string | undefined;
  /** The queue SQS moved it from (`DeadLetterQueueSourceArn`), when SQS says; emulators do not. */
  readonly sourceQueueArn: string | undefined;
  /** A {@link DeadLetterReason} code, or {@link REDRIVEN_BY_SQS}. */
  readonly reason: string;
  /** The readable sentence from `tierq-error`, when tierq dead-lettered it. */
  readonly error: string | undefined;
  /**
   * Attempts consumed (`tierq-attempts`). Undefined for a message SQS redrove: its receive count
   * is not a reliable attempt count once the DLQ has been read.
   */
  readonly attempts: number | undefined;
  /** When it was dead-lettered (`tierq-dead-at`), ISO-8601. */
  readonly deadAt: string | undefined;
  /** The SQS message id in the DLQ. */
  readonly messageId: string;
  /** The original body, byte for byte. */
  readonly body: string;
}

/** The few body fields a dead letter is described by, read leniently: the body may be any text. */
interface BodyHints {
  id?: string;
  task?: string;
  tier?: string;
}

function bodyHints(body: string): BodyHints {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return {};
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const { id, task, tierq } = raw as { id?: unknown; task?: unknown; tierq?: unknown };
  const tier = tierq !== null && typeof tierq === 'object' ? (tierq as { tier?: unknown }).tier : undefined;
  return {
    id: typeof id === 'string' ? id : undefined,
    task: typeof task === 'string' ? task : undefined,
    tier: typeof tier === 'string' ? tier : undefined,
  };
}

const toNumber = (value: string | undefined): number | undefined => {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
};

/**
 * Decodes a DLQ message received with `MessageAttributeNames: ['All']`.
 *
 * @example
 * ```ts
 * const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['All'] }));
 * const letters = Messages.map(describeDeadLetter);
 * ```
 */
export function describeDeadLetter(message: Message): DeadLetterInfo {
  const attributes = message.MessageAttributes ?? {};
  const attr = (name: string) => attributes[name]?.StringValue;
  const body = message.Body ?? '';
  const hints = bodyHints(body);
  const reason = attr(DeadLetterAttribute.reason);
  // tierq writes 'unknown' when it could not tell the tier; that is no tier at all.
  const tierAttr = attr(DeadLetterAttribute.tier);
  return {
    id: attr(DeadLetterAttribute.id) ?? hints.id,
    task: attr(DeadLetterAttribute.task) ?? hints.task,
    tier: tierAttr !== undefined && tierAttr !== 'unknown' ? tierAttr : hints.tier,
    sourceQueueArn: message.Attributes?.DeadLetterQueueSourceArn,
    reason: reason ?? REDRIVEN_BY_SQS,
    error: attr(DeadLetterAttribute.error),
    attempts: toNumber(attr(DeadLetterAttribute.attempts)),
    deadAt: attr(DeadLetterAttribute.deadAt),
    messageId: message.MessageId ?? '',
    body,
  };
}
