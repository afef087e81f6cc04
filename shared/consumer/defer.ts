/**
 * Deferral, the one way a record waits without failing: a copy goes back to its tier with
 * `DelaySeconds` (and the tier attribute, as the producer sends it), and the original is
 * acknowledged once the copy is stored. Every middleware
 * that defers (not due, rate-limited, a duplicate in progress) goes through {@link deferOrFail},
 * which never throws: a record whose copy cannot be sent is dead-lettered with the reason.
 */
import { type Bookkeeping, largestResentBodyBytes, resentBody } from '../contract.js';
import { InvalidMessageCode } from '../errors.js';
import { attributeBytes, messageBytes, taskAttributes } from '../message-attributes.js';
import { type DeadLetter, deadLetterOrFail, describeError } from './dead-letter.js';
import { type DeferCause, fail, type RecordState } from './record-state.js';
import type { ConsumerRuntime } from './runtime.js';
import { type Send, sendForRecords } from './sqs-dispatch.js';

/** SQS's DelaySeconds maximum: longer waits take several hops. */
export const MAX_DELAY_SECONDS = 900;

/**
 * A decision to defer one record by `delayMs`.
 *
 * @example
 * const deferral: Deferral = { state, delayMs: 30_000, cause: DeferCause.rateLimited, reason: 'rate limited (5/s)' };
 */
export interface Deferral {
  readonly state: RecordState;
  readonly delayMs: number;
  readonly cause: DeferCause;
  /** A readable sentence: why it waits. */
  readonly reason: string;
  /**
   * A retry: this receive's attempt ran and failed, so the copy counts it. Without, the record
   * did not run, and its copy continues the attempts where this one left off.
   */
  readonly attemptSpent?: boolean;
  /** The copy's `runAt`: a wait longer than one delay hop continues in hops until it. */
  readonly runAt?: string;
}

/**
 * Why no copy of `state` could ever be re-sent to its tier — its largest copy would exceed the
 * queue's `MaximumMessageSize` — or undefined when one can. Checked when the record is
 * validated, so such a record is dead-lettered at once rather than whenever it happens to be
 * deferred.
 *
 * @example
 * const problem = resendProblem(state, config); // "message body leaves no room …" or undefined
 */
export function resendProblem(
  state: RecordState,
  config: Pick<ConsumerRuntime['config'], 'maxMessageBytes'>,
): string | undefined {
  if (!state.envelope) return undefined;
  const tier = state.tier ?? '';
  const bytes = largestResentBodyBytes(state.envelope, tier) + attributeBytes(taskAttributes(tier));
  if (bytes <= config.maxMessageBytes) return undefined;
  return (
    `message body leaves no room for tierq's bookkeeping: a re-sent copy would be ${bytes} bytes, ` +
    `over the queue's limit of ${config.maxMessageBytes} bytes`
  );
}

/** The send of a record's copy, a dead letter when no copy can be sent, or undefined for an unknown tier. */
function copyOf(
  deferral: Deferral,
  runtime: Pick<ConsumerRuntime, 'config' | 'maxHopSeconds'>,
): Send | DeadLetter | undefined {
  const { state } = deferral;
  const tier = runtime.config.tiers.find((t) => t.name === state.tier);
  if (!tier || !state.envelope) return undefined;
  const priorAttempts = deferral.attemptSpent ? state.attempt : Math.max(0, state.attempt - 1);
  const bookkeeping: Bookkeeping = {
    priorAttempts,
    tier: tier.name,
    ...(deferral.runAt === undefined ? {} : { runAt: deferral.runAt }),
  };
  let body: string;
  try {
    body = resentBody(state.envelope, bookkeeping);
  } catch (error) {
    return cannotResend(state, `its copy cannot be serialized: ${describeError(error)}`);
  }
  const attributes = taskAttributes(tier.name);
  const bytes = messageBytes(body, attributes);
  if (bytes > runtime.config.maxMessageBytes) {
    return cannotResend(
      state,
      `its re-sent copy would be ${bytes} bytes, over the queue's limit of ${runtime.config.maxMessageBytes} bytes`,
    );
  }
  const delaySeconds = Math.min(
    runtime.maxHopSeconds,
    MAX_DELAY_SECONDS,
    Math.max(0, Math.ceil(deferral.delayMs / 1000)),
  );
  return {
    state,
    queueUrl: tier.queueUrl,
    body,
    attributes,
    delaySeconds,
    ...(state.envelope.tenant === undefined ? {} : { groupId: state.envelope.tenant }),
    outcome: { kind: 'deferred', cause: deferral.cause, reason: deferral.reason },
  };
}

function cannotResend(state: RecordState, why: string): DeadLetter {
  return {
    state,
    reason: InvalidMessageCode.InvalidEnvelope,
    error: `cannot be deferred: ${why}`,
    attempts: Math.max(0, state.attempt - 1),
  };
}

/**
 * Defers records: sends each one's copy (batched per tier) and acknowledges the original once
 * its copy is stored. A copy that cannot be sent (too large for the queue) dead-letters its
 * record with the reason; a record whose queue is not a known tier, or whose copy's send fails,
 * stays failed, so SQS redelivers it.
 *
 * @example
 * await deferOrFail(runtime, [{ state, delayMs: 5_000, cause: DeferCause.notDue, reason: 'not due until …' }]);
 */
export async function deferOrFail(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'maxHopSeconds'>,
  deferrals: readonly Deferral[],
): Promise<void> {
  const sends: Send[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const deferral of deferrals) {
    const copy = copyOf(deferral, runtime);
    if (copy === undefined) {
      fail(deferral.state, `${deferral.reason}, but its queue is not a known tier: cannot re-enqueue`);
    } else if ('body' in copy) {
      sends.push(copy);
    } else {
      deadLetters.push(copy);
    }
  }
  await Promise.all([
    sends.length > 0 ? sendForRecords(runtime.sqs, sends) : undefined,
    deadLetterOrFail(runtime, deadLetters),
  ]);
}
