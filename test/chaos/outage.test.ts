import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { uniqueName } from '../helpers/aws.js';
import { OUTAGE_TIER, synthesizeOutageApp } from './outage/app.js';
import { type Downstream, startDownstream } from './outage/downstream.js';
import { type OutageFigures, runOutage } from './outage/run.js';

/**
 * A downstream outage: tasks that call an HTTP service which fails every call for a while, once
 * behind a circuit breaker and once without, on the same local stack. The full-size run (5,000
 * tasks, 20 s, 60 s reset) is `npm run bench -- outage`; this one is smaller, to fit CI.
 */

const TASKS = Number(process.env.TIERQ_OUTAGE_TASKS ?? 1_000);
const OUTAGE_MS = Number(process.env.TIERQ_OUTAGE_MS ?? 10_000);
const RESET_MS = Number(process.env.TIERQ_OUTAGE_RESET_MS ?? 4_000);
const THRESHOLD = 5;

const workDir = mkdtempSync(join(tmpdir(), 'tierq-outage-'));
let downstream: Downstream;
let stack: LocalStack;

beforeAll(async () => {
  const emulators = inject('emulators');
  downstream = await startDownstream();
  stack = await startLocalStack({
    assemblyDir: synthesizeOutageApp(join(workDir, 'cdk.out')),
    emulators,
    namePrefix: uniqueName('outage'),
    stateFile: false,
    visibilityTimeoutOverride: 6,
    functionEnvironment: { OUTAGE_DOWNSTREAM_URL: downstream.url, OUTAGE_RESET_MS: String(RESET_MS) },
  });
});

afterAll(async () => {
  await stack?.stop();
  await downstream?.close();
  await rm(workDir, { recursive: true, force: true });
});

function print(f: OutageFigures): void {
  console.log(
    `${f.task}: ${f.tasks} tasks, downstream down ${f.outageMs / 1_000} s: ` +
      `${f.callsDuringOutage} calls during the outage, ${f.calls} calls in all (${f.calls - f.tasks} beyond one per task), ` +
      `${f.succeeded} succeeded (${f.duplicates} more than once), ${f.deadLetters} dead letters ${JSON.stringify(f.deadLetterReasons)}, ` +
      `breaker opened ${f.breakerOpens}×, ${f.probes} probes, drained ${(f.drainedAfterRecoveryMs / 1_000).toFixed(1)} s after recovery`,
  );
}

describe('a downstream outage', () => {
  it('behind a breaker: no dead letters, every task once, the downstream barely called while down', async () => {
    const common = { tasks: TASKS, outageMs: OUTAGE_MS, stack, downstream, timeoutMs: 150_000 };
    const guarded = await runOutage({ ...common, task: 'guarded-call' });
    print(guarded);
    const unguarded = await runOutage({ ...common, task: 'unguarded-call' });
    print(unguarded);

    expect(guarded.deadLetters).toBe(0);
    expect(guarded.succeeded).toBe(TASKS);
    expect(guarded.duplicates).toBe(0);
    // What reached the dead downstream: the threshold, the probes that failed, and the records of
    // batches that had read the breaker closed before it opened (at most every poller's batch).
    const inFlight = OUTAGE_TIER.maxConcurrency * OUTAGE_TIER.batchSize;
    expect(guarded.callsDuringOutage).toBeLessThanOrEqual(THRESHOLD + (guarded.probes - 1) + inFlight);
    expect(guarded.breakerOpens).toBeGreaterThanOrEqual(1);
    // Drained within the longest open time (4 × the reset timeout) and a few seconds.
    expect(guarded.drainedAfterRecoveryMs).toBeLessThanOrEqual(RESET_MS * 4 + 15_000);
    // Without the breaker, every task kept calling while the downstream was down.
    expect(unguarded.callsDuringOutage).toBeGreaterThan(guarded.callsDuringOutage * 3);
  }, 320_000);
});
