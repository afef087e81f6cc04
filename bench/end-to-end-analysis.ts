import type { MappingStats } from '../local/event-source-runner.js';
import type { DynamoCeiling, SqsCeiling } from './emulator-ceiling.js';
import type { TracedRequest } from './lib/http-trace.js';

/** Where the pollers' time went, per batch, over the measured window. */
export interface TimeBreakdown {
  readonly pollers: number;
  readonly batches: number;
  readonly meanBatchSize: number;
  /** ReceiveMessage, long-poll waits on an empty queue included. */
  readonly receiveMsPerBatch: number;
  /** The rest of a poller's time: the invocation (handler) and the runner's own bookkeeping. */
  readonly invocationMsPerBatch: number;
  readonly deleteMsPerBatch: number;
  /** DynamoDB request time summed over a batch's requests (they overlap: 10 run at once). */
  readonly dynamoRequestMsPerBatch: number;
  readonly dynamoMeanLatencyMs: number;
}

/** What the stack did per task, counted on the wire (GetQueueAttributes left out, see OBSERVERS). */
export interface EndToEndCounts {
  readonly sqsPerTask: Record<string, number>;
  readonly dynamoPerTask: Record<string, number>;
}

/** The stack's rate against what the emulators can do at most. */
export interface CeilingComparison {
  /** Raw rates measured right before the stack ran and right after it stopped. */
  readonly sqs: readonly [SqsCeiling, SqsCeiling];
  readonly dynamodb: readonly [DynamoCeiling, DynamoCeiling];
  /** Means of the before and after rates: the ceiling the stack is compared with. */
  readonly sqsRoundTripPerSecond: number;
  readonly conditionalPutsPerSecond: number;
  /**
   * Write requests per task the stack made (lock mode: a conditional acquire per task, one
   * BatchWriteItem of completions per batch). A BatchWriteItem counts as one request though it
   * costs DynamoDB Local more than one put, so the ceiling is generous and the ratio conservative.
   */
  readonly writesPerTask: number;
  /**
   * Tasks/s if the emulators did nothing but tierq's requests, one after the other on the same
   * machine: 1 ÷ (1 ÷ SQS round trips/s + writes per task ÷ conditional puts/s).
   */
  readonly combinedTasksPerSecond: number;
  readonly ratioToCombined: number;
  readonly ratioToSqs: number;
  readonly ratioToDynamo: number;
}

// Not part of tierq's path: the benchmark's own completion polling and the local alarm evaluation.
const OBSERVERS = new Set(['GetQueueAttributes']);

const perTask = (requests: readonly TracedRequest[], service: TracedRequest['service'], tasks: number) => {
  const counts: Record<string, number> = {};
  for (const r of requests) {
    if (r.service === service && !OBSERVERS.has(r.operation))
      counts[r.operation] = (counts[r.operation] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([op, n]) => [op, n / tasks]));
};

const sum = (requests: readonly (TracedRequest & { end: number })[], keep: (r: TracedRequest) => boolean) =>
  requests.filter(keep).reduce((total, r) => total + (r.end - r.start), 0);

/**
 * Counts and time accounting for the window `[from, to]`: every poller loops receive → invoke →
 * delete, so its time is receive + invocation + delete; receive and delete are measured on the
 * wire, the invocation is the remainder.
 *
 * @example
 * const { counts, breakdown } = analyse(trace.between(t0, t1), stack.stats(), tasks, t0, t1);
 */
export function analyse(
  requests: readonly (TracedRequest & { end: number })[],
  stats: readonly MappingStats[],
  tasks: number,
  from: number,
  to: number,
): { counts: EndToEndCounts; breakdown: TimeBreakdown } {
  const pollers = stats.reduce((total, s) => total + s.pollers, 0);
  const batches = stats.reduce((total, s) => total + s.batches, 0);
  const records = stats.reduce((total, s) => total + s.records, 0);
  const receive = sum(requests, (r) => r.operation === 'ReceiveMessage');
  const remove = sum(requests, (r) => r.operation === 'DeleteMessageBatch');
  const dynamoRequests = requests.filter((r) => r.service === 'dynamodb');
  const dynamo = sum(dynamoRequests, () => true);
  return {
    counts: {
      sqsPerTask: perTask(requests, 'sqs', tasks),
      dynamoPerTask: perTask(requests, 'dynamodb', tasks),
    },
    breakdown: {
      pollers,
      batches,
      meanBatchSize: records / batches,
      receiveMsPerBatch: receive / batches,
      invocationMsPerBatch: (pollers * (to - from) - receive - remove) / batches,
      deleteMsPerBatch: remove / batches,
      dynamoRequestMsPerBatch: dynamo / batches,
      dynamoMeanLatencyMs: dynamo / dynamoRequests.length,
    },
  };
}

/**
 * The stack's tasks/s against the emulators' raw rates, measured before and after it ran: on a
 * shared machine the load drifts, and the mean of both sides is less biased than either.
 *
 * @example
 * const comparison = compareWithCeiling(412, [sqsBefore, sqsAfter], [ddbBefore, ddbAfter], 2);
 */
export function compareWithCeiling(
  tasksPerSecond: number,
  sqs: readonly [SqsCeiling, SqsCeiling],
  dynamodb: readonly [DynamoCeiling, DynamoCeiling],
  writesPerTask: number,
): CeilingComparison {
  const sqsRate = (sqs[0].roundTripPerSecond + sqs[1].roundTripPerSecond) / 2;
  const putRate = (dynamodb[0].conditionalPutsPerSecond + dynamodb[1].conditionalPutsPerSecond) / 2;
  const combined = 1 / (1 / sqsRate + writesPerTask / putRate);
  return {
    sqs,
    dynamodb,
    sqsRoundTripPerSecond: sqsRate,
    conditionalPutsPerSecond: putRate,
    writesPerTask,
    combinedTasksPerSecond: combined,
    ratioToCombined: tasksPerSecond / combined,
    ratioToSqs: tasksPerSecond / sqsRate,
    ratioToDynamo: tasksPerSecond / (putRate / writesPerTask),
  };
}
