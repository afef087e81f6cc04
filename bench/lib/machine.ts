import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/** Where a run happened: what docs/BENCHMARKS.md must state next to its figures. */
export interface Machine {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly os: string;
  readonly memoryGiB: number;
  readonly loadAverageAtStart: number[];
}

/**
 * The machine's core count (`nproc`, which honours CPU affinity), CPU model, Node and OS.
 *
 * @example
 * const machine = describeMachine();
 */
export function describeMachine(): Machine {
  let nproc = os.availableParallelism();
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    // No coreutils: availableParallelism() is the same figure on Linux.
  }
  return {
    nproc,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/**
 * Installed versions of the packages a run compares, read from node_modules.
 *
 * @example
 * packageVersions(['fauxqs', 'sqs-producer']); // { fauxqs: '1.9.2', 'sqs-producer': '8.0.4' }
 */
export function packageVersions(names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    try {
      // Read directly: not every package lists ./package.json in its "exports".
      const file = join(process.cwd(), 'node_modules', name, 'package.json');
      out[name] = (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    } catch {
      out[name] = 'unknown';
    }
  }
  return out;
}
