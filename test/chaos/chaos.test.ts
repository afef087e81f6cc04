import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { tapTaskMetrics } from '../../local/task-metrics-tap.js';
import { startWireProxy, type WireProxy } from '../../local/wire-proxy.js';
import { getTaskState } from '../../shared/stores/task-lookup.js';
import type { TaskState } from '../../shared/stores/task-store.js';
import { uniqueName, waitFor } from '../helpers/aws.js';
import { principalClients } from '../helpers/e2e.js';
import { CHAOS_CONSUMER_TIMEOUT_SECONDS, synthesizeChaosApp } from './app/stack.js';
import { ChaosTask } from './app/tasks.js';
import { type ChaosFaults, chaosFaults } from './faults.js';
import { printFigures } from './figures.js';
import { checkInvariant } from './invariant.js';
import { type Ledger, startLedger } from './ledger.js';
import { drainDeadLetters, heldMessages } from './queues.js';
import { seededRandom } from './random.js';
import { enqueue, planWorkload } from './workload.js';

/**
 * The chaos run: a few thousand tasks on every tier, through a local stack synthesized from the
 * chaos app (test/chaos/app), while proxies in front of DynamoDB Local and fauxqs throttle, fail
 * and drop a share of requests and the runner crashes invocations before they acknowledge,
 * kills them in the middle of their handler (a timeout) and delivers messages twice. Every side
 * effect lands in a ledger in this process. See docs/chaos.md for what exactly-once can and
 * cannot mean here.
 */

const SEED = Number(process.env.TIERQ_CHAOS_SEED ?? 0x7135);
const TASKS = Number(process.env.TIERQ_CHAOS_TASKS ?? 2_400);
/** Failed records come back after 6 s, as in the e2e suite (the low tier gathers for 5 s). */
const VISIBILITY_SECONDS = 6;

const workDir = mkdtempSync(join(tmpdir(), 'tierq-chaos-'));
let ledger: Ledger;
let proxies: { dynamodb: WireProxy; sqs: WireProxy };
let faults: ChaosFaults;
let stack: LocalStack;
let tap: ReturnType<typeof tapTaskMetrics>;
let sqs: SQSClient;
let operator: SQSClient;
let dynamodb: DynamoDBClient;
const progress: string[] = [];

beforeAll(async () => {
  const emulators = inject('emulators');
  ledger = await startLedger();
  proxies = {
    dynamodb: await startWireProxy({ service: 'dynamodb', target: emulators.endpoints.dynamodb }),
    sqs: await startWireProxy({ service: 'sqs', target: emulators.endpoints.sqs }),
  };
  faults = chaosFaults(proxies, seededRandom(SEED ^ 0xfa17));
  tap = tapTaskMetrics();
  // Everything the stack does goes through the proxies: provisioning (so queue URLs name the SQS
  // proxy, which SQS clients then send to), the functions, and the event source runner.
  stack = await startLocalStack({
    assemblyDir: synthesizeChaosApp(join(workDir, 'cdk.out')),
    emulators: {
      region: emulators.region,
      endpoints: { sqs: proxies.sqs.endpoint, dynamodb: proxies.dynamodb.endpoint },
    },
    namePrefix: uniqueName('chaos'),
    stateFile: false,
    visibilityTimeoutOverride: VISIBILITY_SECONDS,
    functionEnvironment: { CHAOS_LEDGER_URL: ledger.url, POWERTOOLS_METRICS_DISABLED: 'false' },
    runnerFaults: faults.runner,
    onProgress: (line) => progress.push(line),
  });
  // Enqueued as the stack's producer, watched as its operator: each held to its IAM policy.
  ({ producer: sqs, operator, dynamodb } = principalClients(stack));
  await enqueue(sqs, stack.queues, [{ tier: 'normal', body: warmUp() }]);
  await waitFor(() => ledger.applications('warm-up').length === 1, {
    timeoutMs: 30_000,
    message: 'the warm-up task',
  });
}, 120_000);

afterAll(async () => {
  faults?.stop();
  await stack?.stop();
  tap?.release();
  await Promise.all([proxies?.dynamodb.stop(), proxies?.sqs.stop(), ledger?.stop()]);
  sqs?.destroy();
  operator?.destroy();
  dynamodb?.destroy();
  await rm(workDir, { recursive: true, force: true });
});

/** Task states from the table, read directly (not through the proxy), a few dozen at a time. */
async function readStates(keys: readonly string[]): Promise<Map<string, TaskState>> {
  const states = new Map<string, TaskState>();
  for (let i = 0; i < keys.length; i += 50) {
    const read = await Promise.all(
      keys.slice(i, i + 50).map((key) => getTaskState({ client: dynamodb, tableName: stack.table }, key)),
    );
    for (const state of read) states.set(state.id, state);
  }
  return states;
}

function warmUp(): string {
  const payload = { key: 'warm-up', failTimes: 0, permanent: false };
  return JSON.stringify({ v: 1, id: 'warm-up', task: ChaosTask.lock, payload });
}

describe('tierq under chaos', () => {
  it('ends every task succeeded exactly once or dead-lettered with a reason, losing none', async () => {
    const workload = planWorkload(TASKS, stack.tiers, seededRandom(SEED));
    const started = Date.now();

    faults.start();
    await enqueue(sqs, stack.queues, workload.first);
    await waitFor(() => ledger.appliedKeys() >= TASKS / 2, {
      timeoutMs: 90_000,
      message: 'half the tasks to run',
    });
    await enqueue(sqs, stack.queues, workload.late);
    let quiet = 0;
    await waitFor(
      async () => {
        const held = await Promise.all(
          [...Object.values(stack.queues)].map((url) => heldMessages(operator, url)),
        );
        const inFlight = stack.stats().reduce((n, s) => n + s.inFlight, 0);
        // Twice in a row: a deferred copy is sent before its original is deleted, never after.
        quiet = held.every((n) => n === 0) && inFlight === 0 ? quiet + 1 : 0;
        return quiet >= 2;
      },
      { timeoutMs: 150_000, intervalMs: 500, message: 'every tier queue to drain' },
    );
    const drainedMs = Date.now() - started;
    faults.stop();

    const letters = await drainDeadLetters(operator, stack.dlq);
    const states = await readStates(workload.tasks.map((t) => t.key));
    const outcome = checkInvariant(workload.tasks, ledger, letters, states, {
      invocations: faults.killed,
      lockTtlMs: CHAOS_CONSUMER_TIMEOUT_SECONDS * 1000,
    });
    const stats = stack.stats();
    printFigures({ seed: SEED, workload, outcome, faults, proxies, stats, counts: tap.counts(), drainedMs });

    expect(outcome.violations.slice(0, 20)).toEqual([]);
    expect(outcome.lost).toBe(0);
    expect(outcome.succeeded + outcome.deadLettered.tasks).toBe(TASKS);
    // Every whole-batch failure was one the runner injected: no invocation crashed or timed out on its own.
    const sum = (field: 'errors' | 'timeouts' | 'malformed' | 'inFlight') =>
      stats.reduce((n, s) => n + s[field], 0);
    expect({
      errors: sum('errors'),
      timeouts: sum('timeouts'),
      malformed: sum('malformed'),
      inFlight: sum('inFlight'),
    }).toEqual({
      errors: faults.injected.crashBeforeAck,
      timeouts: faults.injected.timeout,
      malformed: 0,
      inFlight: 0,
    });
  });
});
