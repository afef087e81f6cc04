import { type Command, Option } from 'commander';
import type { ActivitySource } from '../../shared/monitoring/activity.js';
import { type QueueSnapshot, snapshot } from '../../shared/monitoring/snapshot.js';
import type { PauseNote } from '../../shared/pause/pause-notes.js';
import { type PauseStatus, pauseStatus } from '../../shared/pause/pause-status.js';
import { listBreakers } from '../../shared/stores/breaker-admin.js';
import { parseDuration } from '../args.js';
import type { Cli } from '../cli.js';
import type { Target } from '../connect.js';
import { type Output, table } from '../output.js';
import { type BreakerView, breakerRows, breakerView } from './breaker.js';

/** Pauses as read, or why they could not be. */
type Pauses = PauseStatus | { readonly error: string };
/** The circuit breakers, or why they could not be read. */
type Breakers = readonly BreakerView[] | { readonly error: string };

/**
 * The `--json` shape, as documented: per-tier counts, the DLQ depth, paused tasks and tiers, the
 * circuit breakers (each, or the error reading them), plus per-minute counts when known.
 */
export function asJson(s: QueueSnapshot, paused: Pauses, breakers: Breakers) {
  return {
    tiers: s.tiers,
    dlq: { visible: s.dlq.visible },
    paused,
    breakers,
    ...(s.perMinute === undefined ? {} : { perMinute: s.perMinute }),
  };
}

function pauseLines(out: Output, paused: Pauses): string[] {
  if ('error' in paused) return [`paused: ${out.style('red', `could not read (${paused.error})`)}`];
  if (paused.tasks.length === 0 && paused.tiers.length === 0) return ['paused: none'];
  const by = (n: Partial<PauseNote>) =>
    n.pausedAt === undefined
      ? ''
      : `since ${n.pausedAt} by ${n.pausedBy}${n.reason === undefined ? '' : `: ${n.reason}`}`;
  const rows: string[][] = [
    ...paused.tasks.map((t) => ['task', t.name, 'paused', by(t)]),
    ...paused.tiers.map((t) => ['tier', t.name, t.state, by(t)]),
  ];
  return ['paused:', ...table(rows).map((line) => `  ${out.style('yellow', line)}`)];
}

function breakerLines(out: Output, breakers: Breakers): string[] {
  if ('error' in breakers)
    return ['', `circuit breakers: ${out.style('red', `could not read (${breakers.error})`)}`];
  return breakers.length === 0 ? [] : ['', ...breakerRows(out, breakers)];
}

function render(
  out: Output,
  s: QueueSnapshot,
  paused: Pauses,
  breakers: Breakers,
  description: string,
): string[] {
  const age = (seconds: number | null) => (seconds === null ? '-' : `${seconds}s`);
  const rows: (string | number)[][] = [['tier', 'visible', 'in flight', 'delayed', 'oldest']];
  for (const [tier, t] of Object.entries(s.tiers))
    rows.push([tier, t.visible, t.inFlight, t.delayed, age(t.oldestAgeSeconds)]);
  const [header = '', ...body] = table(rows);
  const dlq = s.dlq.visible > 0 ? out.style('red', String(s.dlq.visible)) : String(s.dlq.visible);
  const lines = [
    out.style('bold', header),
    ...body,
    '',
    `dead-letter queue: ${dlq}`,
    ...pauseLines(out, paused),
  ];
  lines.push(
    s.perMinute === undefined
      ? 'last minute: not available (no CloudWatch data, or the local stack is not writing .tierq/monitor.json)'
      : `last minute: ${s.perMinute.completed} completed, ${s.perMinute.failed} failed attempts`,
  );
  lines.push(...breakerLines(out, breakers));
  return [out.style('dim', description), ...lines];
}

/**
 * What `tierq status` shows, read at once: the queues, the pauses and the breakers. A part that
 * cannot be read comes back as `{ error }` (and `unreadable`), so the depths still show. The
 * dashboard serves the same document.
 *
 * @example
 * const { s, paused, breakers } = await readStatus(target);
 * console.log(asJson(s, paused, breakers));
 */
export async function readStatus(
  target: Target,
  activity: ActivitySource = target.activity,
): Promise<{ s: QueueSnapshot; paused: Pauses; breakers: Breakers; unreadable: boolean }> {
  let unreadable = false;
  const failed = (error: unknown) => {
    unreadable = true;
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  };
  const [s, paused, stored] = await Promise.all([
    snapshot({
      sqs: target.sqs,
      queues: target.connection.queues,
      dlqUrl: target.connection.dlq,
      activity,
    }),
    pauseStatus(
      { client: target.dynamodb, tableName: target.connection.table },
      target.lambda,
      target.connection.eventSourceMappings ?? {},
    ).catch((error: unknown): Pauses => failed(error)),
    listBreakers({ client: target.dynamodb, tableName: target.connection.table }).catch(failed),
  ]);
  const nowMs = Date.now();
  const breakers: Breakers = 'error' in stored ? stored : stored.map((b) => breakerView(b, nowMs));
  return { s, paused, breakers, unreadable };
}

/** `tierq status`: depth, in flight, delayed and oldest age per tier; DLQ depth; pauses; per-minute counts; breakers. */
export function statusCommand(program: Command, cli: Cli): void {
  program
    .command('status')
    .description('show each tier and the dead-letter queue')
    .option('--watch', 'refresh until interrupted')
    .addOption(
      new Option('--interval <duration>', 'refresh interval with --watch')
        .argParser(parseDuration)
        .default(2_000, '2s'),
    )
    .option('--json', 'print as JSON (one document per refresh with --watch)')
    .action(async (flags: { watch?: boolean; interval: number; json?: boolean }, command: Command) => {
      const target = await cli.connect(command);
      const { out } = cli;
      const once = async () => {
        const { s, paused, breakers, unreadable } = await readStatus(target);
        if (unreadable && !flags.watch) process.exitCode = 1;
        if (flags.json)
          return out.stream.write(
            `${JSON.stringify(asJson(s, paused, breakers), null, flags.watch ? undefined : 2)}\n`,
          );
        const lines = render(
          out,
          s,
          paused,
          breakers,
          `${target.description} at ${new Date().toISOString()}`,
        );
        // On a terminal, --watch redraws in place; piped, it appends one block per refresh.
        if (flags.watch && out.colour) out.stream.write('\x1b[2J\x1b[H');
        out.stream.write(`${lines.join('\n')}\n${flags.watch && !out.colour ? '\n' : ''}`);
      };
      await once();
      if (!flags.watch) return;
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, flags.interval));
        await once();
      }
    });
}
