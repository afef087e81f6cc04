import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type ChaosPayload, ChaosTask } from './app/tasks.js';
import { pick, shuffled } from './random.js';

/** One distinct task of the chaos run: one idempotency key. */
export interface PlannedTask {
  readonly key: string;
  readonly mode: 'lock' | 'once';
  readonly tier: string;
  readonly payload: ChaosPayload;
}

/** One message to send. */
export interface PlannedSend {
  readonly tier: string;
  readonly body: string;
}

/** A chaos run's tasks and the messages that carry them, duplicates included. */
export interface Workload {
  readonly tasks: readonly PlannedTask[];
  /** Every task once, plus its immediate duplicates, shuffled. */
  readonly first: readonly PlannedSend[];
  /** Duplicates sent once about half the tasks have run. */
  readonly late: readonly PlannedSend[];
  /** Duplicate enqueues: the same body again, or another id under the same idempotency key. */
  readonly duplicates: { readonly sameBody: number; readonly sameKey: number; readonly late: number };
}

/** Shares of the mix; the rest succeed on their first attempt. */
const PERMANENT = 0.08;
const TRANSIENT = 0.12;
const DUPLICATE_NOW = 0.16;
const DUPLICATE_LATE = 0.08;

/**
 * Plans `count` tasks across `tiers`: half `lock`, half `once`; some failing a few attempts
 * before succeeding, some failing permanently; some enqueued twice, at once or later.
 *
 * @example
 * const workload = planWorkload(2_400, stack.tiers, seededRandom(seed));
 */
export function planWorkload(count: number, tiers: readonly string[], random: () => number): Workload {
  const tasks: PlannedTask[] = [];
  const first: PlannedSend[] = [];
  const late: PlannedSend[] = [];
  let sameBody = 0;
  let sameKey = 0;
  for (let n = 0; n < count; n++) {
    const key = `chaos-${n.toString().padStart(5, '0')}`;
    const roll = random();
    const payload: ChaosPayload = {
      key,
      permanent: roll < PERMANENT,
      failTimes: roll >= PERMANENT && roll < PERMANENT + TRANSIENT ? 1 + Math.floor(random() * 3) : 0,
    };
    const task: PlannedTask = {
      key,
      mode: n % 2 === 0 ? 'lock' : 'once',
      tier: pick(random, tiers),
      payload,
    };
    tasks.push(task);
    first.push({ tier: task.tier, body: envelope(task, key) });
    const duplicate = random();
    if (duplicate < DUPLICATE_NOW) {
      // Half exact copies (a producer retrying a send), half new ids under the same key.
      const copy = random() < 0.5;
      if (copy) sameBody++;
      else sameKey++;
      first.push({ tier: pick(random, tiers), body: envelope(task, copy ? key : `${key}-again`) });
    } else if (duplicate < DUPLICATE_NOW + DUPLICATE_LATE) {
      late.push({ tier: pick(random, tiers), body: envelope(task, `${key}-late`) });
    }
  }
  return {
    tasks,
    first: shuffled(random, first),
    late,
    duplicates: { sameBody, sameKey, late: late.length },
  };
}

function envelope(task: PlannedTask, id: string): string {
  return JSON.stringify({
    v: 1,
    id,
    task: ChaosTask[task.mode],
    payload: task.payload,
    idempotencyKey: task.key,
    enqueuedAt: new Date().toISOString(),
  });
}

/**
 * Sends the messages with SendMessageBatch, 10 per request, a few requests at a time.
 *
 * @example
 * await enqueue(sqs, stack.queues, workload.first);
 */
export async function enqueue(
  sqs: SQSClient,
  queues: Readonly<Record<string, string>>,
  sends: readonly PlannedSend[],
): Promise<void> {
  const chunks: PlannedSend[][] = [];
  for (const tier of Object.keys(queues)) {
    const mine = sends.filter((s) => s.tier === tier);
    for (let i = 0; i < mine.length; i += 10) chunks.push(mine.slice(i, i + 10));
  }
  const next = async (): Promise<void> => {
    const chunk = chunks.shift();
    if (chunk === undefined) return;
    const { Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues[chunk[0]?.tier ?? ''],
        Entries: chunk.map((s, i) => ({ Id: String(i), MessageBody: s.body })),
      }),
    );
    if (Failed.length > 0) throw new Error(`SendMessageBatch failed: ${JSON.stringify(Failed)}`);
    await next();
  };
  await Promise.all(Array.from({ length: 8 }, next));
}
