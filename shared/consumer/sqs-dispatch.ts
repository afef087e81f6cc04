/**
 * The consumer's SQS writes on behalf of records — deferred copies, dead letters, retry
 * visibility — batched, with each record settled by its own entry's result.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { logger } from '../logger.js';
import { messageBytes } from '../message-attributes.js';
import { packBatches, SQS_BATCH_LIMITS } from '../pack-batches.js';
import { fail, type Outcome, type RecordState } from './record-state.js';

/** One message to send on behalf of a record (a dead letter or a deferred copy). */
export interface Send {
  readonly state: RecordState;
  readonly queueUrl: string;
  readonly body: string;
  readonly delaySeconds?: number;
  readonly attributes?: Record<string, MessageAttributeValue>;
  /** SQS's `MessageGroupId` (the tenant): a deferred copy stays in its tenant's fair-queue group. */
  readonly groupId?: string;
  /** The outcome the record takes once the send is safely stored. */
  readonly outcome: Extract<Outcome, { kind: 'deadLettered' | 'deferred' }>;
}

function byQueue<T extends { queueUrl: string }>(items: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(item.queueUrl, [...(groups.get(item.queueUrl) ?? []), item]);
  return [...groups.values()];
}

/**
 * Sends messages for records with SendMessageBatch (grouped per queue, at most 10 messages and
 * 1 MiB per request, all requests in parallel) and settles each record by its own entry's
 * result: a record is acknowledged only when its message is safely stored; otherwise it fails,
 * so SQS redelivers it.
 *
 * @example
 * await sendForRecords(sqs, [{ state, queueUrl: dlqUrl, body: state.record.body, outcome: { kind: 'deadLettered', reason } }]);
 */
export async function sendForRecords(sqs: SQSClient, sends: readonly Send[]): Promise<void> {
  // Split by size too: ten dead letters of large bodies would exceed the batch limit, and the
  // whole request would fail on every redelivery until SQS redrove them without a reason.
  // SQS_BATCH_LIMITS is SQS's 1 MiB per request (AWS, 2026-01).
  const requests = byQueue(sends).flatMap((group) =>
    packBatches(group, (send) => messageBytes(send.body, send.attributes), SQS_BATCH_LIMITS),
  );
  await Promise.all(
    requests.map(async (group) => {
      try {
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: group[0]?.queueUrl,
            Entries: group.map((s, i) => ({
              Id: String(i),
              MessageBody: s.body,
              ...(s.delaySeconds ? { DelaySeconds: s.delaySeconds } : {}),
              ...(s.attributes ? { MessageAttributes: s.attributes } : {}),
              ...(s.groupId ? { MessageGroupId: s.groupId } : {}),
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
  const requests = byQueue(retries).flatMap((group) => packBatches(group, () => 0, SQS_BATCH_LIMITS));
  await Promise.all(
    requests.map(async (group) => {
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
