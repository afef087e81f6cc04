/**
 * Tasks: how one is defined, the checks its options pass where they enter, and the registry a
 * consumer looks tasks up in.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type BreakerOptions, defineBreaker } from './breaker.js';
import { DEFAULT_RETRY_POLICY, validateRetryPolicy } from './consumer/backoff.js';
import { ConfigError } from './errors.js';
import { type ContractInput, checkTaskName, type TaskContract } from './task-contract.js';
import {
  type ConcurrencyOption,
  type PerTenantRateLimit,
  taskWideRateLimit,
  validateTenantLimits,
} from './tenant-limits.js';
import { validateRateLimit } from './token-bucket.js';

/** How duplicate deliveries and duplicate enqueues of one task are handled. */
export const IdempotencyMode = {
  /** At most one execution in flight; the result is stored and returned to duplicates. */
  lock: 'lock',
  /** A completion marker only (one write): a concurrent duplicate run is tolerated. */
  once: 'once',
  /** No idempotency: every delivery runs. */
  off: 'off',
} as const;
export type IdempotencyMode = (typeof IdempotencyMode)[keyof typeof IdempotencyMode];

/** Per-task retry policy: exponential backoff with full jitter. */
export interface TaskRetryOptions {
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

/**
 * A task's distributed token bucket: `perSecond` refill (> 0), up to `burst` (>= 1) saved up;
 * `perTenant`, a bucket of its own for each tenant (see `tenant-limits.ts`). Either or both.
 */
export type RateLimitOption =
  | { readonly perSecond: number; readonly burst: number; readonly perTenant?: PerTenantRateLimit }
  | { readonly perSecond?: undefined; readonly burst?: undefined; readonly perTenant: PerTenantRateLimit };

/** What a task handler is told about the attempt it is running. */
export interface TaskContext {
  /** The producer-assigned task id. */
  readonly id: string;
  readonly task: string;
  /** 1 for the first attempt; counts failed attempts across redeliveries and re-enqueued copies. */
  readonly attempt: number;
  /** The tier the message was received from. */
  readonly tier: string;
  /** Aborted when the task's timeout or the Lambda deadline is reached. */
  readonly signal: AbortSignal;
  /** A Powertools logger whose every line carries this task's id and name. */
  readonly logger: Logger;
}

/** A task's definition: its contract (name and payload schema), handler and policies. */
export interface TaskDefinition<Schema extends StandardSchemaV1 = StandardSchemaV1, Result = unknown>
  extends TaskContract<string, Schema> {
  // Method syntax on purpose: a registry holds tasks of many payload types (bivariant parameters).
  handler(payload: StandardSchemaV1.InferOutput<Schema>, ctx: TaskContext): Promise<Result> | Result;
  readonly retry?: TaskRetryOptions;
  /** An attempt that runs longer than this fails. Default: the Lambda's remaining time. */
  readonly timeoutMs?: number;
  /** Distributed token bucket shared by every consumer; `perTenant`, one per tenant. */
  readonly rateLimit?: RateLimitOption;
  /** At most `perTenant` runs of this task at once per tenant, across every consumer. */
  readonly concurrency?: ConcurrencyOption;
  /**
   * The circuit breaker of the downstream this task calls (`defineBreaker`, or its options):
   * shared by every task that names it and by every consumer. While it is open, the task's
   * records wait without running and without spending attempts.
   */
  readonly breaker?: BreakerOptions;
  /**
   * How duplicates are handled, and how long the task's record lives (`ttlSeconds`, default a
   * day); the record must outlive the task's `timeoutMs`, or a held lock would look expired.
   */
  readonly idempotency?: { readonly mode: IdempotencyMode; readonly ttlSeconds?: number };
}

/** The payload type a task or contract accepts (before its schema's transforms): what a producer sends. */
export type TaskInput<T> = ContractInput<T>;

/** Everything of a task but its contract: the handler and the policies. */
export type TaskOptions<Schema extends StandardSchemaV1, Result> = Omit<
  TaskDefinition<Schema, Result>,
  'name' | 'schema'
>;

/**
 * Defines a task. The schema types the handler's payload and, through {@link TaskInput}, the
 * producer's.
 *
 * @example
 * export const sendEmail = defineTask({
 *   name: 'send-email',
 *   schema: z.object({ to: z.email(), subject: z.string() }),
 *   retry: { maxAttempts: 5, baseDelayMs: 2_000, maxDelayMs: 60_000 },
 *   rateLimit: { perSecond: 10, burst: 20 },
 *   handler: async ({ to, subject }) => mailer.send(to, subject),
 * });
 */
export function defineTask<Schema extends StandardSchemaV1, Result>(
  definition: TaskDefinition<Schema, Result>,
): TaskDefinition<Schema, Result>;
/**
 * Defines a task for a contract declared apart (`defineContract`), so producers import the
 * contract without the handler.
 *
 * @example
 * export const chargeOrderTask = defineTask(chargeOrder, { handler: ({ orderId }) => charge(orderId) });
 */
export function defineTask<Schema extends StandardSchemaV1, Result>(
  contract: TaskContract<string, Schema>,
  options: TaskOptions<Schema, Result>,
): TaskDefinition<Schema, Result>;
export function defineTask<Schema extends StandardSchemaV1, Result>(
  contractOrDefinition: TaskDefinition<Schema, Result> | TaskContract<string, Schema>,
  options?: TaskOptions<Schema, Result>,
): TaskDefinition<Schema, Result> {
  const definition =
    options === undefined
      ? (contractOrDefinition as TaskDefinition<Schema, Result>)
      : { ...options, name: contractOrDefinition.name, schema: contractOrDefinition.schema };
  validateTask(definition as AnyTask);
  return definition;
}

/**
 * Checks a task's options where they enter (`defineTask`, `createConsumer`) and returns the task
 * unchanged. Throws a {@link ConfigError} naming the task and the first bad option: a rate of 0
 * would defer the task forever, a record TTL shorter than its timeout would let a duplicate take
 * a lock that is still held.
 *
 * @example
 * for (const name of registry.names()) validateTask(registry.get(name) as AnyTask);
 */
export function validateTask<T extends AnyTask>(task: T): T {
  checkTaskName(task.name);
  const fail = (problem: string, cause?: unknown): never => {
    throw new ConfigError(`task "${task.name}": ${problem}`, cause === undefined ? undefined : { cause });
  };
  const check = (validate: () => unknown) => {
    try {
      validate();
    } catch (error) {
      if (error instanceof ConfigError) fail(error.message, error);
      throw error;
    }
  };
  const { timeoutMs, idempotency } = task;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    fail(`timeoutMs must be a positive number of ms, got ${timeoutMs}`);
  }
  check(() => validateRetryPolicy({ ...DEFAULT_RETRY_POLICY, ...task.retry }));
  if (task.breaker !== undefined) check(() => defineBreaker(task.breaker as BreakerOptions));
  const wide = taskWideRateLimit(task);
  if (wide !== undefined) check(() => validateRateLimit(wide));
  check(() => validateTenantLimits(task));
  if (idempotency !== undefined) {
    if (!Object.values(IdempotencyMode).includes(idempotency.mode)) {
      fail(
        `idempotency.mode must be one of ${Object.values(IdempotencyMode).join(', ')}, got ${String(idempotency.mode)}`,
      );
    }
    const ttl = idempotency.ttlSeconds;
    if (ttl !== undefined && !(Number.isSafeInteger(ttl) && ttl >= 1)) {
      fail(`idempotency.ttlSeconds must be an integer >= 1, got ${ttl}`);
    }
    if (ttl !== undefined && timeoutMs !== undefined && ttl * 1_000 < timeoutMs) {
      fail(
        `idempotency.ttlSeconds (${ttl}) must be at least timeoutMs (${timeoutMs} ms): ` +
          'a record that expires while its task runs lets a duplicate take the lock',
      );
    }
  }
  return task;
}

/** A task definition with its types erased, as the registry stores it. */
// biome-ignore lint/suspicious/noExplicitAny: the registry stores tasks of every payload type
export type AnyTask = TaskDefinition<StandardSchemaV1<any, any>, any>;

/**
 * The set of tasks a consumer can run, looked up by name.
 *
 * @example
 * const registry = new TaskRegistry([echo, sendEmail]);
 * registry.get('echo'); // the echo definition, or undefined
 */
export class TaskRegistry {
  readonly #tasks = new Map<string, AnyTask>();

  constructor(tasks: readonly AnyTask[] = []) {
    for (const task of tasks) this.register(task);
  }

  register(task: AnyTask): this {
    if (this.#tasks.has(task.name))
      throw new ConfigError(`TaskRegistry: task "${task.name}" is registered twice`);
    this.#tasks.set(task.name, task);
    return this;
  }

  get(name: string): AnyTask | undefined {
    return this.#tasks.get(name);
  }

  names(): string[] {
    return [...this.#tasks.keys()];
  }
}
