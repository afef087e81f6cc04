/**
 * Running a task against a deadline, with an AbortSignal it may honour.
 */
import { TaskTimeoutError } from '../errors.js';

/**
 * Runs `fn` with an AbortSignal that fires after `timeoutMs`; rejects with a TaskTimeoutError at
 * the deadline even if `fn` ignores the signal.
 *
 * @example
 * await runWithTimeout('sleep', 1_000, (signal) => work(signal));
 */
export async function runWithTimeout<T>(
  taskName: string,
  timeoutMs: number,
  fn: (signal: AbortSignal) => Promise<T> | T,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        const error = new TaskTimeoutError({ taskName, timeoutMs });
        controller.abort(error);
        reject(error);
      },
      Math.max(0, timeoutMs),
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(() => fn(controller.signal)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
