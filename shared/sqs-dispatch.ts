import {
  ChangeMessageVisibilityBatchCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { fail, type Outcome, type RecordState } from './batch.js';
import { logger } from './logger.js';

/** One message to send on behalf of a record (a dead letter or a deferred copy). */
export interface Send {
  readonly state: RecordState;
  readonly queueUrl: string;
  readonly body: string;
  readonly delaySeconds?: number;
  readonly attributes?: Record<string, MessageAttributeValue>;
  /** The outcome the record takes once the send is safely stored. */
  readonly outcome: typeof Outcome.deadLettered | typeof Outcome.deferred;
  readonly reason: string;
}

/** SQS batch APIs take at most 10 entries. */
const BATCH = 10;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function byQueue<T extends { queueUrl: string }>(items: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(item.queueUrl, [...(groups.get(item.queueUrl) ?? []), item]);
  return [...groups.values()].flatMap((group) => chunks(group, BATCH));
}

/**
 * Sends messages for records with SendMessageBatch (grouped per queue, 10 per request, all
 * requests in parallel) and settles each record by its own entry's result: a record is
 * acknowledged only when its message is safely stored; otherwise it fails, so SQS redelivers it.
 *
 * @example
 * await sendForRecords(sqs, [{ state, queueUrl: dlqUrl, body: state.record.body, outcome: 'dead-lettered', reason }]);
 */
export async function sendForRecords(sqs: SQSClient, sends: readonly Send[]): Promise<void> {
  await Promise.all(
    byQueue(sends).map(async (group) => {
      try {
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: group[0]?.queueUrl,
            Entries: group.map((s, i) => ({
              Id: String(i),
              MessageBody: s.body,
              ...(s.delaySeconds ? { DelaySeconds: s.delaySeconds } : {}),
              ...(s.attributes ? { MessageAttributes: s.attributes } : {}),
            })),
          }),
        );
        const failed = new Map((result.Failed ?? []).map((f) => [f.Id, f]));
        group.forEach((s, i) => {
          const failure = failed.get(String(i));
          if (failure) {
            fail(s.state, `could not send to ${s.queueUrl}: ${failure.Code} ${failure.Message ?? ''}`.trim());
          } else {
            s.state.outcome = s.outcome;
            s.state.reason = s.reason;
          }
        });
      } catch (error) {
        logger.error('SendMessageBatch failed; the records will be redelivered', { error });
        for (const s of group) fail(s.state, `could not send to ${s.queueUrl}`, error);
      }
    }),
  );
}

/** A failed record whose next attempt should wait `visibilitySeconds`. */
export interface RetryLater {
  readonly state: RecordState;
  readonly queueUrl: string;
  readonly visibilitySeconds: number;
}

/**
 * Schedules retries by changing each failed record's visibility timeout (batched per queue).
 * A record whose change fails still fails: it is then retried after the queue's own visibility
 * timeout instead of its backoff, which is late but loses nothing.
 *
 * @example
 * await scheduleRetries(sqs, [{ state, queueUrl, visibilitySeconds: 30 }]);
 */
export async function scheduleRetries(sqs: SQSClient, retries: readonly RetryLater[]): Promise<void> {
  await Promise.all(
    byQueue(retries).map(async (group) => {
      try {
        const result = await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: group[0]?.queueUrl,
            Entries: group.map((r, i) => ({
              Id: String(i),
              ReceiptHandle: r.state.record.receiptHandle,
              VisibilityTimeout: r.visibilitySeconds,
            })),
          }),
        );
        if (result.Failed?.length) {
          logger.warn('some retries keep the queue visibility timeout', { failed: result.Failed });
        }
      } catch (error) {
        logger.warn('ChangeMessageVisibilityBatch failed; retries keep the queue visibility timeout', {
          error,
        });
      }
    }),
  );
}
