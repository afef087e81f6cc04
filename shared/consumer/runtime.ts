/**
 * What the consumer's middlewares share: configuration, registry, clients, stores and clock.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { TaskRegistry } from '../registry.js';
import type { DynamoBreakerStore } from '../stores/dynamo-breaker-store.js';
import type { PausedTasks } from '../stores/pause-store.js';
import type { RateLimiter } from '../stores/rate-limiter.js';
import type { TaskStore } from '../stores/task-store.js';
import type { TenantLeases } from '../stores/tenant-leases.js';
import type { ConsumerConfig } from './config.js';

/**
 * Everything the consumer's middlewares share: configuration, the registry, the SQS client and
 * the stores, and a clock (injectable so tests can shorten time).
 *
 * @example
 * const runtime: ConsumerRuntime = { config, registry, sqs, store, limiter, pauses, now: Date.now, maxHopSeconds: 900 };
 */
export interface ConsumerRuntime {
  readonly config: ConsumerConfig;
  readonly registry: TaskRegistry;
  readonly sqs: SQSClient;
  readonly store: TaskStore;
  readonly limiter: RateLimiter;
  /** Circuit breaker state; required when a registered task declares a `breaker`. */
  readonly breakers?: BreakerStore;
  /** The tasks an operator paused (`tierq pause task`), read cheaply (cached per container). */
  readonly pauses: PausedTasks;
  /** Per-tenant concurrency leases; required only when a task sets `concurrency.perTenant`. */
  readonly leases?: TenantLeases;
  /** Epoch ms. */
  readonly now: () => number;
  /** Longest single delay for a not-yet-due task (SQS allows 900 s; tests shorten it). */
  readonly maxHopSeconds: number;
  /** The backoff's jitter, in [0, 1). Default: `Math.random` (injectable so tests can fix it). */
  readonly random?: () => number;
}

/** The queue URL of a tier, if the consumer knows it. */
export function tierQueueUrl(
  runtime: Pick<ConsumerRuntime, 'config'>,
  tier: string | undefined,
): string | undefined {
  return runtime.config.tiers.find((t) => t.name === tier)?.queueUrl;
}

/** What the consumer asks of circuit breaker state (`DynamoBreakerStore` implements it). */
export type BreakerStore = Pick<
  DynamoBreakerStore,
  'read' | 'recordFailures' | 'claimProbe' | 'settleProbe' | 'releaseProbe'
>;
