import type { Progress } from './progress.js';
import type { Endpoints } from './resources.js';

/** What a benchmark gets from the runner. */
export interface BenchContext {
  /** The emulators' endpoints (started once per run, stopped at the end). */
  readonly endpoints: Endpoints;
  readonly progress: Progress;
  /** Results of the benchmarks that ran before this one, by name (cost reads them). */
  readonly results: Readonly<Record<string, unknown>>;
  /** Registers something to stop if the run is interrupted (Ctrl-C) while this benchmark runs. */
  onInterrupt(stop: () => Promise<void>): void;
}

/**
 * One benchmark: `run` measures and returns a JSON-serializable result, `render` turns it into
 * the Markdown that docs/BENCHMARKS.md quotes.
 *
 * @example
 * export const producer: Benchmark<ProducerResult> = { name: 'producer', title: 'Producer', run, render };
 */
export interface Benchmark<R> {
  readonly name: string;
  readonly title: string;
  /** Benchmarks whose results this one reads; the runner runs them first. */
  readonly dependsOn?: readonly string[];
  run(context: BenchContext): Promise<R>;
  render(result: R): string;
}

/**
 * A Markdown table.
 *
 * @example
 * table(['variant', 'p50'], [['tierq', '4.1']]);
 */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * A number for a report: fixed decimals, thousands separated.
 *
 * @example
 * fmt(12345.678, 1); // '12,345.7'
 */
export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
