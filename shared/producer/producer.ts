import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { StoreError } from '../errors.js';
import { DedupStore } from '../stores/dedup-store.js';
import { type ContractInput, checkPayload, type TaskContract } from '../task-contract.js';
import { DepthGate } from './backpressure.js';
import { type ProducerConfig, validateProducerConfig } from './config.js';
import { enqueueManyWith } from './enqueue-many.js';
import { buildMessage, type EnqueueOptions, type OutgoingMessage } from './message.js';
import { QueueSizeLimits } from './size-limits.js';

/**
 * What `enqueue` did: sent a new task; found one already enqueued under the dedup key (then
 * `id` and `dedupOf` are that first task's id, the one that will run); or, with backpressure
 * strategy `drop`, sent nothing because the tier was full.
 *
 * @example
 * ```ts
 * const { id, status } = await producer.enqueue('echo', { n: 1 });
 * ```
 */
export type EnqueueResult =
  | { readonly id: string; readonly status: 'sent' }
  | { readonly id: string; readonly status: 'deduplicated'; readonly dedupOf: string }
  | { readonly id: string; readonly status: 'dropped'; readonly tier: string };

/**
 * One item's outcome in `enqueueMany`; a failed item carries its error and was not sent.
 *
 * @example
 * ```ts
 * const failed = results.filter((r) => r.status === 'failed');
 * ```
 */
export type EnqueueManyResult =
  | EnqueueResult
  | { readonly id: string | undefined; readonly status: 'failed'; readonly error: Error };

/**
 * One task for `enqueueMany`.
 *
 * @example
 * ```ts
 * const item: EnqueueItem = { task: 'echo', payload: { n: 1 }, options: { priority: 'low' } };
 * ```
 */
export interface EnqueueItem<Tier extends string = string> {
  /** A task name, or its contract (or definition), which also checks the payload. */
  readonly task: string | TaskContract;
  readonly payload: unknown;
  readonly options?: EnqueueOptions<Tier>;
}

/**
 * Sends tasks to tierq's tier queues as v1 envelopes.
 *
 * @example
 * ```ts
 * await producer.enqueue(sendEmail, { to: 'ada@example.com', subject: 'Hi' }, { priority: 'high' });
 * ```
 */
export interface Producer<Tier extends string = string> {
  /**
   * Enqueues one task, typed and checked by its contract (a payload the schema rejects is an
   * `InvalidMessageError`); throws, having sent nothing, on invalid input or an SDK failure.
   */
  enqueue<C extends TaskContract>(
    task: C,
    payload: ContractInput<C>,
    options?: EnqueueOptions<Tier>,
  ): Promise<EnqueueResult>;
  /** Enqueues a task by name: no type or schema check here, the consumer checks it. */
  enqueue(task: string, payload: unknown, options?: EnqueueOptions<Tier>): Promise<EnqueueResult>;
  /** Enqueues many tasks in SQS batches; never throws for one item, results are in input order. */
  enqueueMany(items: readonly EnqueueItem<Tier>[]): Promise<EnqueueManyResult[]>;
}

/**
 * Creates a producer. Clients are created once here (or taken from the config) and reused.
 *
 * @example
 * ```ts
 * const producer = createProducer({ region: 'eu-west-1', queues: { high: highUrl, low: lowUrl }, table: 'tierq' });
 * const { id } = await producer.enqueue('resize-image', { key: 'cat.png' }, { delay: 60_000 });
 * ```
 */
export function createProducer<const Tier extends string = string>(
  config: ProducerConfig<Tier>,
): Producer<Tier> {
  const { defaultTier } = validateProducerConfig(config);
  const clientConfig = (endpoint: string | undefined) => ({
    region: config.region,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
  });
  const sqs = config.sqs ?? new SQSClient(clientConfig(config.endpoints?.sqs));
  const gate = config.backpressure === undefined ? undefined : new DepthGate(sqs, config.backpressure);
  const limits = new QueueSizeLimits(sqs);
  let dedup: DedupStore | undefined;
  const dedupStore = () => {
    dedup ??= new DedupStore(
      config.dynamodb ?? new DynamoDBClient(clientConfig(config.endpoints?.dynamodb)),
      config.table,
    );
    return dedup;
  };
  const build = (item: EnqueueItem): OutgoingMessage =>
    buildMessage({
      task: typeof item.task === 'string' ? item.task : item.task.name,
      payload: item.payload,
      options: item.options ?? {},
      now: Date.now(),
      queues: config.queues as Readonly<Record<string, string>>,
      defaultTier,
    });
  const validating = (item: EnqueueItem<Tier>): item is EnqueueItem<Tier> & { task: TaskContract } =>
    typeof item.task !== 'string' && (item.options?.validate ?? config.validatePayloads ?? true);

  /** Sends via `send`; on failure releases the dedup claim so a retry is not swallowed. */
  async function claimed<R>(
    message: OutgoingMessage,
    options: EnqueueOptions | undefined,
    send: () => Promise<R>,
  ): Promise<R | { id: string; status: 'deduplicated'; dedupOf: string }> {
    const window = options?.dedup;
    if (window === undefined) return send();
    const claim = await dedupStore().claim(window.key, window.windowSeconds, message.id);
    if (!claim.claimed) return { id: claim.taskId, status: 'deduplicated', dedupOf: claim.taskId };
    try {
      return await send();
    } catch (sendError) {
      try {
        await dedupStore().release(window.key, message.id);
      } catch (releaseError) {
        const message = `send failed and the dedup claim on "${window.key}" could not be released`;
        throw new StoreError(
          { operation: 'producer.dedup.release', message },
          { cause: new AggregateError([sendError, releaseError]) },
        );
      }
      throw sendError;
    }
  }

  async function enqueue(
    task: string | TaskContract,
    payload: unknown,
    options?: EnqueueOptions<Tier>,
  ): Promise<EnqueueResult> {
    const item: EnqueueItem<Tier> = { task, payload, ...(options === undefined ? {} : { options }) };
    if (validating(item)) {
      const invalid = await checkPayload(item.task, payload);
      if (invalid !== undefined) throw invalid;
    }
    const message = build(item);
    await limits.check(message);
    if ((await gate?.admit(message.tier, message.queueUrl)) === 'drop') {
      return { id: message.id, status: 'dropped', tier: message.tier };
    }
    try {
      const result = await claimed(message, options, async () => {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: message.queueUrl,
            MessageBody: message.body,
            MessageAttributes: message.attributes,
            DelaySeconds: message.delaySeconds,
            ...(message.groupId === undefined ? {} : { MessageGroupId: message.groupId }),
          }),
        );
        return { id: message.id, status: 'sent' as const };
      });
      if (result.status !== 'sent') gate?.sent(message.tier, -1);
      return result;
    } catch (error) {
      gate?.sent(message.tier, -1);
      throw error;
    }
  }

  async function enqueueMany(items: readonly EnqueueItem<Tier>[]): Promise<EnqueueManyResult[]> {
    // Checked first (an async schema awaited once for all); a rejected payload fails its item at build.
    const verdicts = items.map((item) =>
      validating(item) ? checkPayload(item.task, item.payload) : undefined,
    );
    const settled = verdicts.some((v) => v instanceof Promise) ? await Promise.all(verdicts) : verdicts;
    const invalid = new Map<EnqueueItem, Error>();
    settled.forEach((verdict, i) => {
      if (verdict instanceof Error) invalid.set(items[i] as EnqueueItem, verdict);
    });
    return enqueueManyWith(items, {
      build: (item) => {
        const error = invalid.get(item);
        if (error !== undefined) throw error;
        return build(item);
      },
      sqs,
      limits,
      dedup: dedupStore,
      ...(gate === undefined ? {} : { gate }),
    });
  }

  return { enqueue, enqueueMany } as Producer;
}
