import { type Command, Option } from 'commander';
import { type QueueSnapshot, snapshot } from '../../shared/monitoring/snapshot.js';
import { listBreakers } from '../../shared/stores/breaker-admin.js';
import { parseDuration } from '../args.js';
import type { Cli } from '../cli.js';
import { type Output, table } from '../output.js';
import { type BreakerView, breakerRows, breakerView } from './breaker.js';

/** The `--json` shape, as documented: per-tier counts and the DLQ depth (plus per-minute counts when known). */
/** The breakers, or why they could not be read (status still shows the queues). */
type Breakers = readonly BreakerView[] | { readonly error: string };

function asJson(s: QueueSnapshot, breakers: Breakers) {
  return {
    tiers: s.tiers,
    dlq: { visible: s.dlq.visible },
    ...(s.perMinute === undefined ? {} : { perMinute: s.perMinute }),
    ...('error' in breakers ? { breakersError: breakers.error } : { breakers }),
  };
}

function render(out: Output, s: QueueSnapshot, breakers: Breakers, description: string): string[] {
  const age = (seconds: number | null) => (seconds === null ? '-' : `${seconds}s`);
  const rows: (string | number)[][] = [['tier', 'visible', 'in flight', 'delayed', 'oldest']];
  for (const [tier, t] of Object.entries(s.tiers))
    rows.push([tier, t.visible, t.inFlight, t.delayed, age(t.oldestAgeSeconds)]);
  const [header = '', ...body] = table(rows);
  const dlq = s.dlq.visible > 0 ? out.style('red', String(s.dlq.visible)) : String(s.dlq.visible);
  const lines = [out.style('bold', header), ...body, '', `dead-letter queue: ${dlq}`];
  lines.push(
    s.perMinute === undefined
      ? 'last minute: not available (no CloudWatch data, or the local stack is not writing .tierq/monitor.json)'
      : `last minute: ${s.perMinute.completed} completed, ${s.perMinute.failed} failed attempts`,
  );
  if ('error' in breakers) lines.push('', `circuit breakers: could not be read (${breakers.error})`);
  else if (breakers.length > 0) lines.push('', ...breakerRows(out, breakers));
  return [out.style('dim', description), ...lines];
}

/** `tierq status`: depth, in flight, delayed and oldest age per tier; DLQ depth; per-minute counts. */
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
        const [s, stored] = await Promise.all([
          snapshot({
            sqs: target.sqs,
            queues: target.connection.queues,
            dlqUrl: target.connection.dlq,
            activity: target.activity,
          }),
          listBreakers({ client: target.dynamodb, tableName: target.connection.table }).catch(
            (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
          ),
        ]);
        const nowMs = Date.now();
        const breakers: Breakers = 'error' in stored ? stored : stored.map((b) => breakerView(b, nowMs));
        if (flags.json)
          return out.stream.write(
            `${JSON.stringify(asJson(s, breakers), null, flags.watch ? undefined : 2)}\n`,
          );
        const lines = render(out, s, breakers, `${target.description} at ${new Date().toISOString()}`);
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
