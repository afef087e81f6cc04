/**
 * Paused tasks as the consumer reads them: the interface (it imports no implementation) and how
 * long a consumer may go on acting on what it read, which is how long `tierq pause` waits.
 */

/**
 * How long a consumer acts on the paused tasks it read before reading them again (ms), counted
 * from when its read began: a pause or resume takes effect in every consumer within this time.
 */
export const PAUSE_CACHE_MS = 1_000;

/**
 * How long a paused task's record waits before it looks again: at least this, plus up to as much
 * again at random, so a resumed backlog comes back spread over that time rather than at once.
 */
export const PAUSED_RECHECK_MS = 30_000;

/**
 * The names of the tasks an operator paused, as one consumer container sees them.
 *
 * @example
 * ```ts
 * const pauses: PausedTasks = new DynamoPausedTasks(ddb, 'tierq');
 * if ((await pauses.pausedTasks()).has('send-email')) defer(record);
 * ```
 */
export interface PausedTasks {
  /**
   * The paused task names, read at most {@link PAUSE_CACHE_MS} ago (concurrent callers share one
   * read). Throws a `StoreError` when the table cannot be read: the caller fails its records.
   */
  pausedTasks(): Promise<ReadonlySet<string>>;
}
