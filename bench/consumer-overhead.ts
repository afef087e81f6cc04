import { performance } from 'node:perf_hooks';
import type { SQSEvent } from 'aws-lambda';
import { lambdaContext, sqsRecord, taskBody } from '../test/helpers/sqs-event.js';
import { renderConsumerOverhead } from './consumer-overhead-report.js';
import {
  type ConsumerVariant,
  consumerQueues,
  createVariant,
  VARIANTS,
  type VariantName,
} from './consumer-variants.js';
import type { BenchContext, Benchmark } from './lib/benchmark.js';
import { diffTallies, RequestCounter, type Tallies, totalRequests } from './lib/counting.js';
import { interleave } from './lib/interleave.js';
import { largestItemBytes, sqsClient } from './lib/resources.js';
import { pairedRatios, type RatioSummary, type Summary, summarize, unionLength } from './lib/stats.js';

const BATCH_SIZE = 10;
const WARMUP_ROUNDS = 30;
const ROUNDS = 500;

/** Figures of one variant; per-task figures divide by the tasks of the measured batches. */
export interface VariantFigures {
  readonly name: VariantName;
  readonly description: string;
  readonly batches: number;
  readonly latencyMs: Summary;
  /** CPU time of this process per batch (user + system). */
  readonly cpuMs: Summary;
  /** Wall time per batch during which at least one DynamoDB request was in flight. */
  readonly dynamoWallMs: Summary;
  /** The rest of the batch's latency: no DynamoDB request in flight, only this process working. */
  readonly noDynamoMs: Summary;
  readonly dynamoRequestsPerTask: number;
  readonly dynamoByOperationPerTask: Record<string, number>;
  readonly sqsRequestsPerTask: number;
  /** Capacity units DynamoDB Local reported (ReturnConsumedCapacity: TOTAL), per task. */
  readonly reportedCapacityPerTask: number;
  /** Largest item written, bytes: one write unit covers 1 KB, one read unit 4 KB. */
  readonly largestItemBytes: number;
  /** On-demand units per task by AWS's rules applied to the counted items and item size (a BatchWriteItem bills each item). */
  readonly writeUnitsPerTask: number;
  readonly readUnitsPerTask: number;
}

/** The result of the consumer-overhead benchmark. */
export interface ConsumerOverheadResult {
  readonly batchSize: number;
  readonly warmupRounds: number;
  readonly rounds: number;
  readonly variants: VariantFigures[];
  /** Per round, tierq ÷ baseline latency; the median and quartiles of those paired ratios. */
  readonly pairedLatencyRatio: Record<string, RatioSummary>;
}

async function run(context: BenchContext): Promise<ConsumerOverheadResult> {
  const { endpoints, progress } = context;
  const sqsCounter = new RequestCounter();
  const sqs = sqsCounter.attach(sqsClient(endpoints));
  const queues = await consumerQueues(sqs);
  const variants = new Map<VariantName, ConsumerVariant>();
  for (const name of VARIANTS)
    variants.set(name, await createVariant(name, endpoints, queues.config, sqs, sqsCounter));

  const samples = new Map(
    VARIANTS.map((n) => [
      n,
      { latency: [] as number[], cpu: [] as number[], wall: [] as number[], idle: [] as number[] },
    ]),
  );
  const before = new Map<VariantName, Tallies>();
  const lastBodies = new Map<VariantName, string[]>();
  const batch = async (variant: ConsumerVariant, record: boolean, bodies?: string[]) => {
    const arn = queues.arn;
    const texts =
      bodies ??
      Array.from({ length: BATCH_SIZE }, (_, n) =>
        taskBody('noop', { n }, { enqueuedAt: new Date().toISOString() }),
      );
    lastBodies.set(variant.name, texts);
    const event: SQSEvent = { Records: texts.map((body) => ({ ...sqsRecord(body), eventSourceARN: arn })) };
    const sqsAtStart = sqsCounter.total();
    variant.dynamodb.takeIntervals();
    const cpu = process.cpuUsage();
    const start = performance.now();
    const response = await variant.handler(event, lambdaContext());
    const latency = performance.now() - start;
    const used = process.cpuUsage(cpu);
    if (response.batchItemFailures.length > 0 || sqsCounter.total() !== sqsAtStart) {
      throw new Error(`${variant.name}: a batch was not processed cleanly: ${JSON.stringify(response)}`);
    }
    if (!record) return;
    const s = samples.get(variant.name);
    s?.latency.push(latency);
    s?.cpu.push((used.user + used.system) / 1000);
    const wall = unionLength(variant.dynamodb.takeIntervals());
    s?.wall.push(wall);
    s?.idle.push(latency - wall);
  };

  const all = [...variants.values()];
  await interleave(all, WARMUP_ROUNDS, async (variant, i) => {
    progress.update(`warm-up round ${i + 1}/${WARMUP_ROUNDS}`);
    await batch(variant, false);
  });
  for (const v of all) before.set(v.name, v.dynamodb.snapshot());
  const sqsBefore = sqsCounter.total();
  await interleave(all, ROUNDS, async (variant, i) => {
    progress.update(`round ${i + 1}/${ROUNDS} · ${variant.name}`);
    await batch(variant, true);
  });

  const after = new Map(all.map((v) => [v.name, v.dynamodb.snapshot()]));
  const sqsAfter = sqsCounter.total();
  // Sanity: each variant really is idempotent. The last batch, delivered again (new messages,
  // same task ids and payloads), must be acknowledged without running a task.
  for (const v of all) {
    const ran = v.runs();
    await batch(v, false, lastBodies.get(v.name));
    if (v.runs() !== ran) throw new Error(`${v.name}: a redelivered duplicate ran again`);
  }

  const tasks = ROUNDS * BATCH_SIZE;
  const figures: VariantFigures[] = [];
  for (const v of all) {
    const spent = diffTallies(after.get(v.name) ?? {}, before.get(v.name) ?? {});
    const itemBytes = await largestItemBytes(v.client, v.table);
    const writes = Object.values(spent).reduce((sum, t) => sum + t.writeItems, 0);
    const readUnits = Object.values(spent).reduce((sum, t) => sum + t.consistentKeys + t.eventualKeys / 2, 0);
    const s = samples.get(v.name) as { latency: number[]; cpu: number[]; wall: number[]; idle: number[] };
    figures.push({
      name: v.name,
      description: v.description,
      batches: ROUNDS,
      latencyMs: summarize(s.latency),
      cpuMs: summarize(s.cpu),
      dynamoWallMs: summarize(s.wall),
      noDynamoMs: summarize(s.idle),
      dynamoRequestsPerTask: totalRequests(spent) / tasks,
      dynamoByOperationPerTask: Object.fromEntries(
        Object.entries(spent)
          .filter(([, t]) => t.requests > 0)
          .map(([op, t]) => [op, t.requests / tasks]),
      ),
      // The consumers share one SQS client; any request at all fails the batch check above.
      sqsRequestsPerTask: (sqsAfter - sqsBefore) / (tasks * all.length),
      reportedCapacityPerTask: Object.values(spent).reduce((sum, t) => sum + t.reportedCapacity, 0) / tasks,
      largestItemBytes: itemBytes,
      writeUnitsPerTask: (writes * Math.max(1, Math.ceil(itemBytes / 1024))) / tasks,
      readUnitsPerTask: (readUnits * Math.max(1, Math.ceil(itemBytes / 4096))) / tasks,
    });
  }
  const base = samples.get('powertools')?.latency ?? [];
  const pairedLatencyRatio: ConsumerOverheadResult['pairedLatencyRatio'] = {};
  for (const name of VARIANTS.filter((n) => n !== 'powertools')) {
    pairedLatencyRatio[name] = pairedRatios(samples.get(name)?.latency ?? [], base);
  }
  for (const v of all) v.client.destroy();
  sqs.destroy();
  return {
    batchSize: BATCH_SIZE,
    warmupRounds: WARMUP_ROUNDS,
    rounds: ROUNDS,
    variants: figures,
    pairedLatencyRatio,
  };
}

/** Consumer overhead: tierq's middleware chain against the Powertools baseline, batch by batch. */
export const consumerOverhead: Benchmark<ConsumerOverheadResult> = {
  name: 'consumer-overhead',
  title: 'Consumer overhead',
  run,
  render: renderConsumerOverhead,
};
