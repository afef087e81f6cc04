/**
 * Deferral, the one way a record waits without failing: a copy goes back to its tier with
 * `DelaySeconds`, and the original is acknowledged once the copy is stored. Every middleware
 * that defers (not due, rate-limited, a duplicate in progress) goes through {@link deferOrFail}.
 */
import { serializeEnvelope } from '../contract.js';
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
}

/**
 * The copy of a deferred record, to its own tier. A deferral is not a failure: the copy carries
 * `tierq.priorAttempts` (the failed attempts so far), so its fresh ApproximateReceiveCount
 * neither resets nor consumes the retry budget. Undefined when the record's tier is unknown.
 */
function deferredCopy(
  deferral: Deferral,
  runtime: Pick<ConsumerRuntime, 'config' | 'maxHopSeconds'>,
): Send | undefined {
  const { state } = deferral;
  const tier = runtime.config.tiers.find((t) => t.name === state.tier);
  if (!tier || !state.envelope) return undefined;
  const body = serializeEnvelope({
    ...state.envelope,
    tierq: { ...state.envelope.tierq, priorAttempts: Math.max(0, state.attempt - 1), tier: tier.name },
  });
  const delaySeconds = Math.min(
    runtime.maxHopSeconds,
    MAX_DELAY_SECONDS,
    Math.max(0, Math.ceil(deferral.delayMs / 1000)),
  );
  return {
    state,
    queueUrl: tier.queueUrl,
    body,
    delaySeconds,
    outcome: { kind: 'deferred', cause: deferral.cause, reason: deferral.reason },
  };
}

/**
 * Defers records: sends each one's copy (batched per tier) and acknowledges the original once
 * its copy is stored. A record whose copy cannot be sent fails, so SQS redelivers it.
 *
 * @example
 * await deferOrFail(runtime, [{ state, delayMs: 5_000, cause: DeferCause.notDue, reason: 'not due until …' }]);
 */
export async function deferOrFail(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'maxHopSeconds'>,
  deferrals: readonly Deferral[],
): Promise<void> {
  const sends: Send[] = [];
  for (const deferral of deferrals) {
    const copy = deferredCopy(deferral, runtime);
    if (copy) sends.push(copy);
    else fail(deferral.state, `${deferral.reason}, but its queue is not a known tier: cannot re-enqueue`);
  }
  if (sends.length > 0) await sendForRecords(runtime.sqs, sends);
}
