/**
 * Middleware, outermost: the SQS event in as per-record state, the partial batch response out.
 */
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { TierEndpoint } from '../config.js';
import { tierOfSource } from '../config.js';
import { batchOf, recordState } from '../record-state.js';

/** Options for {@link sqsBatch}. */
export interface SqsBatchOptions {
  readonly tiers: readonly TierEndpoint[];
}

/**
 * Outermost middleware: turns the SQS event into per-record state before, and the settled
 * outcomes into a partial batch response after (only `failed` records are reported, so SQS
 * deletes everything else). Use it first so its `after` runs last.
 *
 * @example
 * middy(core).use(sqsBatch({ tiers: config.tiers })).use(validateRecords({ registry }));
 */
export function sqsBatch(
  options: SqsBatchOptions,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const sqsBatchBefore: middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context> = (request) => {
    const batch = batchOf(request.event);
    for (const record of request.event.Records ?? []) {
      batch.records.push(recordState(record, tierOfSource(options.tiers, record.eventSourceARN)));
    }
  };
  const sqsBatchAfter: middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context> = (request) => {
    const batch = batchOf(request.event);
    // A record no step settled was never handled: report it rather than let SQS delete it.
    const failures = batch.records.filter((r) => r.outcome.kind === 'failed' || r.outcome.kind === 'pending');
    request.response = {
      batchItemFailures: failures.map((r) => ({ itemIdentifier: r.record.messageId })),
    };
  };
  return { before: sqsBatchBefore, after: sqsBatchAfter };
}
