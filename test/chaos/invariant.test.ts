import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../shared/stores/task-store.js';
import type { Application, InvocationWindow } from './app/ledger-client.js';
import type { KilledInvocation } from './faults.js';
import { checkInvariant } from './invariant.js';
import type { PlannedTask } from './workload.js';

/**
 * The chaos invariant's one exception, on hand-made ledgers: a task applied twice passes only
 * when the ledger traces the extra run to an invocation the runner killed mid-handler.
 */

const LOCK_TTL_MS = 15_000;
const task = (mode: 'lock' | 'once'): PlannedTask => ({
  key: 'k',
  mode,
  tier: 'normal',
  payload: { key: 'k', failTimes: 0, permanent: false },
});
const succeeded = new Map([['k', { id: 'k', status: 'succeeded' } as TaskState]]);
const run = (invocationId: string, at: number, mode: 'lock' | 'once' = 'lock'): Application => ({
  key: 'k',
  mode,
  attempt: 1,
  invocationId,
  at,
});

function check(
  mode: 'lock' | 'once',
  applied: Application[],
  killed: Record<string, KilledInvocation>,
  windows: InvocationWindow[] = [],
) {
  const ledger = {
    applications: () => applied,
    invocation: (id: string) => windows.find((w) => w.invocationId === id),
  };
  return checkInvariant([task(mode)], ledger, [], succeeded, {
    invocations: new Map(Object.entries(killed)),
    lockTtlMs: LOCK_TTL_MS,
  });
}

describe('checkInvariant with mid-handler kills', () => {
  it('allows a lock task run again after its lock expired, when the first run was killed mid-handler', () => {
    const outcome = check('lock', [run('a', 1_000), run('b', 17_000)], { a: { startedBy: 900 } });

    expect(outcome.violations).toEqual([]);
    expect(outcome.sideEffects).toMatchObject({ lockAfterKill: 1, lockRepeated: 0 });
  });

  it('refuses a second lock run when no kill explains the first', () => {
    const outcome = check('lock', [run('a', 1_000), run('b', 17_000)], {});

    expect(outcome.violations).toEqual([
      'k (lock, failTimes 0) applied its side effect 2 times under lock (0 in invocations killed mid-handler)',
    ]);
  });

  it('refuses a second lock run before the killed run’s lock could have expired', () => {
    const outcome = check('lock', [run('a', 1_000), run('b', 5_000)], { a: { startedBy: 900 } });

    expect(outcome.sideEffects.lockRepeated).toBe(1);
  });

  it('refuses a second lock run after a killed invocation that still reported its end', () => {
    const ended: InvocationWindow = { invocationId: 'a', startedAt: 950, endedAt: 1_100, failedKeys: [] };
    const outcome = check('lock', [run('a', 1_000), run('b', 17_000)], { a: { startedBy: 900 } }, [ended]);

    expect(outcome.sideEffects.lockRepeated).toBe(1);
  });

  it('counts a once task run again after a kill apart from concurrent duplicates', () => {
    const outcome = check('once', [run('a', 1_000, 'once'), run('b', 7_000, 'once')], {
      a: { startedBy: 900 },
    });

    expect(outcome.violations).toEqual([]);
    expect(outcome.sideEffects).toMatchObject({
      onceAfterKill: 1,
      onceConcurrent: 0,
      onceAfterCompletion: 0,
    });
  });
});
