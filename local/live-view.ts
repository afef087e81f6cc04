import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from './emulators.js';
import type { LocalStack } from './stack.js';
import { isMetricsLine, type TaskCounts } from './task-metrics-tap.js';

/** Options for {@link startLiveView}. */
export interface LiveViewOptions {
  readonly stack: LocalStack;
  /** Default: redraw in place on a TTY, print a line every few seconds otherwise. */
  readonly tty?: boolean;
  /** The consumer's metrics per task (see `tapTaskMetrics`); without it the task table is left out. */
  readonly taskCounts?: () => TaskCounts;
}

interface TierRow {
  tier: string;
  visible: number;
  inFlight: number;
  /** Deferred copies (rate limit, `runAt`, duplicate in progress) waiting out their DelaySeconds. */
  delayed: number;
  running: number;
  /** Records deleted after an invocation: ran, deferred, dead-lettered or found to be duplicates. */
  done: number;
  /** Records reported failed, so SQS redelivers them: retries after the backoff. */
  failed: number;
  perSecond: number;
  /** Its event source mapping is disabled (`tierq pause tier`). */
  paused: boolean;
}

/** Task metric columns of the live view and the summary, in the order shown. */
export const TASK_COLUMNS = [
  ['succeeded', 'TaskSucceeded'],
  ['retried', 'TaskRetried'],
  ['deferred', 'TaskDeferred'],
  ['rate-ltd', 'TaskRateLimited'],
  ['paused', 'TaskPaused'],
  ['duplicate', 'TaskDuplicate'],
  ['dead', 'TaskDeadLettered'],
] as const;

/** The task table: one row per task name with the {@link TASK_COLUMNS} counts. */
export function taskTable(counts: TaskCounts): string[] {
  const names = Object.keys(counts).sort();
  if (names.length === 0) return [];
  const table = [
    ['task', ...TASK_COLUMNS.map(([label]) => label)],
    ...names.map((name) => [name, ...TASK_COLUMNS.map(([, metric]) => String(counts[name]?.[metric] ?? 0))]),
  ];
  return table.map((cells) => cells.map((c, i) => (i === 0 ? c.padEnd(14) : c.padStart(10))).join(''));
}

const TTY_INTERVAL_MS = 500;
const PIPED_INTERVAL_MS = 5_000;
/** Completions per second are averaged over this window, so the figure does not flicker. */
const RATE_WINDOW_MS = 3_000;

/**
 * A dependency-free terminal view of the local stack: per tier queue depth (visible, in flight,
 * delayed), running records, acknowledgements per second and retries, the DLQ depth, alarm
 * states and, given `taskCounts`, the consumer's own counts per task (deferrals, duplicates, …).
 * On a TTY it stays at the bottom of the screen while function logs scroll above it.
 *
 * @example
 * const view = startLiveView({ stack });
 * view.stop();
 */
export function startLiveView(options: LiveViewOptions): { stop(): void } {
  const { stack } = options;
  const tty = options.tty ?? process.stdout.isTTY === true;
  const sqs = new SQSClient({ ...localClientConfig(stack.endpoints.sqs), region: stack.region });
  const started = Date.now();
  const samples: { at: number; done: Record<string, number> }[] = [];
  let rows: TierRow[] = [];
  let dlqDepth = 0;

  const depth = async (url: string) => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return {
      visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  };

  const sample = async () => {
    const stats = stack.stats();
    const now = Date.now();
    const done: Record<string, number> = {};
    const next: TierRow[] = [];
    for (const [tier, url] of Object.entries(stack.queues)) {
      const s = stats.filter((m) => m.queueUrl === url);
      const sum = (f: (m: (typeof s)[number]) => number) => s.reduce((a, m) => a + f(m), 0);
      done[tier] = sum((m) => m.succeeded);
      next.push({
        tier,
        ...(await depth(url)),
        running: sum((m) => m.inFlight),
        done: done[tier],
        failed: sum((m) => m.failed),
        perSecond: 0,
        paused: s.length > 0 && s.every((m) => m.paused),
      });
    }
    samples.push({ at: now, done });
    while (samples.length > 2 && (samples[0]?.at ?? now) < now - RATE_WINDOW_MS) samples.shift();
    const oldest = samples[0];
    for (const row of next) {
      const seconds = oldest ? (now - oldest.at) / 1000 : 0;
      row.perSecond = seconds > 0 ? (row.done - (oldest?.done[row.tier] ?? 0)) / seconds : 0;
    }
    rows = next;
    dlqDepth = (await depth(stack.dlq)).visible;
  };

  const alarms = () =>
    Object.entries(stack.alarmStates())
      .map(([id, state]) => `${id.replace(/[A-F0-9]{8}$/, '')} ${state}`)
      .join(', ');

  const clock = () => {
    const elapsed = Math.floor((Date.now() - started) / 1000);
    return `${Math.floor(elapsed / 60)}:${String(elapsed % 60).padStart(2, '0')}`;
  };

  const render = (): string => {
    const header = [
      'tier',
      'visible',
      'in-flight',
      'delayed',
      'running',
      'acked/s',
      'acked',
      'retried',
      'mapping',
    ];
    const table = [
      header,
      ...rows.map((r) =>
        [
          r.tier,
          r.visible,
          r.inFlight,
          r.delayed,
          r.running,
          r.perSecond.toFixed(1),
          r.done,
          r.failed,
          r.paused ? 'paused' : 'polling',
        ].map(String),
      ),
    ];
    const lines = table.map((cells) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(10) : c.padStart(10))).join(''),
    );
    return [
      `── ${stack.stackName} (local) · ${clock()} · alarms: ${alarms() || 'none evaluated'} ──`,
      ...lines,
      `${'DLQ'.padEnd(10)}${String(dlqDepth).padStart(10)}`,
      ...taskTable(options.taskCounts?.() ?? {}),
      'Ctrl-C to stop',
    ].join('\n');
  };

  const panel = tty ? stickyPanel(render) : undefined;
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await sample();
      if (panel) panel.draw();
      else {
        const parts = rows.map(
          (r) =>
            `${r.tier}${r.paused ? ' (paused)' : ''} ${r.visible}/${r.inFlight}/${r.delayed} acked ${r.done} (${r.perSecond.toFixed(1)}/s) retried ${r.failed}`,
        );
        process.stdout.write(`[${clock()}] ${parts.join(' | ')} | dlq ${dlqDepth}\n`);
        const counts = options.taskCounts?.() ?? {};
        const tasks = Object.keys(counts)
          .sort()
          .map((name) => {
            const c = counts[name] ?? {};
            const shown = TASK_COLUMNS.filter(([, m]) => (c[m] ?? 0) > 0).map(
              ([label, m]) => `${label} ${c[m]}`,
            );
            return `${name}: ${shown.join(', ') || '-'}`;
          });
        if (tasks.length > 0) process.stdout.write(`         ${tasks.join(' | ')}\n`);
      }
    } catch {
      // The emulator is stopping; the next tick (if any) tries again.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), tty ? TTY_INTERVAL_MS : PIPED_INTERVAL_MS);
  void tick();
  return {
    stop() {
      clearInterval(timer);
      panel?.release();
      sqs.destroy();
    },
  };
}

/**
 * Keeps a block of text at the bottom of a TTY: every write to stdout or stderr first erases
 * the block, then redraws it below what was written, so logs scroll above the panel.
 */
function stickyPanel(render: () => string) {
  type Write = typeof process.stdout.write;
  // bind() keeps the receiver but drops the overloads, hence the casts.
  const out = process.stdout.write.bind(process.stdout) as Write;
  const err = process.stderr.write.bind(process.stderr) as Write;
  let height = 0;
  const erase = () => {
    // Cursor up to the panel's first line, then clear to the end of the screen.
    if (height > 0) out(`\x1b[${height}F\x1b[0J`);
    height = 0;
  };
  const draw = () => {
    erase();
    const width = process.stdout.columns || 120;
    const text = render()
      .split('\n')
      .map((line) => line.slice(0, width - 1));
    out(`${text.join('\n')}\n`);
    height = text.length;
  };
  const wrap = (write: Write): Write =>
    ((...args: unknown[]) => {
      // EMF lines are taken off stdout by the metrics tap below: no need to redraw for them.
      if (isMetricsLine(args[0])) return (write as (...a: unknown[]) => boolean)(...args);
      erase();
      const result = (write as (...a: unknown[]) => boolean)(...args);
      draw();
      return result;
    }) as Write;
  process.stdout.write = wrap(out);
  process.stderr.write = wrap(err);
  return {
    draw,
    release() {
      process.stdout.write = out;
      process.stderr.write = err;
    },
  };
}
