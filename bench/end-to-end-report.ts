import type { EndToEndResult } from './end-to-end.js';
import type { TimeBreakdown } from './end-to-end-analysis.js';
import { fmt, table } from './lib/benchmark.js';

/**
 * The end-to-end result as Markdown: the run against the ceiling, then where a batch's time went.
 *
 * @example
 * console.log(renderEndToEnd(result));
 */
export function renderEndToEnd(r: EndToEndResult): string {
  const b = r.breakdown;
  const c = r.ceiling;
  const perTask = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([op, n]) => `${op} ${fmt(n, 3)}`)
      .join(', ');
  return [
    table(
      ['measure', 'value'],
      [
        ['tasks through the stack', `${r.tasks} × ${r.task}`],
        ['tasks/s (first enqueue → last delete)', fmt(r.tasksPerSecond, 0)],
        ['enqueue (enqueueMany) / whole run, s', `${fmt(r.enqueueSeconds, 1)} / ${fmt(r.totalSeconds, 1)}`],
        [
          'failed records, redeliveries, dead letters',
          `${r.failedRecords}, ${r.recordsDelivered - r.tasks}, ${r.deadLettered}`,
        ],
        [
          'raw SQS send+receive+delete, msg/s: before / after the stack → mean',
          `${fmt(c.sqs[0].roundTripPerSecond, 0)} / ${fmt(c.sqs[1].roundTripPerSecond, 0)} → ${fmt(c.sqsRoundTripPerSecond, 0)}`,
        ],
        [
          'raw conditional PutItem/s (16 in flight): before / after → mean',
          `${fmt(c.dynamodb[0].conditionalPutsPerSecond, 0)} / ${fmt(c.dynamodb[1].conditionalPutsPerSecond, 0)} → ${fmt(c.conditionalPutsPerSecond, 0)}`,
        ],
        [
          `combined ceiling (SQS trip + ${fmt(c.writesPerTask, 2)} write requests per task), tasks/s`,
          fmt(c.combinedTasksPerSecond, 0),
        ],
        ['tierq ÷ combined ceiling', `${fmt(c.ratioToCombined * 100, 0)} %`],
        ['SQS requests per task', perTask(r.counts.sqsPerTask)],
        ['DynamoDB requests per task', perTask(r.counts.dynamoPerTask)],
        [
          'Lambda invocations per task (mean batch size)',
          `${fmt(b.batches / r.tasks, 3)} (${fmt(b.meanBatchSize, 1)})`,
        ],
        ['pollers (sum of MaximumConcurrency)', String(b.pollers)],
        ['functions run on', r.sandboxes.node],
        [
          'sandboxes warm at the start / started cold during the run',
          `${r.sandboxes.warm} / ${r.sandboxes.coldStartsInWindow}`,
        ],
        [
          'runner process (fauxqs + pollers + producer): event loop busy / CPU cores used',
          `${fmt(r.eventLoopUtilization * 100, 0)} % / ${fmt(r.nodeCpuCores, 2)}`,
        ],
        ['function sandboxes: CPU cores used', fmt(r.sandboxes.cpuCores, 2)],
        [
          'DynamoDB Local (java): CPU cores used',
          r.dynamoDbLocalCpuCores === undefined ? 'not found' : fmt(r.dynamoDbLocalCpuCores, 2),
        ],
        [
          'whole machine: CPU cores used (every process) / of which outside the stack (other jobs, kernel)',
          `${fmt(r.machineCpuCores, 2)} / ${fmt(r.machineCpuCores - r.nodeCpuCores - r.sandboxes.cpuCores - (r.dynamoDbLocalCpuCores ?? 0), 2)}`,
        ],
        [
          'CPU ms per task: runner process / sandboxes / DynamoDB Local',
          `${fmt(r.cpuMsPerTask.runner, 2)} / ${fmt(r.cpuMsPerTask.sandboxes, 2)} / ${optional(r.cpuMsPerTask.dynamoDbLocal)}`,
        ],
        [
          'CPU ms of the ceilings: per SQS round trip (fauxqs + client) / DynamoDB Local per conditional put',
          `${fmt((c.sqs[0].cpuMsPerRoundTrip + c.sqs[1].cpuMsPerRoundTrip) / 2, 2)} / ${optional(mean(c.dynamodb.map((d) => d.serverCpuMsPerPut)))}`,
        ],
      ],
    ),
    '',
    table(
      ['per batch (mean)', 'ms', 'share of poller time'],
      [
        ['ReceiveMessage (incl. long-poll wait)', fmt(b.receiveMsPerBatch, 1), pct(b.receiveMsPerBatch, b)],
        ['invocation (handler)', fmt(b.invocationMsPerBatch, 1), pct(b.invocationMsPerBatch, b)],
        [
          `  DynamoDB request time, summed over the batch's parallel requests (mean latency ${fmt(b.dynamoMeanLatencyMs, 1)} ms)`,
          fmt(b.dynamoRequestMsPerBatch, 1),
          '',
        ],
        ['DeleteMessageBatch', fmt(b.deleteMsPerBatch, 1), pct(b.deleteMsPerBatch, b)],
      ],
    ),
  ].join('\n');
}

function optional(value: number | undefined): string {
  return value === undefined ? 'n/a' : fmt(value, 2);
}

function mean(values: readonly (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0) / known.length;
}

function pct(part: number, b: TimeBreakdown): string {
  return `${fmt((100 * part) / (b.receiveMsPerBatch + b.invocationMsPerBatch + b.deleteMsPerBatch), 0)} %`;
}
