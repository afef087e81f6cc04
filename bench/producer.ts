import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Producer as SqsProducer } from 'sqs-producer';
import { LOCAL_REGION } from '../local/emulators.js';
import { createProducer } from '../shared/producer/index.js';
import { type BenchContext, type Benchmark, fmt, table } from './lib/benchmark.js';
import { RequestCounter } from './lib/counting.js';
import { interleave } from './lib/interleave.js';
import { createQueue, sqsClient, uniqueName } from './lib/resources.js';
import { pairedRatios, type RatioSummary, round, type Summary, summarize } from './lib/stats.js';

const TASKS_PER_ROUND = 1_000;
const WARMUP_ROUNDS = 2;
const ROUNDS = 15;

const VARIANTS = ['tierq', 'sqs-producer', 'sqs-producer-parallel', 'naive'] as const;
type VariantName = (typeof VARIANTS)[number];
const DESCRIPTIONS: Record<VariantName, string> = {
  tierq: 'tierq `producer.enqueueMany(items)`',
  'sqs-producer': 'sqs-producer `producer.send(messages)` (one call, as documented)',
  'sqs-producer-parallel': 'sqs-producer, one `send()` per 10 messages, all at once',
  naive: 'naive loop: `await sqs.send(new SendMessageCommand(…))` per task',
};

/** Figures of one producer. */
export interface ProducerFigures {
  readonly name: VariantName;
  readonly description: string;
  readonly tasks: number;
  /** Tasks per second of each measured round. */
  readonly tasksPerSecond: Summary;
  /** tierq's rate ÷ this producer's, round by round. */
  readonly tierqPairedRatio: RatioSummary;
  readonly sqsRequestsPerTask: number;
  readonly byOperationPerTask: Record<string, number>;
}

/** The result of the producer benchmark. */
export interface ProducerResult {
  readonly tasksPerRound: number;
  readonly rounds: number;
  readonly variants: ProducerFigures[];
}

interface Variant {
  readonly name: VariantName;
  readonly counter: RequestCounter;
  readonly client: SQSClient;
  readonly url: string;
  readonly send: (payloads: readonly unknown[]) => Promise<void>;
}

/** The v1 envelope the plain SQS producers send: what tierq's producer would build. */
const envelope = (payload: unknown) =>
  JSON.stringify({ v: 1, id: randomUUID(), task: 'echo', payload, enqueuedAt: new Date().toISOString() });

async function variant(name: VariantName, context: BenchContext): Promise<Variant> {
  const counter = new RequestCounter();
  const client = counter.attach(sqsClient(context.endpoints));
  const { url } = await createQueue(client, uniqueName(`bench-producer-${name}`));
  const base = { name, counter, client, url };
  if (name === 'tierq') {
    // No dedup windows are used, so the table is never touched.
    const producer = createProducer({
      region: LOCAL_REGION,
      queues: { normal: url },
      table: 'unused',
      sqs: client,
    });
    return {
      ...base,
      send: async (payloads) => {
        const results = await producer.enqueueMany(payloads.map((payload) => ({ task: 'echo', payload })));
        const failed = results.filter((r) => r.status !== 'sent');
        if (failed.length > 0) throw new Error(`tierq: ${failed.length} tasks not sent`);
      },
    };
  }
  if (name === 'naive') {
    return {
      ...base,
      send: async (payloads) => {
        for (const payload of payloads) {
          await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: envelope(payload) }));
        }
      },
    };
  }
  const producer = SqsProducer.create({ queueUrl: url, sqs: client, batchSize: 10 });
  const messages = (payloads: readonly unknown[]) =>
    payloads.map((payload, i) => ({ id: String(i), body: envelope(payload) }));
  if (name === 'sqs-producer')
    return { ...base, send: async (payloads) => void (await producer.send(messages(payloads))) };
  return {
    ...base,
    send: async (payloads) => {
      const all = messages(payloads);
      const chunks = Array.from({ length: Math.ceil(all.length / 10) }, (_, i) =>
        all.slice(i * 10, i * 10 + 10),
      );
      await Promise.all(chunks.map((chunk) => producer.send(chunk)));
    },
  };
}

async function run(context: BenchContext): Promise<ProducerResult> {
  const variants: Variant[] = [];
  for (const name of VARIANTS) variants.push(await variant(name, context));
  const rates = new Map<VariantName, number[]>(VARIANTS.map((n) => [n, []]));
  const payloads = Array.from({ length: TASKS_PER_ROUND }, (_, n) => ({
    n,
    to: `user-${n}@example.com`,
    subject: 'x'.repeat(40),
  }));
  await interleave(variants, WARMUP_ROUNDS, async (v) => {
    context.progress.update(`warm-up · ${v.name}`);
    await v.send(payloads);
  });
  const before = new Map(variants.map((v) => [v.name, v.counter.snapshot()]));
  await interleave(variants, ROUNDS, async (v, i) => {
    context.progress.update(`round ${i + 1}/${ROUNDS} · ${v.name}`);
    const start = performance.now();
    await v.send(payloads);
    rates.get(v.name)?.push(TASKS_PER_ROUND / ((performance.now() - start) / 1000));
  });

  const check = sqsClient(context.endpoints);
  const tasks = TASKS_PER_ROUND * ROUNDS;
  const figures: ProducerFigures[] = [];
  for (const v of variants) {
    // Every message must be on its queue: a fast producer that loses messages measures nothing.
    const { Attributes } = await check.send(
      new GetQueueAttributesCommand({ QueueUrl: v.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    const expected = TASKS_PER_ROUND * (ROUNDS + WARMUP_ROUNDS);
    if (Number(Attributes?.ApproximateNumberOfMessages) !== expected) {
      throw new Error(
        `${v.name}: ${Attributes?.ApproximateNumberOfMessages} messages on the queue, expected ${expected}`,
      );
    }
    const spent = v.counter.snapshot();
    const old = before.get(v.name) ?? {};
    const byOperationPerTask = Object.fromEntries(
      Object.entries(spent).map(([op, t]) => [op, round((t.requests - (old[op]?.requests ?? 0)) / tasks, 4)]),
    );
    figures.push({
      name: v.name,
      description: DESCRIPTIONS[v.name],
      tasks,
      tasksPerSecond: summarize(rates.get(v.name) ?? []),
      tierqPairedRatio: pairedRatios(rates.get('tierq') ?? [], rates.get(v.name) ?? []),
      sqsRequestsPerTask: Object.values(byOperationPerTask).reduce((a, b) => a + b, 0),
      byOperationPerTask,
    });
    v.client.destroy();
  }
  check.destroy();
  return { tasksPerRound: TASKS_PER_ROUND, rounds: ROUNDS, variants: figures };
}

function render(result: ProducerResult): string {
  return table(
    [
      'producer',
      'tasks/s (median of rounds)',
      'min–max',
      'tierq ÷ this, per round: median (p25–p75)',
      'SQS requests/task',
    ],
    result.variants.map((v) => [
      v.description,
      fmt(v.tasksPerSecond.p50, 0),
      `${fmt(v.tasksPerSecond.min, 0)}–${fmt(v.tasksPerSecond.max, 0)}`,
      v.name === 'tierq'
        ? '—'
        : `${fmt(v.tierqPairedRatio.p50, 2)}× (${fmt(v.tierqPairedRatio.p25, 2)}–${fmt(v.tierqPairedRatio.p75, 2)})`,
      fmt(v.sqsRequestsPerTask, 3),
    ]),
  );
}

/** Producer: enqueueMany against sqs-producer and a naive loop on the same fauxqs. */
export const producer: Benchmark<ProducerResult> = { name: 'producer', title: 'Producer', run, render };
