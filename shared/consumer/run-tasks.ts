/**
 * The core of the consumer: each validated record's task, run with its timeout.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { logger } from '../logger.js';
import { describeError } from './dead-letter.js';
import { deadlineMarginMs } from './deadline.js';
import { type BatchState, fail, pending, type RecordState } from './record-state.js';
import { runWithTimeout } from './run-with-timeout.js';

/** Runs one validated record's task with its timeout, settling its outcome. */
async function runOne(state: RecordState, context: Context, marginMs: number): Promise<void> {
  const { task, envelope } = state;
  if (!task || !envelope) return fail(state, 'record reached the runner without validation');
  // Kept back from the deadline: what the after-hooks may need to record and report outcomes.
  const remaining = context.getRemainingTimeInMillis() - marginMs;
  const timeoutMs = Math.min(task.timeoutMs ?? Number.POSITIVE_INFINITY, remaining);
  try {
    let taskLogger: Logger | undefined;
    const result = await runWithTimeout(task.name, timeoutMs, (signal) =>
      task.handler(state.payload, {
        id: envelope.id,
        task: task.name,
        attempt: state.attempt,
        tier: state.tier ?? 'unknown',
        signal,
        // Created on first use: a child logger costs more CPU than a no-op task (bench/).
        get logger() {
          taskLogger ??= logger.createChild({ persistentKeys: { taskId: envelope.id, task: task.name } });
          return taskLogger;
        },
      }),
    );
    state.run = { ok: true, result, finishedAtMs: Date.now() };
    state.outcome = { kind: 'succeeded' };
    logger.info('task succeeded', { taskId: envelope.id, task: task.name, attempt: state.attempt });
  } catch (error) {
    state.run = { ok: false, error, finishedAtMs: Date.now() };
    fail(state, `task threw: ${describeError(error)}`, error);
    logger.warn('task failed', { taskId: envelope.id, task: task.name, attempt: state.attempt, error });
  }
}

/**
 * The core of the consumer: runs every pending record of the batch concurrently, each until its
 * own timeout or the deadline margin, whichever comes first.
 *
 * @example
 * const core = (event: SQSEvent, context: Context) => runTasks(batchOf(event), context);
 */
export async function runTasks(batch: BatchState, context: Context): Promise<void> {
  const marginMs = deadlineMarginMs(batch.budgetMs);
  await Promise.all(
    pending(batch).map(async (state) => {
      await runOne(state, context, marginMs);
      // Listeners contain their own failures (they must not fail the batch).
      for (const listener of batch.onRunEnd) await listener(state);
    }),
  );
}
