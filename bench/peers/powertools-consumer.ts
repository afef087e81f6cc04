import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** What {@link createPowertoolsConsumer} needs. */
export interface PowertoolsConsumerOptions {
  readonly dynamodb: DynamoDBClient;
  /** A table keyed by a string `id`, the layout DynamoDBPersistenceLayer expects by default. */
  readonly tableName: string;
  /** The work done per task; a no-op in the benchmarks. */
  readonly work?: (payload: unknown) => unknown;
}

/**
 * The baseline a user would write instead of tierq: Middy, Powertools' `BatchProcessor` with
 * `processPartialResponse` (records in parallel, partial batch response), and `makeIdempotent`
 * with the DynamoDB persistence layer, following the Powertools documentation for idempotent
 * batch processing. The idempotency key is the task id in the body, not the SQS messageId, so a
 * duplicate enqueue is caught like tierq catches it, and the payload is hash-checked like
 * tierq's. No schema validation, rate limit, retries policy, metrics or task state: those are
 * what tierq adds, and the benchmark shows what they cost.
 *
 * @example
 * export const handler = createPowertoolsConsumer({ dynamodb: new DynamoDBClient({}), tableName: 'idempotency' });
 */
export function createPowertoolsConsumer(options: PowertoolsConsumerOptions) {
  const processor = new BatchProcessor(EventType.SQS);
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.dynamodb,
  });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'powertools_json(body).id',
    payloadValidationJmesPath: 'powertools_json(body).payload',
    // tierq keeps completed records a day by default; the same here.
    expiresAfterSeconds: 86_400,
  });
  const work = options.work ?? (() => ({ ok: true }));
  const recordHandler = async (record: SQSRecord): Promise<unknown> => {
    const body = JSON.parse(record.body) as { id?: unknown; payload?: unknown };
    if (typeof body.id !== 'string') throw new Error(`record ${record.messageId} has no task id`);
    return work(body.payload);
  };
  // With `context` passed through, makeIdempotent registers it itself, so in-progress locks
  // expire with the invocation's remaining time.
  const idempotentHandler = makeIdempotent(recordHandler, { persistenceStore, config });
  const core = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, idempotentHandler, processor, { context });
  return middy<SQSEvent, SQSBatchResponse, Error, Context>(core);
}
