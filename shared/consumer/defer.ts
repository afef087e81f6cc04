import { serializeEnvelope } from '../contract.js';
import type { TierEndpoint } from './config.js';
import type { RecordState } from './record-state.js';
import { Outcome } from './record-state.js';
import type { Send } from './sqs-dispatch.js';

/** SQS's DelaySeconds maximum: longer waits take several hops. */
export const MAX_DELAY_SECONDS = 900;

/**
 * A deferred copy of a record, to its own tier with `DelaySeconds`. A deferral is not a
 * failure: the copy carries `tierq.priorAttempts` (the failed attempts so far), so the fresh
 * ApproximateReceiveCount of the copy does not reset or consume the retry budget, and the
 * original is acknowledged once the copy is stored.
 *
 * Returns undefined when the record's tier is unknown (the caller fails the record instead).
 *
 * @example
 * const send = deferral(state, tiers, 30_000, 'rate limited', 900);
 */
export function deferral(
  state: RecordState,
  tiers: readonly TierEndpoint[],
  delayMs: number,
  reason: string,
  maxHopSeconds = MAX_DELAY_SECONDS,
): Send | undefined {
  const tier = tiers.find((t) => t.name === state.tier);
  if (!tier || !state.envelope) return undefined;
  const body = serializeEnvelope({
    ...state.envelope,
    tierq: { ...state.envelope.tierq, priorAttempts: Math.max(0, state.attempt - 1), tier: tier.name },
  });
  const delaySeconds = Math.min(maxHopSeconds, MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
  return { state, queueUrl: tier.queueUrl, body, delaySeconds, outcome: Outcome.deferred, reason };
}
