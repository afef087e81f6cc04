import type { SQSRecord } from 'aws-lambda';
import type { TaskEnvelope } from '../contract.js';
import type { AnyTask } from '../registry.js';

/** What became of one record in this invocation. */
export const Outcome = {
  /** Still to be processed by the next step. */
  pending: 'pending',
  succeeded: 'succeeded',
  /** Reported in batchItemFailures: SQS redelivers it after its visibility timeout. */
  failed: 'failed',
  /** Safely stored in the DLQ with a reason; acknowledged. */
  deadLettered: 'dead-lettered',
  /** Re-enqueued for later (not due, rate-limited, duplicate in progress); acknowledged. */
  deferred: 'deferred',
  /** A duplicate of a completed task: acknowledged without running. */
  duplicate: 'duplicate',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** One SQS record's journey through the middleware chain. */
export interface RecordState {
  readonly record: SQSRecord;
  readonly messageId: string;
  /** The tier the record was received from, or undefined when its queue is not a known tier. */
  readonly tier: string | undefined;
  /** SQS's ApproximateReceiveCount for this copy of the message. */
  readonly receiveCount: number;
  /** This attempt's number: failed attempts of earlier copies plus this copy's receive count. */
  attempt: number;
  envelope?: TaskEnvelope;
  task?: AnyTask;
  /** The payload after the task's schema (transforms applied). */
  payload?: unknown;
  outcome: Outcome;
  result?: unknown;
  error?: unknown;
  /** A readable reason for a failure, dead-letter or deferral. */
  reason?: string;
  /** True when the failure came from the task itself (eligible for backoff or the DLQ). */
  taskFailure?: boolean;
  /** Set when the deferral was the rate limiter's. */
  rateLimited?: boolean;
  /** Set when a failed record's next attempt was scheduled with backoff. */
  retryDelayMs?: number;
  /** When the task finished running (success or failure), epoch ms. */
  finishedAtMs?: number;
}

/** The state of a whole batch, shared by the middlewares through {@link batchOf}. */
export interface BatchState {
  readonly records: RecordState[];
}

const batches = new WeakMap<object, BatchState>();

/**
 * The batch state of one invocation, created on first use. Keyed by the event object, which
 * Middy hands both to the middlewares (`request.event`) and to the core handler, so concurrent
 * invocations never share state.
 *
 * @example
 * const batch = batchOf(request.event);
 * for (const r of pending(batch)) r.outcome = Outcome.succeeded;
 */
export function batchOf(event: object): BatchState {
  let batch = batches.get(event);
  if (!batch) {
    batch = { records: [] };
    batches.set(event, batch);
  }
  return batch;
}

/** The records no step has settled yet. */
export function pending(batch: BatchState): RecordState[] {
  return batch.records.filter((r) => r.outcome === Outcome.pending);
}

/**
 * Builds the state of one record.
 *
 * @example
 * const state = recordState(record, 'critical');
 */
export function recordState(record: SQSRecord, tier: string | undefined): RecordState {
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
  return {
    record,
    messageId: record.messageId,
    tier,
    receiveCount,
    attempt: receiveCount,
    outcome: Outcome.pending,
  };
}

/** Settles a record as failed: it will be reported so SQS redelivers it. */
export function fail(state: RecordState, reason: string, error?: unknown): void {
  state.outcome = Outcome.failed;
  state.reason = reason;
  state.error = error;
}
