import type { ConsumerOverheadResult, VariantFigures } from './consumer-overhead.js';
import type { EndToEndResult } from './end-to-end.js';
import { type BenchContext, type Benchmark, fmt, table } from './lib/benchmark.js';
import type { ProducerResult } from './producer.js';

/**
 * Public us-east-1 prices used for the cost model. AWS's own pricing pages render their prices
 * client-side and could not be read from this machine, so each figure comes from a secondary
 * source (named below) and was NOT verified against a first-party AWS page.
 */
export const PRICES = {
  takenOn: '2026-11-23',
  region: 'us-east-1',
  sqsStandardPerMillionRequests: 0.4,
  dynamoOnDemandPerMillionWriteUnits: 0.625,
  dynamoOnDemandPerMillionReadUnits: 0.125,
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  /** The consumer's memory (infra/constructs/tierq-function.ts default), ARM64. */
  lambdaMemoryGb: 0.5,
  sources: [
    'SQS: cloudburn.io/blog/amazon-sqs-pricing ("US East (N. Virginia) as of March 2026")',
    'DynamoDB: airbyte.com/data-engineering-resources/dynamodb-pricing (after the Nov 2024 on-demand price cut)',
    'Lambda: wring.co/blog/aws-lambda-pricing-guide (March 2026), arm64 rate also in artillery 2.0.28 prices.js',
  ],
  verifiedFirstParty: false,
} as const;

/** One priced row, per million tasks. */
export interface CostRow {
  readonly label: string;
  readonly sqsRequests: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly invocations: number;
  /** undefined for a floor: compute time is not part of it. */
  readonly gbSeconds: number | undefined;
  readonly requestCost: number;
  readonly computeCost: number | undefined;
}

/** The result of the cost benchmark: rows per million tasks, and the prices used. */
export interface CostResult {
  readonly prices: typeof PRICES;
  readonly assumptions: string[];
  readonly rows: CostRow[];
}

const MILLION = 1_000_000;

function price(
  label: string,
  perTask: { sqs: number; wru: number; rru: number; invocations: number; gbs: number | undefined },
): CostRow {
  const requestCost =
    perTask.sqs * PRICES.sqsStandardPerMillionRequests +
    perTask.wru * PRICES.dynamoOnDemandPerMillionWriteUnits +
    perTask.rru * PRICES.dynamoOnDemandPerMillionReadUnits +
    perTask.invocations * PRICES.lambdaPerMillionRequests;
  return {
    label,
    sqsRequests: perTask.sqs * MILLION,
    writeUnits: perTask.wru * MILLION,
    readUnits: perTask.rru * MILLION,
    invocations: perTask.invocations * MILLION,
    gbSeconds: perTask.gbs === undefined ? undefined : perTask.gbs * MILLION,
    requestCost,
    computeCost: perTask.gbs === undefined ? undefined : perTask.gbs * MILLION * PRICES.lambdaArmPerGbSecond,
  };
}

async function run(context: BenchContext): Promise<CostResult> {
  const overhead = context.results['consumer-overhead'] as ConsumerOverheadResult;
  const producer = context.results.producer as ProducerResult;
  const e2e = context.results['end-to-end'] as EndToEndResult;
  const sends = (name: string) =>
    producer.variants.find((v) => v.name === name)?.sqsRequestsPerTask ?? Number.NaN;
  const invocationsPerTask = 1 / overhead.batchSize;
  // Lambda's pollers, the same for any consumer: one ReceiveMessage and one DeleteMessageBatch
  // per full batch. The end-to-end row counts them for real, empty receives included.
  const receive = invocationsPerTask;
  const remove = invocationsPerTask;
  const consumer = (v: VariantFigures, producerSends: number) => ({
    sqs: producerSends + receive + remove + v.sqsRequestsPerTask,
    wru: v.writeUnitsPerTask,
    rru: v.readUnitsPerTask,
    invocations: invocationsPerTask,
    // Billed duration ≈ the measured batch latency (mean) at the function's memory size.
    gbs: (invocationsPerTask * PRICES.lambdaMemoryGb * v.latencyMs.mean) / 1000,
  });
  const variant = (name: string) => overhead.variants.find((v) => v.name === name) as VariantFigures;
  const lockDefaults = variant('tierq-lock');
  const e2eInvocations = e2e.breakdown.batches / e2e.tasks;
  const e2eSqs = Object.values(e2e.counts.sqsPerTask).reduce((sum, n) => sum + n, 0);
  const floorSqs = 0.1 + 0.1 + 0.1;
  const rows = [
    price('tierq defaults (lock, no rate limit), enqueueMany', consumer(lockDefaults, sends('tierq'))),
    price('tierq lock + rate limit', consumer(variant('tierq-lock-rl'), sends('tierq'))),
    price('tierq once + rate limit', consumer(variant('tierq-once-rl'), sends('tierq'))),
    price(
      'baseline: Powertools consumer, sqs-producer',
      consumer(variant('powertools'), sends('sqs-producer')),
    ),
    price('tierq defaults as run end to end (tier batch sizes, echo)', {
      sqs: e2eSqs,
      // The wire trace sees requests, not the items of a BatchWriteItem: units as benchmark 1 counted them for `lock`.
      wru: lockDefaults.writeUnitsPerTask,
      rru: 0,
      invocations: e2eInvocations,
      gbs: (e2eInvocations * PRICES.lambdaMemoryGb * lockDefaults.latencyMs.mean) / 1000,
    }),
    price('floor, lock: SQS in 10s, 2 writes (acquire, complete)', {
      sqs: floorSqs,
      wru: 2,
      rru: 0,
      invocations: 0.1,
      gbs: undefined,
    }),
    price('floor, once: SQS in 10s, 1 write (completion marker)', {
      sqs: floorSqs,
      wru: 1,
      rru: 0,
      invocations: 0.1,
      gbs: undefined,
    }),
  ];
  return {
    prices: PRICES,
    assumptions: [
      `Lambda invocations: one per batch of ${overhead.batchSize} (the high/normal/low tiers' batch size); the end-to-end row uses the counted batches.`,
      'Duration: the consumer-overhead mean batch latency on DynamoDB Local, billed at 512 MB ARM64; real DynamoDB latency differs.',
      'DynamoDB units: counted items × AWS rules (1 WRU per item written of ≤ 1 KB, each item of a BatchWriteItem included; 1 RRU per strongly consistent key of ≤ 4 KB), checked against the largest item written. The end-to-end row takes its units per task from the consumer-overhead `lock` figures: its wire trace counts requests, not the items inside a BatchWriteItem.',
      'SQS: every message is far below 64 KB, so one request is one billed request; free tiers are ignored.',
      'Consumer rows: producer sends as counted by the producer benchmark, one ReceiveMessage and one DeleteMessageBatch per batch of 10 (Lambda’s pollers, alike for every consumer), plus the consumer’s own SQS requests as counted (none). The end-to-end row is counted on the wire throughout: critical batches of 5 and empty receives included.',
    ],
    rows,
  };
}

function render(result: CostResult): string {
  const usd = (v: number | undefined) => (v === undefined ? '—' : `$${fmt(v, 3)}`);
  return table(
    [
      'per million tasks',
      'SQS requests',
      'DynamoDB WRU',
      'RRU',
      'Lambda invocations',
      'GB-s',
      'requests $',
      'compute $',
      'total $',
    ],
    result.rows.map((r) => [
      r.label,
      fmt(r.sqsRequests, 0),
      fmt(r.writeUnits, 0),
      fmt(r.readUnits, 0),
      fmt(r.invocations, 0),
      r.gbSeconds === undefined ? '—' : fmt(r.gbSeconds, 0),
      usd(r.requestCost),
      usd(r.computeCost),
      usd(r.requestCost + (r.computeCost ?? 0)),
    ]),
  );
}

/** Cost per million tasks from the counted requests of the other benchmarks. */
export const cost: Benchmark<CostResult> = {
  name: 'cost',
  title: 'Cost per million tasks',
  dependsOn: ['consumer-overhead', 'producer', 'end-to-end'],
  run,
  render,
};
