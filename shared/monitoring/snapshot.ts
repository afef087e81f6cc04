import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import type { ActivitySource } from './activity.js';

/** Depth of one tier queue. */
export interface TierSnapshot {
  /** Messages available to receive (`ApproximateNumberOfMessages`). */
  readonly visible: number;
  /** Received and not yet deleted (`ApproximateNumberOfMessagesNotVisible`). */
  readonly inFlight: number;
  /** Sent with a delay that has not passed (`ApproximateNumberOfMessagesDelayed`). */
  readonly delayed: number;
  /**
   * Age of the oldest message, in seconds, when an activity source knows it (SQS has no queue
   * attribute for it): CloudWatch's `ApproximateAgeOfOldestMessage` on AWS, the emulator locally.
   */
  readonly oldestAgeSeconds: number | null;
}

/** The result of {@link snapshot}. */
export interface QueueSnapshot {
  readonly tiers: Readonly<Record<string, TierSnapshot>>;
  readonly dlq: { readonly visible: number };
  /** Tasks completed and failed (attempts) over the last minute, when the activity source has them. */
  readonly perMinute?: { readonly completed: number; readonly failed: number };
}

/** Options of {@link snapshot}. */
export interface SnapshotOptions {
  readonly sqs: SQSClient;
  /** Queue URL of each tier. */
  readonly queues: Readonly<Record<string, string>>;
  readonly dlqUrl: string;
  /** Where oldest ages and per-minute counts come from; its failure leaves them out, not the snapshot. */
  readonly activity?: ActivitySource;
}

const DEPTH_ATTRIBUTES: QueueAttributeName[] = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
];

async function depth(sqs: SQSClient, queueUrl: string): Promise<TierSnapshot> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: DEPTH_ATTRIBUTES }),
  );
  const count = (name: QueueAttributeName) => Number(Attributes[name] ?? 0);
  return {
    visible: count('ApproximateNumberOfMessages'),
    inFlight: count('ApproximateNumberOfMessagesNotVisible'),
    delayed: count('ApproximateNumberOfMessagesDelayed'),
    oldestAgeSeconds: null,
  };
}

/**
 * Approximate depth of every tier and of the DLQ, read with GetQueueAttributes, all queues in
 * parallel. The counts are SQS's approximations: they settle within about a minute on AWS.
 *
 * @example
 * ```ts
 * const { tiers, dlq } = await snapshot({ sqs, queues: { high: highUrl, low: lowUrl }, dlqUrl });
 * console.log(tiers.high.visible, tiers.low.delayed, dlq.visible);
 * ```
 */
export async function snapshot(options: SnapshotOptions): Promise<QueueSnapshot> {
  const { sqs, queues, dlqUrl } = options;
  const names = Object.keys(queues);
  const [activity, dlq, ...depths] = await Promise.all([
    // Optional extras: an unreachable CloudWatch must not hide the queue depths.
    options.activity?.().catch(() => undefined),
    depth(sqs, dlqUrl),
    ...names.map((name) => depth(sqs, queues[name] as string)),
  ]);
  const tiers: Record<string, TierSnapshot> = {};
  names.forEach((name, i) => {
    const age = activity?.oldestAgeSeconds?.[name];
    tiers[name] = { ...(depths[i] as TierSnapshot), oldestAgeSeconds: age ?? null };
  });
  return {
    tiers,
    dlq: { visible: (dlq as TierSnapshot).visible },
    ...(activity?.perMinute === undefined ? {} : { perMinute: activity.perMinute }),
  };
}
