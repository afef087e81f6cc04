import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack } from '../local/stack.js';
import { synthesizeOutageApp } from '../test/chaos/outage/app.js';
import { startDownstream } from '../test/chaos/outage/downstream.js';
import { type OutageFigures, runOutage } from '../test/chaos/outage/run.js';
import { type Benchmark, fmt, table } from './lib/benchmark.js';
import { uniqueName } from './lib/resources.js';

const TASKS = 5_000;
const OUTAGE_MS = 20_000;
const RESET_MS = 60_000;
const THRESHOLD = 5;

/** What `npm run bench -- outage` records. */
export interface OutageResult {
  readonly tasks: number;
  readonly outageMs: number;
  readonly resetTimeoutMs: number;
  readonly failureThreshold: number;
  readonly pollers: number;
  readonly batchSize: number;
  readonly runs: readonly OutageFigures[];
}

/**
 * Issue 14's outage: 5,000 tasks that call a local HTTP downstream which fails every call for
 * 20 s once a tenth of them have succeeded, then recovers; once behind a circuit breaker
 * (threshold 5, reset timeout 60 s) and once without, on one local stack, one after the other.
 * The same workload at a smaller size runs in the chaos suite (test/chaos/outage.test.ts).
 */
export const outage: Benchmark<OutageResult> = {
  name: 'outage',
  title: 'Downstream outage, with and without a circuit breaker',
  async run(context) {
    const workDir = await mkdtemp(join(tmpdir(), 'tierq-bench-outage-'));
    const downstream = await startDownstream();
    context.progress.update('outage: starting the local stack');
    const stack = await startLocalStack({
      assemblyDir: synthesizeOutageApp(join(workDir, 'cdk.out')),
      emulators: { region: 'us-east-1', endpoints: context.endpoints },
      namePrefix: uniqueName('outage'),
      stateFile: false,
      functionEnvironment: { OUTAGE_DOWNSTREAM_URL: downstream.url, OUTAGE_RESET_MS: String(RESET_MS) },
    });
    context.onInterrupt(async () => {
      await stack.stop();
      await downstream.close();
    });
    try {
      const runs: OutageFigures[] = [];
      for (const task of ['guarded-call', 'unguarded-call'] as const) {
        context.progress.update(`outage: ${task}, ${TASKS} tasks`);
        runs.push(
          await runOutage({
            task,
            tasks: TASKS,
            outageMs: OUTAGE_MS,
            stack,
            downstream,
            timeoutMs: 600_000,
          }),
        );
      }
      return {
        tasks: TASKS,
        outageMs: OUTAGE_MS,
        resetTimeoutMs: RESET_MS,
        failureThreshold: THRESHOLD,
        pollers: 5,
        batchSize: 10,
        runs,
      };
    } finally {
      await stack.stop();
      await downstream.close();
      await rm(workDir, { recursive: true, force: true });
    }
  },
  render(r) {
    const rows = r.runs.map((f) => [
      f.task === 'guarded-call' ? 'with the breaker' : 'without',
      f.callsDuringOutage,
      f.calls - f.tasks,
      f.succeeded,
      f.duplicates,
      f.deadLetters,
      f.breakerOpens,
      f.probes,
      fmt(f.drainedAfterRecoveryMs / 1_000),
      fmt(f.totalMs / 1_000),
    ]);
    return [
      `${r.tasks} tasks, downstream down ${r.outageMs / 1_000} s; breaker threshold ${r.failureThreshold}, ` +
        `reset ${r.resetTimeoutMs / 1_000} s; ${r.pollers} pollers × batches of ${r.batchSize}; retries 5 attempts, 1–8 s backoff.`,
      '',
      table(
        [
          'run',
          'calls during the outage',
          'attempts beyond one per task',
          'succeeded',
          'more than once',
          'dead letters',
          'breaker opened',
          'probes',
          'drained after recovery, s',
          'total, s',
        ],
        rows,
      ),
    ].join('\n');
  },
};
