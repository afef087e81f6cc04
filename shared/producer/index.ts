/**
 * The tierq producer SDK: enqueue tasks onto the tier queues from any Node.js service.
 *
 * @example
 * ```ts
 * import { createProducer, loadLocalConfig } from 'tierq/producer';
 * const producer = createProducer(await loadLocalConfig());
 * await producer.enqueue('echo', { hello: 'world' }, { priority: 'high' });
 * ```
 */
export {
  connectionFromOutputs,
  loadLocalConfig,
  loadStackConfig,
  type TierqConnection,
} from '../connection.js';
export { InvalidMessageError, MessageTooLargeError, QueueFullError, UnknownTierError } from '../errors.js';
export { packBatches, SQS_BATCH_LIMITS } from '../pack-batches.js';
export { type DedupClaim, DedupStore } from '../stores/dedup-store.js';
export { type ContractInput, defineContract, type TaskContract } from '../task-contract.js';
export type { BackpressureOptions, BackpressureStrategy } from './backpressure.js';
export type { ProducerConfig } from './config.js';
export { type EnqueueOptions, MAX_DELAY_SECONDS } from './message.js';
export {
  createProducer,
  type EnqueueItem,
  type EnqueueManyResult,
  type EnqueueResult,
  type Producer,
} from './producer.js';
export { BatchEntryError } from './send-batch.js';
