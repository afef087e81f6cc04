import type { Message } from '@aws-sdk/client-sqs';

/**
 * What one invocation of the local event source runner can be made to suffer. Test-only.
 *
 * @example
 * const faults: RunnerFaults = { invocation: () => InvocationFault.crashBeforeAck };
 */
export const InvocationFault = {
  /**
   * The handler ran to the end (its side effects and state writes happened), then the
   * invocation died before the runner deleted the records it acknowledged: nothing is deleted,
   * and every record comes back after its visibility timeout.
   */
  crashBeforeAck: 'crash-before-ack',
  /**
   * The invocation overran the function's timeout after the handler's work, as when Lambda
   * waits for an event loop that never empties: it ends as a timeout at its deadline and nothing
   * is deleted. (A timeout in the middle of the work would be a crash before the completion is
   * stored; see docs/chaos.md for why that is left out.)
   */
  timeout: 'timeout',
} as const;
export type InvocationFault = (typeof InvocationFault)[keyof typeof InvocationFault];

/** A batch about to be invoked, as a {@link RunnerFaults} hook sees it. */
export interface FaultBatch {
  /** Logical id of the event source mapping. */
  readonly mapping: string;
  readonly messages: readonly Message[];
  /** True for the second delivery that `duplicate` asked for; it is never duplicated again. */
  readonly duplicate: boolean;
}

/**
 * Test-only fault injection into the local event source runner (see docs/chaos.md). Leave it
 * unset everywhere else: with no hooks the runner behaves exactly like Lambda's SQS poller.
 * Hooks are called once per invocation and return undefined for "no fault".
 *
 * @example
 * startEventSources({ mappings, region, sqsEndpoint, faults: {
 *   invocation: () => (Math.random() < 0.02 ? InvocationFault.crashBeforeAck : undefined),
 *   duplicate: ({ messages }) => messages.slice(0, 1),
 * } });
 */
export interface RunnerFaults {
  /** The fault this invocation suffers, if any. */
  invocation?(batch: FaultBatch): InvocationFault | undefined;
  /**
   * Messages of a freshly received batch to deliver a second time, in another invocation that
   * runs alongside the first with the same receipt handles: SQS delivers at least once.
   */
  duplicate?(batch: FaultBatch): readonly Message[] | undefined;
}
