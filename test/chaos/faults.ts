import type { Message } from '@aws-sdk/client-sqs';
import { InvocationFault, type RunnerFaults } from '../../local/runner-faults.js';
import { randomWirePolicy, WireFault, type WireProxy, type WireRequest } from '../../local/wire-proxy.js';

/** Share of requests to each emulator that get a wire fault. */
export const WIRE_FAULT_SHARE = 0.04;
/**
 * Shares of invocations that crash before acknowledging, or time out: killed at a random point
 * within the median invocation time, so mostly in the middle of the handler.
 */
export const CRASH_SHARE = 0.03;
export const TIMEOUT_SHARE = 0.03;
/** Share of received batches some of whose messages are delivered a second time. */
export const DUPLICATE_SHARE = 0.05;

/** An invocation a `timeout` fault killed before its handler answered. */
export interface KilledInvocation {
  /** Epoch ms no later than its handler started: when the fault was decided, before any cold start. */
  readonly startedBy: number;
}

/** The chaos run's faults: wire policies for both proxies and the runner's hooks, off until started. */
export interface ChaosFaults {
  readonly runner: RunnerFaults;
  /** What the runner hooks injected so far. */
  readonly injected: {
    crashBeforeAck: number;
    timeout: number;
    /** Of the timeouts, those whose sandbox was killed before the handler answered. */
    killedMidHandler: number;
    duplicateDeliveries: number;
    duplicatedMessages: number;
  };
  /**
   * Invocations killed mid-handler, by request id: the chaos consumer's `invocationId`, so the
   * invariant can trace a side effect applied again to the kill that left it without a completion.
   */
  readonly killed: ReadonlyMap<string, KilledInvocation>;
  start(): void;
  stop(): void;
}

/**
 * The write that records a task's success. It is faulted only on attempts the SDK will retry:
 * a completion that cannot be stored after the side effect runs the task again, by design, in
 * every mode (docs/chaos.md) — a fault that breaks exactly-once by definition proves nothing.
 */
export function isCompletionWrite(request: WireRequest): boolean {
  // `lock` and `once` store a batch's successes with one BatchWriteItem; `off` with an UpdateItem.
  if (request.action === 'BatchWriteItem') return request.body.includes('"status":{"S":"succeeded"}');
  return request.action === 'UpdateItem' && request.body.includes('#status = :succeeded');
}

/**
 * Builds the faults of a chaos run from one seeded random source.
 *
 * @example
 * const faults = chaosFaults(proxies, seededRandom(seed));
 * startLocalStack({ runnerFaults: faults.runner, ... });
 * faults.start();
 */
export function chaosFaults(
  proxies: { readonly dynamodb: WireProxy; readonly sqs: WireProxy },
  random: () => number,
): ChaosFaults {
  const injected = {
    crashBeforeAck: 0,
    timeout: 0,
    killedMidHandler: 0,
    duplicateDeliveries: 0,
    duplicatedMessages: 0,
  };
  const timedOutAt = new Map<string, number>();
  const killed = new Map<string, KilledInvocation>();
  let on = false;
  const runner: RunnerFaults = {
    invocation: ({ requestId }) => {
      if (!on) return undefined;
      const roll = random();
      if (roll < CRASH_SHARE) {
        injected.crashBeforeAck++;
        return InvocationFault.crashBeforeAck;
      }
      if (roll < CRASH_SHARE + TIMEOUT_SHARE) {
        injected.timeout++;
        timedOutAt.set(requestId, Date.now());
        return InvocationFault.timeout;
      }
      return undefined;
    },
    // Anywhere in a typical invocation: before, between or after its tasks' side effects.
    timeoutAfterMs: ({ medianDurationMs }) => random() * medianDurationMs,
    killed: ({ requestId }) => {
      injected.killedMidHandler++;
      killed.set(requestId, { startedBy: timedOutAt.get(requestId) ?? 0 });
    },
    duplicate: ({ messages }) => {
      if (!on || random() >= DUPLICATE_SHARE) return undefined;
      const some: Message[] = messages.filter(() => random() < 0.5);
      const again = some.length > 0 ? some : messages.slice(0, 1);
      injected.duplicateDeliveries++;
      injected.duplicatedMessages += again.length;
      return again;
    },
  };
  const faults = Object.values(WireFault);
  return {
    runner,
    injected,
    killed,
    start() {
      on = true;
      proxies.dynamodb.setPolicy(
        randomWirePolicy({
          share: WIRE_FAULT_SHARE,
          faults,
          random,
          when: (r) => r.attempt < r.maxAttempts || !isCompletionWrite(r),
        }),
      );
      proxies.sqs.setPolicy(randomWirePolicy({ share: WIRE_FAULT_SHARE, faults, random }));
    },
    stop() {
      on = false;
      proxies.dynamodb.setPolicy(undefined);
      proxies.sqs.setPolicy(undefined);
    },
  };
}
