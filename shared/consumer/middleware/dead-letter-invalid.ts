/**
 * The consumer's answer to invalid records: the DLQ at once, with the reason.
 */
import type { InvalidMessageError } from '../../errors.js';
import { logger } from '../../logger.js';
import { DeadLetterReason, deadLetterOrFail } from '../dead-letter.js';
import type { RecordState } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';

/**
 * The `onInvalid` handler that sends invalid records to the DLQ at once, with the reason, and
 * acknowledges them: a poison message never burns retries or blocks its batch. If the DLQ send
 * fails, the record fails and SQS redelivers it.
 *
 * @example
 * validateRecords({ registry, onInvalid: deadLetterInvalid(runtime) });
 */
export function deadLetterInvalid(runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now'>) {
  return async (invalid: readonly { state: RecordState; error: InvalidMessageError }[]): Promise<void> => {
    for (const { state, error } of invalid) {
      logger.warn('invalid message dead-lettered', {
        messageId: state.record.messageId,
        code: error.code,
        reason: error.reason,
      });
    }
    await deadLetterOrFail(
      runtime,
      invalid.map(({ state, error }) => ({
        state,
        reason: error.code ?? DeadLetterReason.InvalidEnvelope,
        error: error.reason,
        attempts: 0,
      })),
    );
  };
}
