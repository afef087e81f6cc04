import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DedupStore } from '../stores/dedup-store.js';
import type { DepthGate } from './backpressure.js';
import type { EnqueueOptions, OutgoingMessage } from './message.js';
import type { EnqueueItem, EnqueueManyResult } from './producer.js';
import { type BatchRetryOptions, sendAll } from './send-batch.js';
import type { QueueSizeLimits } from './size-limits.js';

/**
 * What {@link enqueueManyWith} needs from the producer.
 *
 * @example
 * ```ts
 * const deps: EnqueueManyDeps = { build, sqs, dedup: () => store };
 * ```
 */
export interface EnqueueManyDeps {
  readonly build: (item: EnqueueItem) => OutgoingMessage;
  readonly sqs: SQSClient;
  /** Each queue's own size limit, checked before any claim or send. */
  readonly limits: QueueSizeLimits;
  readonly dedup: () => DedupStore;
  readonly retry?: BatchRetryOptions;
  /** Backpressure, when the producer has it. */
  readonly gate?: DepthGate;
}

type Slot =
  | { kind: 'done'; result: EnqueueManyResult }
  | { kind: 'send'; message: OutgoingMessage; dedupKey?: string }
  | { kind: 'sameAs'; index: number };

/**
 * The body of `producer.enqueueMany`: builds every message, claims dedup keys (an item repeating
 * an earlier item's key in the same call is deduplicated against it), sends the rest in batches
 * and releases the claims of messages that could not be sent. Never throws for one item.
 *
 * @example
 * ```ts
 * const results = await enqueueManyWith(items, { build, sqs, dedup: () => store });
 * ```
 */
export async function enqueueManyWith(
  items: readonly EnqueueItem[],
  deps: EnqueueManyDeps,
): Promise<EnqueueManyResult[]> {
  const built = items.map((item): OutgoingMessage | Error => {
    try {
      return deps.build(item);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  });
  // One await at most, and only when a message is big enough that its queue's limit matters.
  const unknown = deps.limits.unknownFor(built.filter((b): b is OutgoingMessage => !(b instanceof Error)));
  if (unknown.length > 0) await deps.limits.load(unknown);
  const firstWithKey = new Map<string, number>();
  const prepared = items.map((item, index): Slot | Promise<Slot> => {
    const message = built[index] as OutgoingMessage | Error;
    if (message instanceof Error) return failed(item.options?.id, message);
    const tooLarge = deps.limits.violation(message);
    if (tooLarge !== undefined) return failed(message.id, tooLarge);
    const window = item.options?.dedup;
    if (window !== undefined) {
      // Runs synchronously, before any await, so input order decides which item is first.
      const first = firstWithKey.get(window.key);
      if (first !== undefined) return { kind: 'sameAs', index: first };
      firstWithKey.set(window.key, index);
    }
    // Nothing to wait for: no promise per item (a measured share of a large enqueueMany).
    if (window === undefined && deps.gate === undefined) return { kind: 'send', message };
    return admit(message, window, deps);
  });
  const slots = prepared.some((slot) => slot instanceof Promise)
    ? await Promise.all(prepared)
    : (prepared as Slot[]);
  const toSend = slots.flatMap((slot, index) => (slot.kind === 'send' ? [{ slot, index }] : []));
  const errors = await sendAll(
    deps.sqs,
    toSend.map(({ slot }) => slot.message),
    deps.retry,
  );
  const results: (EnqueueManyResult | undefined)[] = slots.map((slot) =>
    slot.kind === 'done' ? slot.result : undefined,
  );
  const releases: Promise<void>[] = [];
  toSend.forEach(({ slot, index }, i) => {
    const error = errors[i];
    if (error === undefined) {
      results[index] = { id: slot.message.id, status: 'sent' };
      return;
    }
    results[index] = { id: slot.message.id, status: 'failed', error };
    deps.gate?.sent(slot.message.tier, -1);
    if (slot.dedupKey === undefined) return;
    // A failed send must not hold the key, or a retry would be deduplicated against nothing.
    releases.push(
      deps
        .dedup()
        .release(slot.dedupKey, slot.message.id)
        .catch((releaseError: unknown) => {
          results[index] = {
            id: slot.message.id,
            status: 'failed',
            error: new AggregateError([error, releaseError], error.message),
          };
        }),
    );
  });
  await Promise.all(releases);
  return slots.map((slot, index) => {
    if (slot.kind !== 'sameAs') return results[index] as EnqueueManyResult;
    const first = results[slot.index] as EnqueueManyResult;
    return first.status === 'failed' || first.status === 'dropped' ? first : deduplicated(first.id).result;
  });
}

/** Backpressure, then the dedup claim: what an item waits for before it may be sent. */
async function admit(
  message: OutgoingMessage,
  window: EnqueueOptions['dedup'],
  deps: EnqueueManyDeps,
): Promise<Slot> {
  try {
    if ((await deps.gate?.admit(message.tier, message.queueUrl)) === 'drop') {
      return { kind: 'done', result: { id: message.id, status: 'dropped', tier: message.tier } };
    }
  } catch (error) {
    return failed(message.id, error);
  }
  if (window === undefined) return { kind: 'send', message };
  try {
    const claim = await deps.dedup().claim(window.key, window.windowSeconds, message.id);
    if (claim.claimed) return { kind: 'send', message, dedupKey: window.key };
    deps.gate?.sent(message.tier, -1);
    return deduplicated(claim.taskId);
  } catch (error) {
    deps.gate?.sent(message.tier, -1);
    return failed(message.id, error);
  }
}

function failed(id: string | undefined, error: unknown): Slot & { kind: 'done' } {
  const err = error instanceof Error ? error : new Error(String(error));
  return { kind: 'done', result: { id, status: 'failed', error: err } };
}

function deduplicated(taskId: string): Slot & { kind: 'done'; result: EnqueueManyResult } {
  return { kind: 'done', result: { id: taskId, status: 'deduplicated', dedupOf: taskId } };
}
