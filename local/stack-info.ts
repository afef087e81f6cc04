import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { connectionFromOutputs } from '../shared/connection.js';
import type { TaskQueueDescriptor } from '../shared/declaration.js';
import { selectTaskQueue, taskQueuesInOutputs } from '../shared/task-queue-outputs.js';
import type { LocalPrincipalKeys } from './iam/local-rules.js';
import { LocalResolveError } from './intrinsics.js';

/** What `.tierq/local.json` holds: enough for a producer or the CLI to reach the local stack. */
export interface LocalStackInfo {
  readonly region: string;
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string; readonly lambda?: string };
  /** Queue URL per tier, highest priority first. */
  readonly queues: Readonly<Record<string, string>>;
  readonly dlq: string;
  readonly table: string;
  /**
   * Local keys of the principals holding the stack's producer and operator policies, when IAM is
   * enforced: `loadLocalConfig` signs a producer's requests with `producer`, the CLI with `operator`.
   */
  readonly principals?: LocalPrincipalKeys;
  readonly metricsNamespace?: string;
  /** The id of each tier's event source mapping, as the local Lambda API knows it. */
  readonly eventSourceMappings?: Readonly<Record<string, string>>;
  /** Every task queue of the stack (its own outputs), when the stack describes them. */
  readonly taskQueues?: readonly LocalTaskQueue[];
}

/**
 * Resolves the stack's outputs; those naming a resource that is not run locally (SNS topic, IAM
 * policy) are left out.
 *
 * @example
 * const outputs = resolveOutputs(stack.template.Outputs ?? {}, local.resolve);
 */
export function resolveOutputs(
  outputs: Record<string, { Value: unknown }>,
  resolve: (value: unknown, where: string) => unknown,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [key, output] of Object.entries(outputs)) {
    try {
      resolved[key] = String(resolve(output.Value, `Output ${key}`));
    } catch (error) {
      // An output naming a resource that is not run locally (SNS topic, IAM policy) is left out.
      if (!(error instanceof LocalResolveError)) throw error;
    }
  }
  return resolved;
}

/** One task queue of the local stack, as `.tierq/local.json` lists it. */
export interface LocalTaskQueue {
  /** The construct path. */
  readonly path: string;
  readonly queues: Readonly<Record<string, string>>;
  readonly dlq: string;
  readonly table: string;
  readonly metricsNamespace?: string;
  readonly principals?: LocalPrincipalKeys;
  /** The id of each tier's event source mapping, as the local Lambda API knows it. */
  readonly eventSourceMappings?: Readonly<Record<string, string>>;
}

/**
 * Builds the connection info from the stack's outputs: every task queue's own output when there
 * are any (the first, or the one `queue` names, also at the top level), else the outputs
 * TierqStack names. `principalsOf` gives the keys of a queue's producer and operator policies.
 *
 * @example
 * const info = stackInfo(outputs, 'us-east-1', endpoints, (d) => ({ producer: keysOf(d.producerPolicyArn) }));
 */
export function stackInfo(
  outputs: Record<string, string>,
  region: string,
  endpoints: LocalStackInfo['endpoints'],
  principalsOf: (queue: TaskQueueDescriptor | undefined) => LocalPrincipalKeys = () => ({}),
  queue?: string,
): LocalStackInfo {
  const described = taskQueuesInOutputs(outputs);
  if (described.length === 0) {
    const principals = principalsOf(undefined);
    return {
      region,
      endpoints,
      ...connectionFromOutputs(outputs, 'the stack', queue),
      ...(Object.keys(principals).length > 0 ? { principals } : {}),
    };
  }
  const taskQueues = described.map((d): LocalTaskQueue => {
    const principals = principalsOf(d);
    return {
      path: d.path,
      queues: Object.fromEntries(d.tiers.map((t) => [t, d.queues[t] as string])),
      dlq: d.dlq,
      table: d.table,
      metricsNamespace: d.metricsNamespace,
      ...(d.eventSourceMappings === undefined ? {} : { eventSourceMappings: d.eventSourceMappings }),
      ...(Object.keys(principals).length > 0 ? { principals } : {}),
    };
  });
  const { path: _, ...first } =
    queue === undefined ? (taskQueues[0] as LocalTaskQueue) : selectTaskQueue(taskQueues, queue, 'the stack');
  return { region, endpoints, ...first, taskQueues };
}

/**
 * Writes JSON through a temporary file and a rename, so a reader never sees half a file.
 *
 * @example
 * await writeJsonAtomically('.tierq/local.json', info);
 */
export async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  const absolute = resolvePath(file);
  await mkdir(dirname(absolute), { recursive: true });
  const temporary = `${absolute}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, absolute);
}
