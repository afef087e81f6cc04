/**
 * The state of each record of a batch as the middlewares pass it along: a few facts read once
 * (tier, receive count, the parsed envelope and task), what the task's run did, and one outcome
 * that tells the story of the record — pending until a step settles it.
 */
import type { SQSRecord } from 'aws-lambda';
import type { TaskEnvelope } from '../contract.js';
import type { AnyTask } from '../registry.js';

/** Why a record was re-enqueued for later instead of run now. */
export const DeferCause = {
  /** Its `runAt` is still ahead. */
  notDue: 'not-due',
  /** Its task's rate limit has no token for it yet. */
  rateLimited: 'rate-limited',
  /** Another delivery of the same task holds the idempotency lock. */
  inProgress: 'in-progress',
  /** Too little of the invocation is left to run it before the deadline margin. */
  noTime: 'no-time',
  /** A failed attempt's retry waits longer than a visibility timeout can still hide it. */
  retry: 'retry',
  /** Its task's circuit breaker is open, or half-open with its one probe out. */
  breakerOpen: 'breaker-open',
  /** The task's downstream pushed back (`BackPressureError`): it waits the time asked. */
  backPressure: 'back-pressure',
  /** An operator paused its task (`tierq pause task`): it looks again until resumed. */
  paused: 'paused',
  /** Its tenant already runs `concurrency.perTenant` of its task. */
  tenantBusy: 'tenant-busy',
} as const;
export type DeferCause = (typeof DeferCause)[keyof typeof DeferCause];

/**
 * What becomes of a record. Everything but `pending` and `failed` is acknowledged (SQS deletes
 * the message); `failed` is named in `batchItemFailures`, so SQS redelivers it.
 */
export type Outcome =
  | { readonly kind: 'pending' }
  /**
   * The task ran and succeeded (its completion is stored by the idempotency step; `lockLost`
   * when its lock had been taken over, so the newer holder's record was left as it stood).
   */
  | { readonly kind: 'succeeded'; readonly lockLost?: boolean }
  /** A duplicate of a task that already succeeded: not run; `result` is the stored one. */
  | { readonly kind: 'duplicate'; readonly result: unknown }
  /** A copy was re-enqueued to run later; the copy is safely stored. */
  | { readonly kind: 'deferred'; readonly cause: DeferCause; readonly reason: string }
  /** Safely stored in the DLQ, with `reason` (`<code>: <sentence>`). */
  | { readonly kind: 'deadLettered'; readonly reason: string }
  /** Left for SQS to redeliver; `retryInMs` when its next attempt was scheduled with backoff. */
  | {
      readonly kind: 'failed';
      readonly reason: string;
      readonly error: unknown;
      readonly retryInMs?: number;
    };

/** What the task's handler did in this invocation, when it ran. */
export type Run =
  | { readonly ok: true; readonly result: unknown; readonly finishedAtMs: number }
  | { readonly ok: false; readonly error: unknown; readonly finishedAtMs: number };

/** One SQS record's journey through the middleware chain. */
export interface RecordState {
  readonly record: SQSRecord;
  /** The tier the record was received from, or undefined when its queue is not a known tier. */
  readonly tier: string | undefined;
  /** SQS's ApproximateReceiveCount for this copy of the message. */
  readonly receiveCount: number;
  /** This attempt's number: failed attempts of earlier copies plus this copy's receive count. */
  attempt: number;
  /** The body, once it parsed as a v1 envelope. */
  envelope?: TaskEnvelope;
  /** The registered task it names, once known. */
  task?: AnyTask;
  /** The payload after the task's schema (transforms applied), once valid. */
  payload?: unknown;
  run?: Run;
  outcome: Outcome;
}

/** The state of a whole batch, shared by the middlewares through {@link batchOf}. */
export interface BatchState {
  readonly records: RecordState[];
  /** What the invocation had left when it started, ms: what a fresh invocation has. */
  budgetMs: number;
  /** When the invocation started, epoch ms on this host's clock (SQS's receive is before it). */
  startedAtMs: number;
  /**
   * Called as each record's run ends, before the other records' runs have: what must follow one
   * run at once (a circuit breaker's probe settles here, so its claim never outlives its run).
   */
  readonly onRunEnd: ((state: RecordState) => Promise<void>)[];
}

const batches = new WeakMap<object, BatchState>();

/**
 * The batch state of one invocation, created on first use. Keyed by the event object, which
 * Middy hands both to the middlewares (`request.event`) and to the core handler, so concurrent
 * invocations never share state.
 *
 * @example
 * const batch = batchOf(request.event);
 * for (const r of pending(batch)) fail(r, 'not handled');
 */
export function batchOf(event: object): BatchState {
  let batch = batches.get(event);
  if (!batch) {
    batch = { records: [], budgetMs: Number.POSITIVE_INFINITY, startedAtMs: Date.now(), onRunEnd: [] };
    batches.set(event, batch);
  }
  return batch;
}

/** The records no step has settled yet. */
export function pending(batch: BatchState): RecordState[] {
  return batch.records.filter((r) => r.outcome.kind === 'pending');
}

/**
 * Builds the state of one record.
 *
 * @example
 * const state = recordState(record, 'critical');
 */
export function recordState(record: SQSRecord, tier: string | undefined): RecordState {
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
  return { record, tier, receiveCount, attempt: receiveCount, outcome: { kind: 'pending' } };
}

/** Settles a record as failed: it will be reported so SQS redelivers it. */
export function fail(state: RecordState, reason: string, error?: unknown): void {
  state.outcome = { kind: 'failed', reason, error };
}
