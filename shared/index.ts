/**
 * The tierq runtime library: define tasks, build a consumer, read task state.
 *
 * @example
 * import { createConsumer, defineTask, loadConsumerConfig, TaskRegistry } from './shared/index.js';
 */
export {
  type Breaker,
  type BreakerOptions,
  BreakerState,
  breakerStateOf,
  defineBreaker,
  isDownstreamFailure,
} from './breaker.js';
export { backoffDelayMs, DEFAULT_RETRY_POLICY, type RetryPolicy } from './consumer/backoff.js';
export { type ConsumerConfig, loadConsumerConfig } from './consumer/config.js';
export { type ConsumerOptions, createConsumer } from './consumer/consumer.js';
export { DeadLetterAttribute, DeadLetterReason } from './consumer/dead-letter.js';
export { createDefaultConsumer, type DefaultConsumerOptions } from './consumer/default-consumer.js';
export {
  CONTRACT_VERSION,
  parseEnvelope,
  serializeEnvelope,
  type TaskEnvelope,
} from './contract.js';
export * from './errors.js';
export { logger } from './logger.js';
export {
  defineTask,
  IdempotencyMode,
  type TaskContext,
  type TaskDefinition,
  type TaskInput,
  TaskRegistry,
} from './registry.js';
export { DynamoBreakerStore } from './stores/dynamo-breaker-store.js';
export { DynamoRateLimiter } from './stores/dynamo-rate-limiter.js';
export { DynamoTaskStore } from './stores/dynamo-task-store.js';
export { DynamoTenantLeases } from './stores/dynamo-tenant-leases.js';
export type { RateLimiter } from './stores/rate-limiter.js';
export { findTaskStates, getTaskState, type TaskState } from './stores/task-lookup.js';
export type { TaskStore } from './stores/task-store.js';
export type { LeaseGrant, LeaseKey, TenantLeases } from './stores/tenant-leases.js';
export {
  type ContractInput,
  type ContractOutput,
  checkPayload,
  defineContract,
  type TaskContract,
} from './task-contract.js';
export {
  type ConcurrencyOption,
  MAX_PER_TENANT_CONCURRENCY,
  type PerTenantRateLimit,
} from './tenant-limits.js';
