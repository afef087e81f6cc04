import { randomUUID } from 'node:crypto';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import {
  CONTRACT_VERSION,
  encodeEnvelope,
  MAX_BODY_BYTES,
  resentOverheadBytes,
  type TaskEnvelope,
} from '../contract.js';
import { describeValue, TENANT_PATTERN, TENANT_RULE } from '../contract-schema.js';
import { ConfigError, MessageTooLargeError, UnknownTierError } from '../errors.js';
import { attributeBytes, taskAttributes } from '../message-attributes.js';

/** SQS's longest DelaySeconds; later starts travel as `runAt` and the consumer defers in hops. */
export const MAX_DELAY_SECONDS = 900;

/**
 * Options of one enqueue.
 *
 * @example
 * ```ts
 * const options: EnqueueOptions = { priority: 'high', delay: 30_000, dedup: { key: 'order-42', windowSeconds: 60 } };
 * ```
 */
export interface EnqueueOptions<Tier extends string = string> {
  /** The tier to send to. Default: the producer's default tier. */
  readonly priority?: Tier;
  /** Milliseconds to wait before the task may run. Not together with `runAt`. */
  readonly delay?: number;
  /** Earliest time to run. Not together with `delay`. */
  readonly runAt?: Date | string;
  /** The task id (1–128 of `[A-Za-z0-9._:-]`). Default: a random UUID. */
  readonly id?: string;
  /** The consumer runs the task at most once per key. Default: the id. */
  readonly idempotencyKey?: string;
  /** Enqueue-time deduplication: a second enqueue with this key within the window sends nothing. */
  readonly dedup?: { readonly key: string; readonly windowSeconds: number };
  /** Check the payload against the task's contract before sending. Default: the producer's `validatePayloads`. */
  readonly validate?: boolean;
  /**
   * Who the task is for (1–128 of `[A-Za-z0-9._:-]`): tasks with per-tenant limits count it, and
   * it is sent as SQS's `MessageGroupId`, so a fair queue keeps one tenant's backlog from
   * delaying the others'.
   */
  readonly tenant?: string;
}

/**
 * One message ready to send: where, what, and how long SQS should hold it.
 *
 * @example
 * ```ts
 * const message: OutgoingMessage = buildMessage({ task: 'echo', payload: {}, options: {}, now: Date.now(), queues, defaultTier });
 * ```
 */
export interface OutgoingMessage {
  readonly id: string;
  readonly task: string;
  readonly tier: string;
  readonly queueUrl: string;
  readonly body: string;
  /** The tier, as a message attribute: it survives SQS's own redrive to the DLQ. */
  readonly attributes: Readonly<Record<string, MessageAttributeValue>>;
  /** Its size as SQS counts it, body and attributes: what a batch request packs. */
  readonly bytes: number;
  /**
   * The most it will take on its queue: its largest copy tierq may re-send (bookkeeping added),
   * attributes included. What must fit the queue's `MaximumMessageSize`.
   */
  readonly neededBytes: number;
  readonly delaySeconds: number;
  /** SQS's `MessageGroupId`: the tenant, when there is one. */
  readonly groupId?: string;
}

/**
 * Builds and validates a v1 envelope, chooses its queue and delay, and marks it with its tier
 * (a message attribute). Throws, sending nothing, on an unknown tier, a bad delay, an invalid
 * envelope or a message that could not fit SQS's 1 MiB once tierq re-sends it (the queue's own,
 * possibly smaller, limit is checked by {@link QueueSizeLimits} before sending).
 *
 * @example
 * ```ts
 * const message = buildMessage({ task: 'echo', payload: { n: 1 }, options: { delay: 5_000 }, now: Date.now(), queues, defaultTier: 'normal' });
 * await sqs.send(new SendMessageCommand({ QueueUrl: message.queueUrl, MessageBody: message.body, DelaySeconds: message.delaySeconds }));
 * ```
 */
export function buildMessage(input: {
  task: string;
  payload: unknown;
  options: EnqueueOptions;
  now: number;
  queues: Readonly<Record<string, string>>;
  defaultTier: string;
}): OutgoingMessage {
  const { task, payload, options, now, queues } = input;
  const tier = options.priority ?? input.defaultTier;
  const queueUrl = Object.hasOwn(queues, tier) ? queues[tier] : undefined;
  if (queueUrl === undefined) throw new UnknownTierError({ tier, tiers: Object.keys(queues) });
  const runAtMs = startTime(options, now);
  const waitSeconds = runAtMs === undefined ? 0 : Math.max(0, Math.ceil((runAtMs - now) / 1000));
  const envelope: TaskEnvelope = {
    v: CONTRACT_VERSION,
    id: options.id ?? randomUUID(),
    task,
    payload: payload ?? null,
    enqueuedAt: new Date(now).toISOString(),
    // A start SQS can hold exactly needs no runAt; a later one does, and SQS still holds it 15 min.
    ...(runAtMs !== undefined && (options.runAt !== undefined || waitSeconds > MAX_DELAY_SECONDS)
      ? { runAt: new Date(runAtMs).toISOString() }
      : {}),
    ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
    ...(options.tenant === undefined ? {} : { tenant: checkTenant(options.tenant) }),
  };
  const encoded = encodeEnvelope(envelope);
  const { attributes, attributesBytes } = tierAttributes(tier);
  const bytes = encoded.bytes + attributesBytes;
  const neededBytes = bytes + resentOverheadBytes(envelope, tier);
  if (neededBytes > MAX_BODY_BYTES) {
    throw new MessageTooLargeError({ task, bytes: neededBytes, limit: MAX_BODY_BYTES });
  }
  return {
    id: envelope.id,
    task,
    tier,
    queueUrl,
    body: encoded.body,
    attributes,
    bytes,
    neededBytes,
    delaySeconds: Math.min(waitSeconds, MAX_DELAY_SECONDS),
    ...(envelope.tenant === undefined ? {} : { groupId: envelope.tenant }),
  };
}

/** A tenant a consumer accepts, or a `ConfigError` saying what it must be. */
function checkTenant(tenant: unknown): string {
  if (typeof tenant === 'string' && TENANT_PATTERN.test(tenant)) return tenant;
  throw new ConfigError(`enqueue: tenant must be ${TENANT_RULE}, got ${describeValue(tenant)}`);
}

const byTier = new Map<
  string,
  { attributes: Record<string, MessageAttributeValue>; attributesBytes: number }
>();

/** A tier's message attributes and their size, made once per tier: every message carries them. */
function tierAttributes(tier: string) {
  let made = byTier.get(tier);
  if (made === undefined) {
    const attributes = taskAttributes(tier);
    made = { attributes, attributesBytes: attributeBytes(attributes) };
    byTier.set(tier, made);
  }
  return made;
}

function startTime(options: EnqueueOptions, now: number): number | undefined {
  if (options.delay !== undefined && options.runAt !== undefined) {
    throw new ConfigError('enqueue: give delay or runAt, not both');
  }
  if (options.delay !== undefined) {
    if (!Number.isFinite(options.delay) || options.delay < 0) {
      throw new ConfigError(`enqueue: delay must be a non-negative number of ms, got ${options.delay}`);
    }
    return options.delay === 0 ? undefined : now + options.delay;
  }
  if (options.runAt === undefined) return undefined;
  const at = new Date(options.runAt).getTime();
  if (Number.isNaN(at)) throw new ConfigError(`enqueue: runAt is not a valid date: ${String(options.runAt)}`);
  return at;
}
