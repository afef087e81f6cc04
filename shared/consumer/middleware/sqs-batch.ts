/**
 * Middleware, outermost: the SQS event in as per-record state, the partial batch response out.
 */
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../../logger.js';
import type { TierEndpoint } from '../config.js';
import { tierOfSource } from '../config.js';
import { batchOf, type Outcome, type RecordState, recordState } from '../record-state.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/** The partial batch response naming the records whose outcome is in `redeliver`. */
function responseFor(
  records: readonly RecordState[],
  redeliver: ReadonlySet<Outcome['kind']>,
): SQSBatchResponse {
  return {
    batchItemFailures: records
      .filter((r) => redeliver.has(r.outcome.kind))
      .map((r) => ({ itemIdentifier: r.record.messageId })),
  };
}

// A record no step settled was never handled: report it rather than let SQS delete it.
const SETTLED_FAILURES = new Set<Outcome['kind']>(['failed', 'pending']);
// After an unexpected error, a success may not have been stored yet: SQS redelivers it too, and
// its idempotency record answers for it. Deferred, dead-lettered and duplicate records are
// acknowledged: their copies and letters are stored, and must not be sent again.
const UNSETTLED_AFTER_ERROR = new Set<Outcome['kind']>(['failed', 'pending', 'succeeded']);

/** Options for {@link sqsBatch}. */
export interface SqsBatchOptions {
  readonly tiers: readonly TierEndpoint[];
}

/**
 * Outermost middleware: turns the SQS event into per-record state before, and the settled
 * outcomes into a partial batch response after (only `failed` records are reported, so SQS
 * deletes everything else). Use it first so its `after` runs last.
 *
 * Its `onError` is the batch's safety net: should a step throw despite containing its records,
 * the response still acknowledges what was safely settled, so one record's error never makes
 * SQS redeliver (and tierq re-send) the whole batch.
 *
 * @example
 * middy(core).use(sqsBatch({ tiers: config.tiers })).use(validateRecords({ registry }));
 */
export function sqsBatch(
  options: SqsBatchOptions,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const sqsBatchBefore: Fn = (request) => {
    const batch = batchOf(request.event);
    batch.budgetMs = request.context.getRemainingTimeInMillis();
    batch.startedAtMs = Date.now();
    for (const record of request.event.Records ?? []) {
      batch.records.push(recordState(record, tierOfSource(options.tiers, record.eventSourceARN)));
    }
  };
  const sqsBatchAfter: Fn = (request) => {
    request.response = responseFor(batchOf(request.event).records, SETTLED_FAILURES);
  };
  const sqsBatchOnError: Fn = (request) => {
    if (request.response !== undefined) return;
    logger.error('the consumer failed mid-batch; only settled records are acknowledged', {
      error: request.error,
    });
    request.response = responseFor(batchOf(request.event).records, UNSETTLED_AFTER_ERROR);
  };
  return { before: sqsBatchBefore, after: sqsBatchAfter, onError: sqsBatchOnError };
}
