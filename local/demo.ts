import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from './emulators.js';

/** Options for {@link startDemo}. */
export interface DemoOptions {
  readonly region: string;
  readonly sqsEndpoint: string;
  /** Queue URL per tier, highest priority first. */
  readonly queues: Readonly<Record<string, string>>;
  /** Sends as this principal (the stack's producer) when given. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Steady echo/sleep/flaky messages per second across all tiers. Default 8. */
  readonly ratePerSecond?: number;
  /** Seconds between scripted rounds (limited burst, delayed, duplicate, poison). Default 30. */
  readonly roundSeconds?: number;
  readonly log?: (line: string) => void;
}

/** A message to send: its tier and its raw body (poison bodies are not envelopes). */
interface Outgoing {
  readonly tier: string;
  readonly body: string;
}

interface EnvelopeExtras {
  readonly runAt?: Date;
  readonly idempotencyKey?: string;
}

/** A v1 message as any producer would write it, with nothing but the SDK. */
function envelope(task: string, payload: unknown, extras: EnvelopeExtras = {}): string {
  return JSON.stringify({
    v: 1,
    id: randomUUID(),
    task,
    payload,
    enqueuedAt: new Date().toISOString(),
    ...(extras.runAt ? { runAt: extras.runAt.toISOString() } : {}),
    ...(extras.idempotencyKey ? { idempotencyKey: extras.idempotencyKey } : {}),
  });
}

const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

/** Tiers get steady traffic in proportion to these weights, highest tier first; the last repeats. */
const TIER_WEIGHTS = [4, 3, 2, 1] as const;

/** The steady stream: mostly quick tasks, some slow ones, a few that fail before they succeed. */
function steadyBody(): string {
  const r = Math.random();
  if (r < 0.75) return envelope('echo', { hello: 'tierq' });
  if (r < 0.95) return envelope('sleep', { ms: randomInt(50, 500) });
  return envelope('flaky', { failTimes: randomInt(1, 3) });
}

/**
 * One scripted round, so that within a minute every behaviour shows: retries with backoff,
 * a burst the rate limit spreads out (deferrals), tasks not yet due, a duplicate that runs once,
 * and messages that go straight to the DLQ with a reason.
 */
function scriptedRound(tiers: readonly string[], round: number): Outgoing[] {
  const tier = (i: number) => tiers[i % tiers.length] as string;
  const low = tiers[tiers.length - 1] as string;
  const out: Outgoing[] = [];
  // Flaky: fails 1–3 times, retried with backoff (ChangeMessageVisibility), then succeeds.
  for (let i = 0; i < 6; i++)
    out.push({ tier: tier(i), body: envelope('flaky', { failTimes: (i % 3) + 1 }) });
  // Burst: 40 tasks limited to 5/s (burst 10); the rest are deferred, not failed.
  for (let i = 0; i < 40; i++) out.push({ tier: low, body: envelope('limited', { n: i, round }) });
  // Not yet due: the consumer re-enqueues each with DelaySeconds until runAt.
  for (const seconds of [10, 14, 17, 20]) {
    const runAt = new Date(Date.now() + seconds * 1000);
    out.push({ tier: tier(seconds), body: envelope('echo', { dueIn: seconds }, { runAt }) });
  }
  // Duplicate: same idempotencyKey and payload, different id; the task runs once.
  const idempotencyKey = `demo-duplicate-${randomUUID()}`;
  for (let i = 0; i < 2; i++) {
    out.push({ tier: tier(0), body: envelope('echo', { order: 42 }, { idempotencyKey }) });
  }
  // Poison and permanent failures: dead-lettered on first sight, with the reason attached.
  out.push({ tier: tier(1), body: '{"v":1,"id":"broken",' });
  out.push({ tier: tier(2), body: envelope('no-such-task', null) });
  out.push({ tier: tier(3), body: envelope('sleep', { ms: 'soon' }) });
  out.push({ tier: tier(0), body: envelope('reject', { why: 'card declined (demo)' }) });
  out.push({ tier: tier(1), body: envelope('reject', {}) });
  return out;
}

/**
 * Sends the demo workload to the tier queues with plain `SendMessageBatch`, until stopped: a
 * steady stream of echo/sleep/flaky tasks on every tier, plus a scripted round at once and then
 * every `roundSeconds`.
 *
 * @example
 * const demo = startDemo({ region, sqsEndpoint, queues: stack.queues });
 * await demo.stop();
 */
export function startDemo(options: DemoOptions): { sent(): number; stop(): Promise<void> } {
  const sqs = new SQSClient({
    ...localClientConfig(options.sqsEndpoint),
    region: options.region,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  const tiers = Object.keys(options.queues);
  const tierWeights = tiers.map((_, i) => TIER_WEIGHTS[Math.min(i, TIER_WEIGHTS.length - 1)] ?? 1);
  const perTick = Math.max(1, Math.round((options.ratePerSecond ?? 8) / 4));
  let sent = 0;
  let warned = false;
  let round = 0;
  const sending = new Set<Promise<unknown>>();

  const send = (messages: readonly Outgoing[]) => {
    for (const tier of tiers) {
      const group = messages.filter((m) => m.tier === tier);
      for (let i = 0; i < group.length; i += 10) {
        const chunk = group.slice(i, i + 10);
        const request = sqs
          .send(
            new SendMessageBatchCommand({
              QueueUrl: options.queues[tier],
              Entries: chunk.map((m, j) => ({ Id: String(j), MessageBody: m.body })),
            }),
          )
          .then(({ Successful = [] }) => {
            sent += Successful.length;
          })
          .catch((error: unknown) => {
            // One line is enough: the emulator is shutting down or the queue is gone.
            if (!warned) options.log?.(`demo: SendMessageBatch failed: ${String(error)}`);
            warned = true;
          })
          .finally(() => sending.delete(request));
        sending.add(request);
      }
    }
  };

  const steady = setInterval(() => {
    send(Array.from({ length: perTick }, () => ({ tier: pick(tiers, tierWeights), body: steadyBody() })));
  }, 250);
  const scripted = () => {
    round += 1;
    send(scriptedRound(tiers, round));
  };
  const rounds = setInterval(scripted, (options.roundSeconds ?? 30) * 1000);
  scripted();

  return {
    sent: () => sent,
    async stop() {
      clearInterval(steady);
      clearInterval(rounds);
      await Promise.allSettled([...sending]);
      sqs.destroy();
    },
  };
}

function pick<T>(items: readonly T[], weights: readonly number[]): T {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = Math.random() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i] ?? 0;
    if (r < 0) return items[i] as T;
  }
  return items[items.length - 1] as T;
}
