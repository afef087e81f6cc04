import { createInterface } from 'node:readline/promises';
import { SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import { peekDeadLetters, purgeDeadLetters, replayDeadLetters } from '../../shared/dlq/index.js';
import { snapshot } from '../../shared/monitoring/snapshot.js';
import { parseDuration, parsePositiveInt } from '../args.js';
import type { Cli } from '../cli.js';
import { table } from '../output.js';

/** `tierq dlq peek|replay|purge`. */
export function dlqCommand(program: Command, cli: Cli): void {
  const dlq = program.command('dlq').description('inspect, replay or purge the dead-letter queue');

  dlq
    .command('peek')
    .description('list dead letters without consuming them')
    .option('--limit <n>', 'at most this many', parsePositiveInt, 20)
    .option('--json', 'print as JSON')
    .action(async (flags: { limit: number; json?: boolean }, command: Command) => {
      const target = await cli.connect(command);
      const letters = await peekDeadLetters({
        sqs: target.sqs,
        dlqUrl: target.connection.dlq,
        limit: flags.limit,
      });
      if (flags.json) {
        return cli.out.json(
          letters.map(({ id, task, tier, reason, error, attempts }) => ({
            id: id ?? null,
            task: task ?? null,
            tier: tier ?? null,
            reason,
            error: error ?? null,
            attempts: attempts ?? null,
          })),
        );
      }
      const { out } = cli;
      if (letters.length === 0) return out.line('the dead-letter queue is empty');
      const rows = [['id', 'task', 'tier', 'reason', 'attempts', 'error']];
      for (const l of letters) {
        rows.push([
          l.id ?? '-',
          l.task ?? '-',
          l.tier ?? '-',
          l.reason,
          String(l.attempts ?? '-'),
          (l.error ?? '').slice(0, 80),
        ]);
      }
      const [header = '', ...body] = table(rows);
      out.line(out.style('bold', header));
      for (const line of body) out.line(line);
    });

  dlq
    .command('replay')
    .description('send dead letters back to their tier with a fresh attempt budget')
    .option('--task <name>', 'only letters of this task')
    .option('--tier <tier>', 'only letters from this tier')
    .option('--limit <n>', 'at most this many', parsePositiveInt)
    .addOption(
      new Option(
        '--hold <duration>',
        'letters stay hidden this long while the replay runs (after an interruption, until it ends)',
      )
        .argParser(parseDuration)
        .default(60_000, '60s'),
    )
    .action(
      async (flags: { task?: string; tier?: string; limit?: number; hold: number }, command: Command) => {
        const target = await cli.connect(command);
        const { queues, dlq: dlqUrl } = target.connection;
        if (flags.tier !== undefined && !Object.hasOwn(queues, flags.tier)) {
          cli.usageError(
            command,
            `unknown tier "${flags.tier}"; the tiers are: ${Object.keys(queues).join(', ')}`,
          );
        }
        const tiers = Object.keys(queues);
        const depth = (await snapshot({ sqs: target.sqs, queues: {}, dlqUrl })).dlq.visible;
        const total = Math.min(depth, flags.limit ?? depth);
        const bar = cli.err.colour
          ? new SingleBar({ format: 'replaying [{bar}] {value}/{total} {what}', stream: cli.err.stream })
          : undefined;
        bar?.start(total, 0, { what: '' });
        const result = await replayDeadLetters({
          sqs: target.sqs,
          dlqUrl,
          queues,
          // A letter naming no tier goes to the middle one, as the producer's default.
          defaultTier: tiers[Math.floor(tiers.length / 2)] as string,
          visibilityTimeoutSeconds: Math.max(1, Math.round(flags.hold / 1000)),
          ...(flags.task === undefined ? {} : { task: flags.task }),
          ...(flags.tier === undefined ? {} : { tier: flags.tier }),
          ...(flags.limit === undefined ? {} : { limit: flags.limit }),
          onProgress: (p) => {
            const what = `${p.outcome} ${p.letter.id ?? p.letter.messageId}${p.error === undefined ? '' : ` (${String((p.error as Error).message ?? p.error)})`}`;
            if (bar === undefined) return cli.out.line(what);
            bar.setTotal(Math.max(total, p.replayed + p.skipped + p.failed));
            bar.update(p.replayed + p.skipped + p.failed, { what });
          },
        });
        bar?.stop();
        cli.out.line(`replayed ${result.replayed}, skipped ${result.skipped}, failed ${result.failed}`);
        if (result.failed > 0) process.exitCode = 1;
      },
    );

  dlq
    .command('purge')
    .description('delete dead letters for good')
    .option('--task <name>', 'only letters of this task')
    .option('--yes', 'do not ask for confirmation')
    .action(async (flags: { task?: string; yes?: boolean }, command: Command) => {
      const target = await cli.connect(command);
      const what =
        flags.task === undefined ? 'every dead letter' : `the dead letters of task "${flags.task}"`;
      if (!flags.yes) {
        if (!process.stdin.isTTY) cli.usageError(command, `refusing to delete ${what} without --yes`);
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(`Delete ${what} from ${target.description} for good? [y/N] `);
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) return cli.out.line('nothing deleted');
      }
      const deleted = await purgeDeadLetters({
        sqs: target.sqs,
        dlqUrl: target.connection.dlq,
        ...(flags.task === undefined ? {} : { task: flags.task }),
      });
      cli.out.line(deleted === 'all' ? 'purged the dead-letter queue' : `deleted ${deleted} dead letter(s)`);
    });
}
