/**
 * `tierq/cdk`: the CDK side of tierq — the `TaskQueue` construct, its props and tiers, and the
 * function factory it builds the consumer with. Nothing here is bundled into a Lambda function.
 *
 * @example
 * import { TaskQueue } from 'tierq/cdk';
 * const tasks = new TaskQueue(this, 'Tasks', { consumerEntry: 'src/worker.ts' });
 */
export { accessPolicyStatements, grantAccess } from './constructs/access.js';
export { TaskQueue } from './constructs/task-queue.js';
export type { ConsumerFunctionProps, TaskQueueProps } from './constructs/task-queue-props.js';
export { TierqFunction, type TierqFunctionProps } from './constructs/tierq-function.js';
export { DEFAULT_TIERS, MAX_TIERS, type ResolvedTier, type TierConfig } from './constructs/tiers.js';
