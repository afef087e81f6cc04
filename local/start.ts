import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { connect } from '../cli/connect.js';
import { type Dashboard, startDashboard } from '../dashboard/server.js';
import { type DeadLetterInfo, peekDeadLetters } from '../shared/dlq/index.js';
import { LOCAL_MONITOR_FILE } from '../shared/monitoring/activity.js';
import { localClientConfig } from './emulators.js';
import { startLiveView, taskTable } from './live-view.js';
import { startMonitorFile } from './monitor-file.js';
import { type LocalStack, startLocalStack } from './stack.js';
import { type TaskCounts, tapTaskMetrics } from './task-metrics-tap.js';

const USAGE = `Usage: npm start -- [options]

Runs the synthesized tierq stack on this machine (SQS and DynamoDB emulators, the consumer bundle
polled like Lambda's SQS event source) and, by default, a demo workload.

  --no-demo            run the stack alone; send your own tasks to the URLs in .tierq/local.json
  --duration <s>       stop by itself after <s> seconds (CI smoke tests)
  --assembly <dir>     use an existing cloud assembly (e.g. cdk.out) instead of running cdk synth
  --log-level <level>  Powertools log level of the functions (default WARN; ERROR with the demo,
                       whose failures are on purpose and summed up in the live view)
  --queue <path|id>    the task queue to run (construct path or id) when the app has several
                       stacks or queues; it is also the first in .tierq/local.json
  --no-iam             do not evaluate requests against the template's IAM policies (enforced by
                       default; needs the dev dependency @cloud-copilot/iam-simulate)
  --no-dashboard       do not serve the dashboard (tierq dashboard) beside the stack
  --dashboard-port <n> the dashboard's port on 127.0.0.1 (default: any free port)
  -h, --help           show this help`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      'no-demo': { type: 'boolean', default: false },
      'no-iam': { type: 'boolean', default: false },
      'no-dashboard': { type: 'boolean', default: false },
      'dashboard-port': { type: 'string' },
      queue: { type: 'string' },
      duration: { type: 'string' },
      assembly: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const duration = values.duration === undefined ? undefined : Number(values.duration);
  if (duration !== undefined && !(duration > 0))
    throw new Error(`--duration must be a positive number of seconds, got "${values.duration}"`);
  const port = values['dashboard-port'] === undefined ? undefined : Number(values['dashboard-port']);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535))
    throw new Error(`--dashboard-port must be a port from 0 to 65535, got "${values['dashboard-port']}"`);
  return { ...values, duration, dashboardPort: port };
}

const log = (line: string) => process.stdout.write(`› ${line}\n`);

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  // The consumer's EMF metrics feed the live view's task table; the tap keeps them off the terminal.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'false';
  const metrics = tapTaskMetrics();

  // Installed before start-up, so a Ctrl-C during synth still shuts down cleanly.
  let stack: LocalStack | undefined;
  let view: { stop(): void } | undefined;
  let monitor: { stop(): Promise<void> } | undefined;
  let dashboard: Dashboard | undefined;
  let shuttingDown = false;
  const shutdown = async (reason: string, code: number) => {
    if (shuttingDown) {
      log('Stopping now without waiting');
      process.exit(130);
    }
    shuttingDown = true;
    log(`${reason}: stopping (waiting for running invocations; press Ctrl-C again to force)`);
    // The view stops first: a frame sampled during the peek would show the DLQ briefly empty.
    view?.stop();
    await dashboard?.stop();
    await monitor?.stop();
    let letters: DeadLetterInfo[] | string = [];
    try {
      // Peeked while the emulator still runs; the DLQ is not polled, so nothing competes for it.
      letters = stack
        ? await peekDeadLetters({
            sqs: new SQSClient(localClientConfig(stack.endpoints.sqs)),
            dlqUrl: stack.dlq,
          })
        : [];
    } catch (error) {
      letters = `could not read the DLQ: ${String(error)}`;
    }
    try {
      await stack?.stop();
    } finally {
      metrics.release();
      log(summary(stack, metrics.counts(), letters));
      process.exit(code);
    }
  };
  process.on('SIGINT', () => void shutdown('Interrupted', 0));
  process.on('SIGTERM', () => void shutdown('Terminated', 0));

  try {
    stack = await startLocalStack({
      demo: !options['no-demo'],
      iam: !options['no-iam'],
      ...(options.queue ? { queue: options.queue } : {}),
      ...(options.assembly ? { assemblyDir: options.assembly } : {}),
      logLevel: options['log-level'] ?? (options['no-demo'] ? 'WARN' : 'ERROR'),
      onProgress: log,
    });
  } catch (error) {
    process.stderr.write(
      `tierq local: could not start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  }
  if (shuttingDown) return;
  for (const [tier, url] of Object.entries(stack.queues)) log(`${tier.padEnd(10)} ${url}`);
  log(`${'dlq'.padEnd(10)} ${stack.dlq}`);
  log(`${'table'.padEnd(10)} ${stack.table}`);
  view = startLiveView({ stack, taskCounts: metrics.counts });
  // For `tierq status` and the dashboard: what SQS does not report (oldest ages, the consumer's figures).
  monitor = startMonitorFile({
    path: LOCAL_MONITOR_FILE,
    stack,
    counts: metrics.counts,
    latencies: metrics.latencies,
  });
  if (!options['no-dashboard']) {
    // The page acts as `tierq dashboard` would: the operator, through .tierq/local.json, for the
    // queue this runner put first there (the one `--queue` chose, else the template's first).
    const queue = options.queue ?? stack.taskQueues?.[0]?.path;
    try {
      dashboard = await startDashboard({
        target: await connect(queue === undefined ? {} : { queue }),
        ...(options.dashboardPort === undefined ? {} : { port: options.dashboardPort }),
      });
      log(`${'dashboard'.padEnd(10)} ${dashboard.url}`);
    } catch (error) {
      log(`dashboard not started: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (options.duration !== undefined) {
    setTimeout(() => void shutdown(`${options.duration} s elapsed`, 0), options.duration * 1000).unref();
  }
}

/** How many dead letters the summary lists one by one; the rest are counted by reason. */
const LISTED_DEAD_LETTERS = 6;

function summary(
  stack: LocalStack | undefined,
  counts: TaskCounts,
  letters: readonly DeadLetterInfo[] | string,
): string {
  if (stack === undefined) return 'Stopped';
  const totals = stack.stats().reduce(
    (t, s) => ({
      batches: t.batches + s.batches,
      acked: t.acked + s.succeeded,
      retried: t.retried + s.failed,
      wholeBatch: t.wholeBatch + s.errors + s.timeouts + s.malformed,
    }),
    { batches: 0, acked: 0, retried: 0, wholeBatch: 0 },
  );
  const lines = [
    `Stopped: ${totals.batches} batches, ${totals.acked} records acknowledged, ${totals.retried} left ` +
      `for redelivery (retries), ${totals.wholeBatch} whole-batch failures; emulators stopped`,
    `AWS rules: ${stack.gatewayStats().requests} requests, ${stack.gatewayStats().denied} denied by IAM, ` +
      `${stack.gatewayStats().visibilityRefused} visibility changes past 12 h refused`,
    ...taskTable(counts).map((line) => `  ${line}`),
  ];
  if (typeof letters === 'string') return [...lines, letters].join('\n');
  const byReason = new Map<string, number>();
  for (const l of letters) byReason.set(l.reason, (byReason.get(l.reason) ?? 0) + 1);
  lines.push(
    `DLQ: ${letters.length} peeked${letters.length > 0 ? ` (${[...byReason].map(([r, n]) => `${r} ×${n}`).join(', ')})` : ''}`,
  );
  for (const l of letters.slice(0, LISTED_DEAD_LETTERS)) {
    const attempts = Number(l.attempts ?? 0);
    const what = [
      l.task ?? '(unparsed)',
      l.tier ? `on ${l.tier}` : '',
      attempts > 0 ? `after ${attempts} attempt(s)` : '',
    ]
      .filter(Boolean)
      .join(' ');
    lines.push(`  ${l.reason.padEnd(16)} ${what}: ${(l.error ?? '').slice(0, 110)}`);
  }
  return lines.join('\n');
}

await main();
