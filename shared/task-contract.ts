/**
 * A task's contract — its name and payload schema — declared apart from its handler, so a
 * producer imports what it sends without the handler and its dependencies. `defineTask` takes a
 * contract and adds the handler and policies; the producer types and validates payloads by it.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ConfigError, InvalidMessageCode, InvalidMessageError } from './errors.js';

/**
 * What producers and consumers agree on for one task: its name and payload schema.
 *
 * @example
 * ```ts
 * const contract: TaskContract<'charge-order', typeof schema> = { name: 'charge-order', schema };
 * ```
 */
export interface TaskContract<
  Name extends string = string,
  Schema extends StandardSchemaV1 = StandardSchemaV1,
> {
  readonly name: Name;
  /** A Standard Schema (valibot, zod, zod/mini, arktype…) that types and validates the payload. */
  readonly schema: Schema;
}

/** The payload a contract (or a task) accepts, before its schema's transforms: what a producer sends. */
export type ContractInput<C> = C extends { readonly schema: infer S extends StandardSchemaV1 }
  ? StandardSchemaV1.InferInput<S>
  : never;

/** The payload a task's handler receives, after its schema's transforms. */
export type ContractOutput<C> = C extends { readonly schema: infer S extends StandardSchemaV1 }
  ? StandardSchemaV1.InferOutput<S>
  : never;

const TASK_NAME = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Checks a task name where it enters: 1–128 characters of `[A-Za-z0-9._:-]`, as the message
 * contract requires. Throws a {@link ConfigError} naming the bad name.
 *
 * @example
 * checkTaskName('charge-order');
 */
export function checkTaskName(name: unknown): void {
  if (typeof name !== 'string' || !TASK_NAME.test(name)) {
    throw new ConfigError(`task name ${JSON.stringify(name)} must be 1–128 characters of [A-Za-z0-9._:-]`);
  }
}

/**
 * Declares a task's contract. Share the module between the producer and the worker: the
 * producer's `enqueue` is then typed by the schema, and checks the payload against it.
 *
 * @example
 * ```ts
 * export const chargeOrder = defineContract({
 *   name: 'charge-order',
 *   schema: v.object({ orderId: v.string(), cents: v.pipe(v.number(), v.integer()) }),
 * });
 * await producer.enqueue(chargeOrder, { orderId: 'o-1', cents: 4200 });
 * ```
 */
export function defineContract<const Name extends string, Schema extends StandardSchemaV1>(
  contract: TaskContract<Name, Schema>,
): TaskContract<Name, Schema> {
  checkTaskName(contract.name);
  if (typeof contract.schema?.['~standard']?.validate !== 'function') {
    throw new ConfigError(
      `task "${contract.name}": schema must be a Standard Schema (valibot, zod, arktype…)`,
    );
  }
  return contract;
}

/**
 * Validates `payload` against the contract's schema. Returns undefined when it is valid, else the
 * error a producer throws (an {@link InvalidMessageError} naming each issue) — the same verdict the
 * consumer would reach, before anything is sent. A synchronous schema answers synchronously.
 *
 * @example
 * ```ts
 * const invalid = await checkPayload(chargeOrder, payload);
 * if (invalid) throw invalid;
 * ```
 */
export function checkPayload(
  contract: TaskContract,
  payload: unknown,
): InvalidMessageError | undefined | Promise<InvalidMessageError | undefined> {
  const result = contract.schema['~standard'].validate(payload);
  return result instanceof Promise
    ? result.then((r) => verdict(contract.name, r))
    : verdict(contract.name, result);
}

function verdict(task: string, result: StandardSchemaV1.Result<unknown>): InvalidMessageError | undefined {
  if (result.issues === undefined) return undefined;
  const issues = result.issues
    .slice(0, 5)
    .map((issue) => {
      const path = (issue.path ?? [])
        .map((p) => (typeof p === 'object' ? String(p.key) : String(p)))
        .join('.');
      return path === '' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
  return new InvalidMessageError({
    code: InvalidMessageCode.InvalidPayload,
    reason: `payload does not match task "${task}": ${issues}`,
  });
}
