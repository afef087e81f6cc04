/**
 * Dead letters: why a record goes to the DLQ, the tierq-* attributes that say so, and the one
 * path that sends them.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { InvalidMessageCode } from '../errors.js';
import type { RecordState } from './record-state.js';
import type { ConsumerRuntime } from './runtime.js';
import { type Send, sendForRecords } from './sqs-dispatch.js';

/** Why a message was dead-lettered: the `tierq-reason` attribute. */
export const DeadLetterReason = {
  ...InvalidMessageCode,
  /** The task threw a PermanentTaskError. */
  PermanentError: 'permanent-error',
  /** The task's own retry budget (`retry.maxAttempts`) is spent. */
  MaxAttempts: 'max-attempts',
  /** The queue's `maxReceiveCount` is about to be reached: dead-lettered by tierq, with its tier. */
  MaxReceives: 'max-receives',
  /** The idempotency key was used before with a different payload. */
  IdempotencyConflict: 'idempotency-conflict',
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

/** Message attribute names carried by every dead letter tierq sends. */
export const DeadLetterAttribute = {
  reason: 'tierq-reason',
  error: 'tierq-error',
  attempts: 'tierq-attempts',
  tier: 'tierq-tier',
  task: 'tierq-task',
  id: 'tierq-id',
  deadAt: 'tierq-dead-at',
} as const;

/** SQS attribute values are limited only by the message size; keep errors readable. */
const MAX_ERROR_CHARS = 1_000;

/** A decision to dead-letter one record. */
export interface DeadLetter {
  readonly state: RecordState;
  readonly reason: DeadLetterReason;
  /** The readable sentence: the validation reason or the last error. */
  readonly error: string;
  /** Attempts consumed in total, across copies (0 for a message rejected unread). */
  readonly attempts: number;
}

const str = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/**
 * The message attributes of a dead letter. The body stays byte-for-byte the original, so a
 * replay re-sends exactly what the producer sent.
 *
 * @example
 * const attributes = deadLetterAttributes({ state, reason: 'max-attempts', error: 'boom', attempts: 5 }, new Date());
 */
export function deadLetterAttributes(letter: DeadLetter, now: Date): Record<string, MessageAttributeValue> {
  const { state } = letter;
  const attributes: Record<string, MessageAttributeValue> = {
    [DeadLetterAttribute.reason]: str(letter.reason),
    [DeadLetterAttribute.error]: str(letter.error.slice(0, MAX_ERROR_CHARS) || letter.reason),
    [DeadLetterAttribute.attempts]: { DataType: 'Number', StringValue: String(letter.attempts) },
    [DeadLetterAttribute.tier]: str(state.tier ?? state.envelope?.tierq?.tier ?? 'unknown'),
    [DeadLetterAttribute.deadAt]: str(now.toISOString()),
  };
  if (state.envelope) {
    attributes[DeadLetterAttribute.task] = str(state.envelope.task);
    attributes[DeadLetterAttribute.id] = str(state.envelope.id);
  }
  return attributes;
}

/** A short readable description of any thrown value: `Name: message`. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * The send that dead-letters a record: its original body, byte for byte, to the DLQ with the
 * tierq-* attributes. The record is acknowledged only once this send is stored.
 *
 * @example
 * await sendForRecords(sqs, [deadLetterSend({ state, reason: 'max-attempts', error, attempts: 5 }, dlqUrl, new Date())]);
 */
export function deadLetterSend(letter: DeadLetter, deadLetterQueueUrl: string, now: Date): Send {
  return {
    state: letter.state,
    queueUrl: deadLetterQueueUrl,
    body: letter.state.record.body,
    attributes: deadLetterAttributes(letter, now),
    outcome: { kind: 'deadLettered', reason: `${letter.reason}: ${letter.error}` },
  };
}

/**
 * Sends the dead letters, each acknowledged only once its letter is stored; a record whose send
 * fails stays failed, so SQS redelivers it.
 *
 * @example
 * await deadLetterOrFail(runtime, [{ state, reason: 'max-attempts', error: 'Error: boom', attempts: 5 }]);
 */
export async function deadLetterOrFail(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now'>,
  letters: readonly DeadLetter[],
): Promise<void> {
  if (letters.length === 0) return;
  const now = new Date(runtime.now());
  await sendForRecords(
    runtime.sqs,
    letters.map((letter) => deadLetterSend(letter, runtime.config.deadLetterQueueUrl, now)),
  );
}
