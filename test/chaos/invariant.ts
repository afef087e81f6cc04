import type { DeadLetterInfo } from '../../shared/dlq/dead-letter-info.js';
import type { TaskState } from '../../shared/stores/task-store.js';
import type { Application } from './app/ledger-client.js';
import type { Ledger } from './ledger.js';
import type { PlannedTask } from './workload.js';

/** What became of the chaos run's tasks, from the ledger, the DLQ and the task table. */
export interface ChaosOutcome {
  /** Broken promises, one sentence each: the run passes when there are none. */
  readonly violations: string[];
  readonly succeeded: number;
  /** Tasks in the DLQ with a reason, and the letters (a task may be dead-lettered more than once). */
  readonly deadLettered: {
    readonly tasks: number;
    readonly letters: number;
    readonly byReason: Record<string, number>;
  };
  /** Tasks neither succeeded nor dead-lettered. */
  readonly lost: number;
  /** Succeeded tasks by how often their side effect ran. */
  readonly sideEffects: SideEffectTally;
}

/** How often succeeded tasks applied their side effect, per idempotency mode. */
export interface SideEffectTally {
  lockOnce: number;
  lockRepeated: number;
  onceOnce: number;
  /** More than once, every extra run in an invocation that overlapped another run's: allowed. */
  onceConcurrent: number;
  /** Again after a run had stored its completion: `once` promises that never happens. */
  onceAfterCompletion: number;
}

/** The idempotency key a dead letter's body names (every chaos payload carries it). */
export function keyOfLetter(letter: DeadLetterInfo): string | undefined {
  try {
    const key = (JSON.parse(letter.body) as { payload?: { key?: unknown } }).payload?.key;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks the chaos invariant for every planned task: it succeeded with its side effect applied
 * exactly once (`lock`), or at least once with every repeat concurrent with another run (`once`,
 * whose contract tolerates a concurrent duplicate), or it is in the DLQ with a tierq reason and
 * its side effect never ran. Anything else is a violation; a task in neither place is lost.
 *
 * @example
 * const outcome = checkInvariant(workload.tasks, ledger, letters, states);
 * expect(outcome.violations).toEqual([]);
 */
export function checkInvariant(
  tasks: readonly PlannedTask[],
  ledger: Pick<Ledger, 'applications' | 'invocation'>,
  letters: readonly DeadLetterInfo[],
  states: ReadonlyMap<string, TaskState>,
): ChaosOutcome {
  const lettersByKey = new Map<string, DeadLetterInfo[]>();
  const byReason: Record<string, number> = {};
  for (const letter of letters) {
    const key = keyOfLetter(letter) ?? '?';
    lettersByKey.set(key, [...(lettersByKey.get(key) ?? []), letter]);
    byReason[letter.reason] = (byReason[letter.reason] ?? 0) + 1;
  }
  const violations: string[] = [];
  let succeeded = 0;
  let deadTasks = 0;
  let lost = 0;
  const sideEffects: SideEffectTally = {
    lockOnce: 0,
    lockRepeated: 0,
    onceOnce: 0,
    onceConcurrent: 0,
    onceAfterCompletion: 0,
  };
  for (const task of tasks) {
    const applied = ledger.applications(task.key);
    const dead = lettersByKey.get(task.key) ?? [];
    const status = states.get(task.key)?.status ?? 'unknown';
    const what = `${task.key} (${task.mode}, ${task.payload.permanent ? 'permanent' : `failTimes ${task.payload.failTimes}`})`;
    if (status === 'succeeded') {
      succeeded++;
      if (task.payload.permanent) violations.push(`${what} succeeded though it always throws`);
      if (dead.length > 0) violations.push(`${what} succeeded and is also in the DLQ (${reasons(dead)})`);
      const problem = tallySideEffects(task, applied, ledger, sideEffects);
      if (problem) violations.push(`${what} ${problem}`);
    } else if (dead.length > 0) {
      deadTasks++;
      const unexplained = dead.filter((l) => l.reason === 'redriven-by-sqs');
      if (unexplained.length > 0) violations.push(`${what} was redriven by SQS without a tierq reason`);
      if (applied.length > 0) violations.push(`${what} is in the DLQ but applied its side effect`);
      if (task.payload.permanent && !dead.some((l) => l.reason === 'permanent-error')) {
        violations.push(`${what} is in the DLQ as ${reasons(dead)}, not permanent-error`);
      }
    } else {
      lost++;
      violations.push(`${what} is lost: status ${status}, ${applied.length} side effects, no dead letter`);
    }
  }
  return {
    violations,
    succeeded,
    deadLettered: { tasks: deadTasks, letters: letters.length, byReason },
    lost,
    sideEffects,
  };
}

/** Counts a succeeded task's side effects; returns what is wrong with them, if anything. */
function tallySideEffects(
  task: PlannedTask,
  applied: readonly Application[],
  ledger: Pick<Ledger, 'invocation'>,
  tally: SideEffectTally,
): string | undefined {
  if (applied.length === 0) return 'succeeded without applying its side effect';
  if (task.mode === 'lock') {
    if (applied.length === 1) tally.lockOnce++;
    else tally.lockRepeated++;
    return applied.length === 1 ? undefined : `applied its side effect ${applied.length} times under lock`;
  }
  if (applied.length === 1) {
    tally.onceOnce++;
    return undefined;
  }
  if (applied.some((run) => startedAfterACompletion(run, applied, task.key, ledger))) {
    tally.onceAfterCompletion++;
    return `ran ${applied.length} times, once after another run had stored its completion`;
  }
  tally.onceConcurrent++;
  return undefined;
}

/**
 * True when `run` began in an invocation that started after another run of the same key had
 * ended with its completion stored: that run's `once` pre-check should have found it done.
 */
function startedAfterACompletion(
  run: Application,
  all: readonly Application[],
  key: string,
  ledger: Pick<Ledger, 'invocation'>,
): boolean {
  const began = ledger.invocation(run.invocationId)?.startedAt ?? Number.POSITIVE_INFINITY;
  return all.some((other) => {
    if (other === run) return false;
    const window = ledger.invocation(other.invocationId);
    return window !== undefined && !window.failedKeys.includes(key) && window.endedAt < began;
  });
}

function reasons(letters: readonly DeadLetterInfo[]): string {
  return letters.map((l) => l.reason).join(', ');
}
