import type { DeadLetterInfo } from '../../shared/dlq/dead-letter-info.js';
import type { TaskState } from '../../shared/stores/task-store.js';
import type { Application } from './app/ledger-client.js';
import type { KilledInvocation } from './faults.js';
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
  /**
   * More than once under lock, every run but the last killed mid-handler (no completion stored)
   * and the next run after its lock expired: the at-least-once floor, allowed.
   */
  lockAfterKill: number;
  /** More than once under lock, not explained by a kill: a violation. */
  lockRepeated: number;
  onceOnce: number;
  /** More than once, every run but the last killed mid-handler: the at-least-once floor, allowed. */
  onceAfterKill: number;
  /** More than once, every extra run in an invocation that overlapped another run's: allowed. */
  onceConcurrent: number;
  /** Again after a run had stored its completion: `once` promises that never happens. */
  onceAfterCompletion: number;
}

/** The runner's mid-handler kills, for telling the at-least-once floor from a broken promise. */
export interface Kills {
  /** Invocations a `timeout` fault killed before the handler answered, by request id. */
  readonly invocations: ReadonlyMap<string, KilledInvocation>;
  /** How long a `lock` outlives a run that never completed: the function's timeout. */
  readonly lockTtlMs: number;
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
 * The one exception is the at-least-once floor (docs/chaos.md): a run the runner killed in the
 * middle of its handler, after the side effect and before the completion was stored, is run
 * again. An extra application is allowed only when the ledger traces it to such a kill: the run
 * before it was in an invocation the fault hook killed, which never reported its end, and under
 * `lock` the next run came after that run's lock had expired.
 *
 * @example
 * const outcome = checkInvariant(workload.tasks, ledger, letters, states, { invocations: faults.killed, lockTtlMs });
 * expect(outcome.violations).toEqual([]);
 */
export function checkInvariant(
  tasks: readonly PlannedTask[],
  ledger: Pick<Ledger, 'applications' | 'invocation'>,
  letters: readonly DeadLetterInfo[],
  states: ReadonlyMap<string, TaskState>,
  kills: Kills,
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
    lockAfterKill: 0,
    lockRepeated: 0,
    onceOnce: 0,
    onceAfterKill: 0,
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
      const problem = tallySideEffects(task, applied, ledger, kills, sideEffects);
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
  kills: Kills,
  tally: SideEffectTally,
): string | undefined {
  if (applied.length === 0) return 'succeeded without applying its side effect';
  if (applied.length === 1) {
    if (task.mode === 'lock') tally.lockOnce++;
    else tally.onceOnce++;
    return undefined;
  }
  const runs = [...applied].sort((a, b) => a.at - b.at);
  const killedMidHandler = (run: Application) =>
    kills.invocations.has(run.invocationId) && ledger.invocation(run.invocationId) === undefined;
  const everyRerunAfterAKill = runs.slice(0, -1).every(killedMidHandler);
  if (task.mode === 'lock') {
    const afterLockExpired = runs
      .slice(1)
      .every(
        (run, i) =>
          run.at >= (kills.invocations.get(runs[i]?.invocationId ?? '')?.startedBy ?? 0) + kills.lockTtlMs,
      );
    if (everyRerunAfterAKill && afterLockExpired) {
      tally.lockAfterKill++;
      return undefined;
    }
    tally.lockRepeated++;
    const killedRuns = runs.filter(killedMidHandler).length;
    return `applied its side effect ${applied.length} times under lock (${killedRuns} in invocations killed mid-handler)`;
  }
  if (runs.some((run) => startedAfterACompletion(run, runs, task.key, ledger, kills))) {
    tally.onceAfterCompletion++;
    return `ran ${applied.length} times, once after another run had stored its completion`;
  }
  if (everyRerunAfterAKill) tally.onceAfterKill++;
  else tally.onceConcurrent++;
  return undefined;
}

/**
 * True when `run` began in an invocation that started after another run of the same key had
 * ended with its completion stored: that run's `once` pre-check should have found it done. A
 * killed invocation never reported its start; the fault hook's time is no later than it.
 */
function startedAfterACompletion(
  run: Application,
  all: readonly Application[],
  key: string,
  ledger: Pick<Ledger, 'invocation'>,
  kills: Kills,
): boolean {
  const began =
    ledger.invocation(run.invocationId)?.startedAt ??
    kills.invocations.get(run.invocationId)?.startedBy ??
    Number.POSITIVE_INFINITY;
  return all.some((other) => {
    if (other === run) return false;
    const window = ledger.invocation(other.invocationId);
    return window !== undefined && !window.failedKeys.includes(key) && window.endedAt < began;
  });
}

function reasons(letters: readonly DeadLetterInfo[]): string {
  return letters.map((l) => l.reason).join(', ');
}
