import { MAX_BODY_BYTES } from '../contract.js';
import { TierqError } from '../errors.js';

/**
 * A message body is larger than SQS accepts; nothing was sent.
 *
 * @example
 * ```ts
 * if (error instanceof MessageTooLargeError) storeInS3AndSendPointer(payload, error.bytes);
 * ```
 */
export class MessageTooLargeError extends TierqError {
  readonly bytes: number;
  readonly limit: number;
  constructor(props: { task: string; bytes: number }, options?: ErrorOptions) {
    super(
      `message for task "${props.task}" is ${props.bytes} bytes, over the SQS limit of 256 KiB (${MAX_BODY_BYTES} bytes)`,
      options,
    );
    this.name = 'MessageTooLargeError';
    this.bytes = props.bytes;
    this.limit = MAX_BODY_BYTES;
  }
}

/**
 * An enqueue named a priority tier the producer has no queue for; nothing was sent.
 *
 * @example
 * ```ts
 * throw new UnknownTierError({ tier: 'urgent', tiers: ['critical', 'normal'] });
 * ```
 */
export class UnknownTierError extends TierqError {
  readonly tier: string;
  readonly tiers: readonly string[];
  constructor(props: { tier: string; tiers: readonly string[] }, options?: ErrorOptions) {
    super(`unknown priority "${props.tier}"; the tiers are: ${props.tiers.join(', ')}`, options);
    this.name = 'UnknownTierError';
    ({ tier: this.tier, tiers: this.tiers } = props);
  }
}
