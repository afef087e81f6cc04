/**
 * How much of an invocation the consumer keeps back from the Lambda's deadline: what its
 * after-hooks may need to record and report every record's outcome. A task runs only until the
 * margin, and one that could not finish before it is not started.
 */
import { UNPROCESSED_BACKOFF_MAX_MS, UNPROCESSED_RETRIES } from '../stores/dynamo-batch.js';

/**
 * What one request of the consumer's may take, its SDK retries included, on a service that is
 * slow but up (DynamoDB and SQS answer in milliseconds; the SDK retries a throttled request
 * after 100–200 ms).
 */
export const REQUEST_BUDGET_MS = 300;

/**
 * The requests the after-hooks send one after another, each round's requests concurrent:
 * `retries` (dead letters, visibility changes, re-sent retries), the state writes (the batch's
 * completions: one request and up to {@link UNPROCESSED_RETRIES} resends of what DynamoDB left
 * unprocessed; failures and checked completions alongside), and the last-receive dead letters.
 */
const AFTER_HOOK_ROUNDS = 1 + (1 + UNPROCESSED_RETRIES) + 1;

/**
 * What the after-hooks may need: their rounds of requests and the sleeps between resends of
 * unprocessed items (3.33 s).
 */
export const AFTER_HOOKS_BUDGET_MS = AFTER_HOOK_ROUNDS * REQUEST_BUDGET_MS + UNPROCESSED_BACKOFF_MAX_MS;

/** What the steps between the start check and the run may need: the rate limit, then idempotency. */
export const BEFORE_RUN_BUDGET_MS = 2 * REQUEST_BUDGET_MS;

/**
 * The margin kept back from the deadline: what the after-hooks may need, but never more than
 * half of what the invocation started with (a function with a very short timeout still runs
 * tasks).
 *
 * @example
 * const timeoutMs = context.getRemainingTimeInMillis() - deadlineMarginMs(invocationBudgetMs);
 */
export function deadlineMarginMs(invocationBudgetMs: number): number {
  return Math.min(AFTER_HOOKS_BUDGET_MS, Math.floor(invocationBudgetMs / 2));
}
