/**
 * Finding the task queues of an app in its stack outputs: every `TaskQueue` writes one output
 * describing itself (shared/declaration.ts, `TaskQueueDescriptor`), so a stack may hold several
 * and any app's stacks can be read the same way. A queue is chosen by its construct path, or by
 * the path's last part (its construct id).
 */
import * as v from 'valibot';
import { TASK_QUEUE_OUTPUT_PREFIX, type TaskQueueDescriptor } from './declaration.js';
import { ConfigError } from './errors.js';

const text = v.pipe(v.string(), v.minLength(1));
const descriptor = v.pipe(
  v.object({
    v: v.literal(1),
    path: text,
    tiers: v.pipe(v.array(text), v.minLength(1)),
    queues: v.record(v.string(), text),
    dlq: text,
    table: text,
    metricsNamespace: text,
    producerPolicyArn: text,
    operatorPolicyArn: text,
    eventSourceMappings: v.optional(v.record(v.string(), text)),
  }),
  v.check((d) => d.tiers.every((t) => d.queues[t] !== undefined), 'every tier needs a queue URL'),
);

/**
 * The task queues described in `outputs`, in output order. An output under the prefix that is
 * not a descriptor is a {@link ConfigError} naming it.
 *
 * @example
 * ```ts
 * const queues = taskQueuesInOutputs(outputs); // [{ path: 'orders-dev/Orders', tiers: [...], ... }]
 * ```
 */
export function taskQueuesInOutputs(outputs: Readonly<Record<string, string>>): TaskQueueDescriptor[] {
  const found: TaskQueueDescriptor[] = [];
  for (const [key, value] of Object.entries(outputs)) {
    if (!key.startsWith(TASK_QUEUE_OUTPUT_PREFIX)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (cause) {
      throw new ConfigError(`output ${key} is not a tierq queue description (not JSON)`, { cause });
    }
    const checked = v.safeParse(descriptor, parsed);
    if (!checked.success) {
      throw new ConfigError(`output ${key} is not a tierq queue description: ${checked.issues[0].message}`);
    }
    found.push(checked.output);
  }
  return found;
}

/**
 * The queue `wanted` names (its construct path, or the path's last part, case-insensitive); with
 * no `wanted`, the only queue. Throws a {@link ConfigError} listing the queues when the choice is
 * missing or ambiguous.
 *
 * @example
 * ```ts
 * const orders = selectTaskQueue(taskQueuesInOutputs(outputs), 'Orders', 'stack orders-dev');
 * ```
 */
export function selectTaskQueue<T extends Pick<TaskQueueDescriptor, 'path'>>(
  queues: readonly T[],
  wanted: string | undefined,
  source: string,
): T {
  const list = queues.map((q) => q.path).join(', ');
  if (wanted === undefined) {
    const [only, ...more] = queues;
    if (only === undefined) throw new ConfigError(`${source} has no tierq queue`);
    if (more.length > 0)
      throw new ConfigError(`${source} has several tierq queues; choose one with --queue: ${list}`);
    return only;
  }
  const lower = wanted.toLowerCase();
  const matches = queues.filter(
    (q) => q.path.toLowerCase() === lower || q.path.split('/').at(-1)?.toLowerCase() === lower,
  );
  const [match, ...others] = matches;
  if (match === undefined)
    throw new ConfigError(`${source} has no tierq queue "${wanted}"; it has: ${list || 'none'}`);
  if (others.length > 0) {
    throw new ConfigError(
      `"${wanted}" names several queues in ${source}: ${matches.map((q) => q.path).join(', ')}`,
    );
  }
  return match;
}
