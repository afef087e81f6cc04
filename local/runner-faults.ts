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
   * The invocation times out in the middle of the handler: its sandbox is killed (SIGKILL) at a
   * point {@link RunnerFaults.timeoutAfterMs} chooses, so nothing the handler had not yet done
   * ever happens, the invocation ends as a timeout and nothing is deleted. A kill after a task's
   * side effect and before its completion is stored runs that task again (docs/chaos.md). If the
   * handler answers before that point, the invocation still ends as a timeout: an overrun after
   * the work, as when Lambda waits for an event loop that never empties.
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

/** One invocation about to run, as the invocation hooks of {@link RunnerFaults} see it. */
export interface FaultInvocation extends FaultBatch {
  /** The invocation's `context.awsRequestId`, so a fault can be matched with what the handler did. */
  readonly requestId: string;
  /** Median duration of the mapping's last invocations that answered; 0 before the first. */
  readonly medianDurationMs: number;
}

/**
 * Test-only fault injection into the local event source runner (see docs/chaos.md). Leave it
 * unset everywhere else: with no hooks the runner behaves exactly like Lambda's SQS poller.
 * `invocation` and `duplicate` are called once per invocation and return undefined for "no fault".
 *
 * @example
 * startEventSources({ mappings, region, sqsEndpoint, faults: {
 *   invocation: () => (Math.random() < 0.02 ? InvocationFault.crashBeforeAck : undefined),
 *   duplicate: ({ messages }) => messages.slice(0, 1),
 * } });
 */
export interface RunnerFaults {
  /** The fault this invocation suffers, if any. */
  invocation?(invocation: FaultInvocation): InvocationFault | undefined;
  /**
   * For a `timeout`: how many ms into the invocation its sandbox is killed. Default: a random
   * point within the mapping's median invocation time, i.e. most often while the handler runs.
   */
  timeoutAfterMs?(invocation: FaultInvocation): number;
  /**
   * Called when a `timeout` killed the invocation's sandbox before the handler answered: what
   * it had done by then happened, nothing after. Not called for an overrun after the answer.
   */
  killed?(invocation: FaultInvocation, afterMs: number): void;
  /**
   * Messages of a freshly received batch to deliver a second time, in another invocation that
   * runs alongside the first with the same receipt handles: SQS delivers at least once.
   */
  duplicate?(batch: FaultBatch): readonly Message[] | undefined;
}
