const EMF_PREFIX = '{"_aws":';

/**
 * Drops the consumers' CloudWatch EMF lines from stdout while benchmarks run. Metrics stay
 * enabled, so serializing them is still measured as on Lambda; only the terminal is spared.
 * Returns a function that restores stdout and reports how many lines were dropped.
 *
 * @example
 * const restore = quietStdout();
 * try { await run(); } finally { console.log(`${restore()} EMF lines dropped`); }
 */
export function quietStdout(): () => number {
  const original = process.stdout.write;
  let dropped = 0;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith(EMF_PREFIX)) {
      dropped += 1;
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (callback) queueMicrotask(callback);
      return true;
    }
    return (original as (...args: unknown[]) => boolean).apply(process.stdout, [chunk, ...rest]);
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
    return dropped;
  };
}
