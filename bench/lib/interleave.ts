/**
 * Runs every variant once per round, the first variant rotating from round to round (ABC, BCA,
 * CAB, ...), so drift on a shared machine (another job starting, the JIT warming up, the
 * emulators' heaps growing) falls on every variant alike instead of on whichever ran last.
 *
 * @example
 * await interleave(['tierq', 'baseline'], 100, async (variant, round) => measure(variant, round));
 */
export async function interleave<V>(
  variants: readonly V[],
  rounds: number,
  run: (variant: V, round: number) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < variants.length; i++) {
      await run(variants[(round + i) % variants.length] as V, round);
    }
  }
}
