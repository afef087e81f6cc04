/**
 * Middleware: every record checked against the contract, the registry and the task's schema
 * before anything else happens to it.
 */
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { parseEnvelope } from '../../contract.js';
import { InvalidMessageCode, InvalidMessageError } from '../../errors.js';
import { logger } from '../../logger.js';
import type { TaskRegistry } from '../../registry.js';
import { describeError } from '../dead-letter.js';
import { batchOf, fail, pending, type RecordState } from '../record-state.js';

/** Options for {@link validateRecords}. */
export interface ValidateRecordsOptions {
  readonly registry: TaskRegistry;
  /**
   * What to do with the invalid records. Default: fail them with the reason logged (SQS retries
   * and finally redrives them). The consumer passes `deadLetterInvalid`: an immediate DLQ send.
   */
  readonly onInvalid?: (
    invalid: { state: RecordState; error: InvalidMessageError }[],
  ) => Promise<void> | void;
  /**
   * Why a valid record could never be re-sent (deferred, or retried later as a copy), if it
   * could not; such a record is invalid too (`invalid-envelope`). The consumer passes a check
   * of its largest copy against the queue's size limit. Default: no check.
   */
  readonly resendProblem?: (state: RecordState) => string | undefined;
}

const defaults = {
  onInvalid: (invalid: { state: RecordState; error: InvalidMessageError }[]) => {
    for (const { state, error } of invalid) {
      logger.warn('invalid message', {
        messageId: state.record.messageId,
        code: error.code,
        reason: error.message,
      });
      fail(state, error.message, error);
    }
  },
};

/** Validates one record's body against the contract, the registry and the task's schema. */
async function validateOne(
  state: RecordState,
  { registry, resendProblem }: ValidateRecordsOptions,
): Promise<InvalidMessageError | undefined> {
  const parsed = parseEnvelope(state.record.body);
  if (!parsed.ok) return parsed.error;
  const envelope = parsed.envelope;
  state.envelope = envelope;
  state.attempt = (envelope.tierq?.priorAttempts ?? 0) + state.receiveCount;
  const task = registry.get(envelope.task);
  if (!task) {
    return new InvalidMessageError({
      code: InvalidMessageCode.UnknownTask,
      reason: `unknown task "${envelope.task}": this consumer runs ${registry.names().join(', ') || 'no tasks'}`,
    });
  }
  state.task = task;
  let result: Awaited<ReturnType<(typeof task.schema)['~standard']['validate']>>;
  try {
    result = await task.schema['~standard'].validate(envelope.payload);
  } catch (error) {
    // A schema should return issues; one that throws (a transform calling JSON.parse) rejects too.
    return new InvalidMessageError(
      {
        code: InvalidMessageCode.InvalidPayload,
        reason: `the schema of task "${task.name}" threw: ${describeError(error)}`,
      },
      { cause: error },
    );
  }
  if (result.issues) {
    const issues = result.issues
      .slice(0, 5)
      .map(
        (i) =>
          `${i.path?.map((p) => (typeof p === 'object' ? p.key : p)).join('.') || 'payload'}: ${i.message}`,
      )
      .join('; ');
    return new InvalidMessageError({
      code: InvalidMessageCode.InvalidPayload,
      reason: `payload does not match task "${task.name}": ${issues}`,
    });
  }
  state.payload = result.value;
  const problem = resendProblem?.(state);
  if (problem !== undefined) {
    return new InvalidMessageError({ code: InvalidMessageCode.InvalidEnvelope, reason: problem });
  }
  return undefined;
}

/**
 * Validates every pending record against the message contract, the task registry and the
 * task's payload schema (a schema that throws rejects the payload too), and, with
 * `resendProblem`, that a copy of it could be re-sent; an invalid record is handed to
 * `onInvalid` and never runs.
 *
 * @example
 * middy(core).use(sqsBatch({ tiers })).use(validateRecords({ registry }));
 */
export function validateRecords(
  options: ValidateRecordsOptions,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const { onInvalid } = { ...defaults, ...options };
  const validateRecordsBefore: middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context> = async (
    request,
  ) => {
    const invalid: { state: RecordState; error: InvalidMessageError }[] = [];
    await Promise.all(
      pending(batchOf(request.event)).map(async (state) => {
        const error = await validateOne(state, options);
        if (error) invalid.push({ state, error });
      }),
    );
    if (invalid.length > 0) await onInvalid(invalid);
  };
  return { before: validateRecordsBefore };
}
