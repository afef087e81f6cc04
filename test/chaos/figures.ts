import type { MappingStats } from '../../local/event-source-runner.js';
import type { TaskCounts } from '../../local/task-metrics-tap.js';
import type { WireProxy } from '../../local/wire-proxy.js';
import type { ChaosFaults } from './faults.js';
import type { ChaosOutcome } from './invariant.js';
import type { Workload } from './workload.js';

/** Everything the figures are computed from. */
export interface FigureInputs {
  readonly seed: number;
  readonly workload: Workload;
  readonly outcome: ChaosOutcome;
  readonly faults: ChaosFaults;
  readonly proxies: { readonly dynamodb: WireProxy; readonly sqs: WireProxy };
  readonly stats: readonly MappingStats[];
  /** The consumer's own metrics (EMF), summed per task name. */
  readonly counts: TaskCounts;
  readonly drainedMs: number;
}

/**
 * Prints the chaos run's figures: tasks, faults injected by kind, retries, duplicates
 * suppressed, dead-lettered, lost.
 *
 * @example
 * printFigures({ seed, workload, outcome, faults, proxies, stats, counts: tap.counts(), drainedMs });
 */
export function printFigures(inputs: FigureInputs): void {
  const { workload, outcome, faults, proxies, stats, counts } = inputs;
  const metric = (name: string) => Object.values(counts).reduce((n, row) => n + (row[name] ?? 0), 0);
  const total = (record: Readonly<Record<string, number>>) =>
    Object.values(record).reduce((a, b) => a + b, 0);
  const byMode = (mode: string) => workload.tasks.filter((t) => t.mode === mode).length;
  const wire = (p: WireProxy) => {
    const { requests, faults: kinds } = p.stats();
    return `${total(kinds)} of ${total(requests)} requests ${JSON.stringify(kinds)}`;
  };
  const { injected } = faults;
  const fx = outcome.sideEffects;
  const lines = [
    `chaos run, seed 0x${inputs.seed.toString(16)}: drained in ${(inputs.drainedMs / 1000).toFixed(1)} s`,
    `  tasks            ${workload.tasks.length} (lock ${byMode('lock')}, once ${byMode('once')}; ` +
      `${workload.tasks.filter((t) => t.payload.permanent).length} fail permanently, ` +
      `${workload.tasks.filter((t) => t.payload.failTimes > 0).length} fail 1–3 times first)`,
    `  duplicate sends  ${workload.duplicates.sameBody} same body, ${workload.duplicates.sameKey} same key, ` +
      `${workload.duplicates.late} same key later`,
    `  faults DynamoDB  ${wire(proxies.dynamodb)}`,
    `  faults SQS       ${wire(proxies.sqs)}`,
    `  faults runner    ${injected.crashBeforeAck} crash-before-ack, ${injected.timeout} timeout ` +
      `(${injected.killedMidHandler} killed mid-handler), ` +
      `${injected.duplicateDeliveries} duplicate deliveries (${injected.duplicatedMessages} messages)`,
    `  retries          ${metric('TaskRetried')} failed attempts retried with backoff; ` +
      `${stats.reduce((n, s) => n + s.failed, 0)} records left for redelivery`,
    `  duplicates       ${metric('TaskDuplicate')} acknowledged as already done, ` +
      `${metric('TaskDeferred')} deferred while another copy held the lock`,
    `  succeeded        ${outcome.succeeded}: lock ${fx.lockOnce} exactly once, ${fx.lockAfterKill} again after ` +
      `a mid-handler kill (the at-least-once floor), ${fx.lockRepeated} more often otherwise; ` +
      `once ${fx.onceOnce} exactly once, ${fx.onceConcurrent} more often but only alongside another run ` +
      `(its contract), ${fx.onceAfterKill} again after a mid-handler kill, ${fx.onceAfterCompletion} again ` +
      'after a completion',
    `  dead-lettered    ${outcome.deadLettered.tasks} tasks, ${outcome.deadLettered.letters} letters ` +
      JSON.stringify(outcome.deadLettered.byReason),
    `  lost             ${outcome.lost}`,
  ];
  console.info(lines.join('\n'));
}
