/**
 * The props of the `TaskQueue` construct: what it creates by default, what you may bring
 * instead (`existing*`), and what passes through to the consumer function.
 */
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { TierConfig } from './tiers.js';

/**
 * Consumer function props passed through as given (VPC, layers, tracing, reserved concurrency,
 * bundling, …). The construct owns the entry, runtime, timeout, memory, role, log group and the
 * environment it sets; use the `consumer*` props for those.
 */
export type ConsumerFunctionProps = Omit<
  nodejs.NodejsFunctionProps,
  'entry' | 'runtime' | 'timeout' | 'memorySize' | 'role' | 'logGroup' | 'environment'
>;

/** Props for `TaskQueue`. Every field but `consumerEntry` has a production-safe default. */
export interface TaskQueueProps {
  /** Handler module bundled as the consumer; it registers your tasks (`createDefaultConsumer`). */
  readonly consumerEntry: string;
  /** Priority tiers, highest first. Default: critical/high/normal/low with weights 8/4/2/1. */
  readonly tiers?: readonly TierConfig[];
  /** Concurrent consumer invocations split across tiers by weight (each tier gets >= 2). Default 20. */
  readonly consumerConcurrency?: number;
  /**
   * Receives before SQS moves a message to the DLQ. Default 10 (tasks dead-letter themselves
   * sooner). With `existingTierQueues`, give your queues' own redrive count.
   */
  readonly maxReceiveCount?: number;
  /** Consumer function timeout. The tier visibility timeout is 6x this plus the batching window. Default 30 s. */
  readonly consumerTimeout?: Duration;
  /** Consumer memory in MB. Default 512. */
  readonly consumerMemorySize?: number;
  /** Consumer runtime. Default Node.js 22. */
  readonly consumerRuntime?: lambda.Runtime;
  /** Extra environment for the consumer (e.g. your own settings). */
  readonly consumerEnvironment?: Record<string, string>;
  /** Anything else for the consumer function: VPC, layers, tracing, reserved concurrency, bundling. */
  readonly consumerFunctionProps?: ConsumerFunctionProps;
  /** How long tier queues keep unconsumed messages. Default 4 days. */
  readonly queueRetention?: Duration;
  /**
   * `MaximumMessageSize` of the tier queues in bytes (1,024–1,048,576). Producers and the
   * consumer's re-sends follow it. Default 1 MiB, SQS's largest; the DLQ always takes 1 MiB.
   */
  readonly maxMessageSize?: number;
  /** DLQ alarm fires at this many visible messages. Default 1: any dead letter. */
  readonly dlqAlarmThreshold?: number;
  /** Consumer Errors alarm threshold per 5 minutes (whole-batch failures: crashes, timeouts). Default 1. */
  readonly consumerErrorsAlarmThreshold?: number;
  /** Subscribe this address to the alarm topic. */
  readonly alarmEmail?: string;
  /**
   * What happens to the queues, table, key and log group when they leave the stack. Default
   * RETAIN: a task queue holds work and results. Development stacks opt into DESTROY.
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Consumer log retention. Default one month. */
  readonly logRetention?: logs.RetentionDays;
  /** Protect the table from deletion. Default false. */
  readonly tableDeletionProtection?: boolean;
  /**
   * CloudWatch namespace of the consumer's task metrics. Default `tierq/<construct path>`, so
   * two queues (or two stacks) in one account and region never sum into one another.
   */
  readonly metricsNamespace?: string;
  /**
   * Your own table instead of a new one. It must have string keys `pk` (partition) and `sk`
   * (sort) and TTL on `expiresAt`; tierq only writes items under `task#`, `ratelimit#` and
   * `dedup#` partition keys.
   */
  readonly existingTable?: dynamodb.ITable;
  /**
   * Your own tier queues, one per tier name (requires `existingDeadLetterQueue`). Their redrive
   * policy and visibility timeout (at least 6x the consumer timeout) are yours to set.
   */
  readonly existingTierQueues?: Readonly<Record<string, sqs.IQueue>>;
  /** Your own dead-letter queue: the tiers redrive to it and the consumer sends letters to it. */
  readonly existingDeadLetterQueue?: sqs.IQueue;
  /** Your own topic for the alarms (its key policy must let CloudWatch publish). */
  readonly existingAlarmTopic?: sns.ITopic;
  /** Your own KMS key for the alarm topic, instead of one the construct creates. */
  readonly alarmTopicKey?: kms.IKey;
}
