import { type Command, Option } from 'commander';
import { createProducer } from '../../shared/producer/producer.js';
import { parseDuration, parsePayload, parseTime } from '../args.js';
import type { Cli } from '../cli.js';

interface EnqueueFlags {
  payload: unknown;
  priority?: string;
  delay?: number;
  runAt?: Date;
  id?: string;
  idempotencyKey?: string;
  dedupKey?: string;
  dedupWindow: number;
  tenant?: string;
  json?: boolean;
}

/** `tierq enqueue <task>`: sends one task, printing its id (or the id it was deduplicated to). */
export function enqueueCommand(program: Command, cli: Cli): void {
  program
    .command('enqueue')
    .description('send one task to a tier queue')
    .argument('<task>', 'registered task name')
    .option('--payload <json|@file>', 'the payload, as JSON or @path to a JSON file', parsePayload, {})
    .option('--priority <tier>', 'tier to send to (default: the middle tier)')
    .addOption(
      new Option('--delay <duration>', 'run no sooner than this, e.g. 30s, 5m')
        .argParser(parseDuration)
        .conflicts('runAt'),
    )
    .option('--run-at <time>', 'run no sooner than this ISO-8601 time (any distance ahead)', parseTime)
    .option('--id <id>', 'task id (1-128 of A-Z a-z 0-9 . _ : -); default a UUID')
    .option('--idempotency-key <key>', 'run at most once per key (default: the id)')
    .option('--dedup-key <key>', 'skip the send if this key was enqueued within the window')
    .addOption(
      new Option('--dedup-window <duration>', 'deduplication window')
        .argParser(parseDuration)
        .default(60_000, '60s'),
    )
    .option('--tenant <tenant>', "who the task is for (per-tenant limits; SQS's MessageGroupId)")
    .option('--json', 'print the result as JSON')
    .action(async (task: string, flags: EnqueueFlags, command: Command) => {
      const target = await cli.connect(command);
      const producer = createProducer({ ...target.connection, sqs: target.sqs, dynamodb: target.dynamodb });
      const result = await cli.input(() =>
        producer.enqueue(task, flags.payload, {
          ...(flags.priority === undefined ? {} : { priority: flags.priority }),
          ...(flags.delay === undefined ? {} : { delay: flags.delay }),
          ...(flags.runAt === undefined ? {} : { runAt: flags.runAt }),
          ...(flags.id === undefined ? {} : { id: flags.id }),
          ...(flags.idempotencyKey === undefined ? {} : { idempotencyKey: flags.idempotencyKey }),
          ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
          ...(flags.dedupKey === undefined
            ? {}
            : {
                dedup: {
                  key: flags.dedupKey,
                  windowSeconds: Math.max(1, Math.round(flags.dedupWindow / 1000)),
                },
              }),
        }),
      );
      if (flags.json) return cli.out.json(result);
      const { out } = cli;
      if (result.status === 'sent') out.line(out.style('green', 'sent'), result.id);
      else if (result.status === 'deduplicated') {
        out.line(
          out.style('yellow', 'deduplicated:'),
          `task ${result.dedupOf} was enqueued under "${flags.dedupKey}" within the window; nothing sent`,
        );
      } else out.line(out.style('yellow', 'dropped:'), `tier ${result.tier} is full; nothing sent`);
    });
}
