/**
 * `tierq breaker list|open|close`: the circuit breakers' states, and an operator's override.
 */
import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  BREAKER_NAME,
  BreakerState,
  breakerStateOf,
  FOREVER,
  type StoredBreaker,
} from '../../shared/breaker.js';
import { forceBreaker, listBreakers } from '../../shared/stores/breaker-admin.js';
import { parseDuration } from '../args.js';
import type { Cli } from '../cli.js';
import { type Output, table } from '../output.js';

/** What `--json` prints for one breaker (and `tierq status --json` under `breakers`). */
export function breakerView(b: StoredBreaker, nowMs: number) {
  const state = breakerStateOf(b, nowMs);
  return {
    name: b.name,
    state,
    openUntil:
      state === BreakerState.closed
        ? null
        : b.openUntil >= FOREVER
          ? 'until closed'
          : new Date(b.openUntil).toISOString(),
    failures: b.failures,
    opens: b.opens ?? 0,
    probing: b.probeUntil !== undefined && b.probeUntil > nowMs,
    lastError: b.lastError ?? null,
    forcedBy: b.forcedBy ?? null,
  };
}
export type BreakerView = ReturnType<typeof breakerView>;

/** The breakers as table rows, for `tierq breaker list` and `tierq status`. */
export function breakerRows(out: Output, views: readonly BreakerView[]): string[] {
  if (views.length === 0) return ['no circuit breaker has recorded a failure yet'];
  const colour = { closed: 'green', open: 'red', 'half-open': 'yellow' } as const;
  const rows: string[][] = [['breaker', 'state', 'until', 'failures', 'opened', 'last error']];
  for (const v of views) {
    rows.push([
      v.name,
      v.state,
      v.openUntil ?? '-',
      String(v.failures),
      `${v.opens}×`,
      (v.lastError ?? '-').slice(0, 60),
    ]);
  }
  const [header = '', ...body] = table(rows);
  return [
    out.style('bold', header),
    ...body.map((line, i) => {
      const state = views[i]?.state ?? 'closed';
      return line.replace(state, out.style(colour[state], state));
    }),
  ];
}

/** A breaker name as a CLI argument: what `defineBreaker` accepts. */
function breakerName(value: string): string {
  if (!BREAKER_NAME.test(value)) {
    throw new InvalidArgumentError(
      'a breaker name is 1–128 letters, digits or . _ : - (as in defineBreaker).',
    );
  }
  return value;
}

/** `tierq breaker list|open|close`. */
export function breakerCommand(program: Command, cli: Cli): void {
  const breaker = program
    .command('breaker')
    .description('list the circuit breakers, or force one open or closed');
  const where = async (command: Command) => {
    const target = await cli.connect(command);
    return { client: target.dynamodb, tableName: target.connection.table };
  };
  const by = new Option('--by <name>', 'who forces it, recorded with the state').default(
    userInfo().username || 'operator',
  );

  breaker
    .command('list')
    .description('every breaker that has recorded a failure: state, open until, failures')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const nowMs = Date.now();
      const views = (await listBreakers(await where(command))).map((b) => breakerView(b, nowMs));
      if (flags.json) return cli.out.json(views);
      for (const line of breakerRows(cli.out, views)) cli.out.line(line);
    });

  breaker
    .command('open')
    .description("hold a breaker open: its tasks' records wait, without spending attempts")
    .argument('<name>', 'the breaker name', breakerName)
    .addOption(
      new Option('--for <duration>', 'how long (default: until `tierq breaker close`)').argParser(
        parseDuration,
      ),
    )
    .addOption(by)
    .action(async (name: string, flags: { for?: number; by: string }, command: Command) => {
      const nowMs = Date.now();
      await forceBreaker(await where(command), name, 'open', {
        by: flags.by,
        nowMs,
        ...(flags.for === undefined ? {} : { untilMs: nowMs + flags.for }),
      });
      const until =
        flags.for === undefined ? 'until closed' : `until ${new Date(nowMs + flags.for).toISOString()}`;
      cli.out.line(`breaker ${name} is open ${until}; consumers see it on their next batch`);
    });

  breaker
    .command('close')
    .description('close a breaker: its tasks run again, with a fresh failure window')
    .argument('<name>', 'the breaker name', breakerName)
    .addOption(by)
    .action(async (name: string, flags: { by: string }, command: Command) => {
      await forceBreaker(await where(command), name, 'closed', { by: flags.by });
      cli.out.line(`breaker ${name} is closed; its deferred records run when they come back`);
    });
}
