/**
 * Dead letters: why a record goes to the DLQ, the tierq-* attributes that say so, and the one
 * path that sends them.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { SQS_MAX_MESSAGE_BYTES } from '../declaration.js';
import { InvalidMessageCode } from '../errors.js';
import { attributeBytes, TaskAttribute } from '../message-attributes.js';
import { capError } from '../stores/task-record.js';
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
  /**
   * The last receive SQS allows ended in an infrastructure failure (store unavailable, state
   * not stored, a send that failed): dead-lettered by tierq with the last error.
   */
  InfrastructureError: 'infrastructure-error',
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

/** Message attribute names carried by every dead letter tierq sends. */
export const DeadLetterAttribute = {
  reason: 'tierq-reason',
  error: 'tierq-error',
  attempts: 'tierq-attempts',
  /** The same attribute the producer sets on every task message. */
  tier: TaskAttribute.tier,
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
 * The largest message the DLQ takes: the construct gives it SQS's maximum whatever the tiers'
 * limit, so every body a tier accepted fits; its attributes may not.
 */
export const DEAD_LETTER_MAX_BYTES = SQS_MAX_MESSAGE_BYTES;

/**
 * The message attributes of a dead letter, within `budgetBytes` (what the DLQ's limit leaves
 * beside the body, counted as SQS counts attributes). The body stays byte-for-byte the
 * original, so a replay re-sends exactly what the producer sent; when the body leaves little
 * room, attributes are kept in order of use — reason and tier first (what `tierq dlq` filters
 * and replays by), then attempts, time, task and id, then as much of the error as still fits.
 *
 * @example
 * const attributes = deadLetterAttributes({ state, reason: 'max-attempts', error: 'boom', attempts: 5 }, new Date());
 */
export function deadLetterAttributes(
  letter: DeadLetter,
  now: Date,
  budgetBytes = Number.POSITIVE_INFINITY,
): Record<string, MessageAttributeValue> {
  const { state } = letter;
  const wanted: [string, MessageAttributeValue][] = [
    [DeadLetterAttribute.reason, str(letter.reason)],
    [DeadLetterAttribute.tier, str(state.tier ?? state.envelope?.tierq?.tier ?? 'unknown')],
    [DeadLetterAttribute.attempts, { DataType: 'Number', StringValue: String(letter.attempts) }],
    [DeadLetterAttribute.deadAt, str(now.toISOString())],
    ...(state.envelope
      ? ([
          [DeadLetterAttribute.task, str(state.envelope.task)],
          [DeadLetterAttribute.id, str(state.envelope.id)],
        ] as [string, MessageAttributeValue][])
      : []),
  ];
  const attributes: Record<string, MessageAttributeValue> = {};
  let left = budgetBytes;
  for (const [name, value] of wanted) {
    const bytes = attributeBytes({ [name]: value });
    if (bytes > left) continue;
    attributes[name] = value;
    left -= bytes;
  }
  const overhead = attributeBytes({ [DeadLetterAttribute.error]: str('') });
  const error = letter.error.slice(0, MAX_ERROR_CHARS) || letter.reason;
  const room = left - overhead;
  // A cut error ends in an ellipsis; below a few bytes there is nothing worth reading.
  if (Buffer.byteLength(error) <= room || room >= 8)
    attributes[DeadLetterAttribute.error] = str(capError(error, room));
  return attributes;
}

/** A short readable description of any thrown value: `Name: message`; never throws. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return String(error);
  } catch {
    // A value without a prototype, or whose toString or getters throw.
    return `[unprintable ${typeof error}]`;
  }
}

/**
 * The send that dead-letters a record: its original body, byte for byte, to the DLQ with the
 * tierq-* attributes that fit beside it. The record is acknowledged only once this send is stored.
 *
 * @example
 * await sendForRecords(sqs, [deadLetterSend({ state, reason: 'max-attempts', error, attempts: 5 }, dlqUrl, new Date())]);
 */
export function deadLetterSend(letter: DeadLetter, deadLetterQueueUrl: string, now: Date): Send {
  const { body } = letter.state.record;
  return {
    state: letter.state,
    queueUrl: deadLetterQueueUrl,
    body,
    attributes: deadLetterAttributes(letter, now, DEAD_LETTER_MAX_BYTES - Buffer.byteLength(body)),
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
