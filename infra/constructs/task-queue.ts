import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  type AccessResources,
  EnvVar,
  SQS_MAX_MESSAGE_BYTES,
  TableSchema,
  tierQueueUrlVar,
} from '../../shared/declaration.js';
import { accessPolicyStatements, grantAccess } from './access.js';
import { alarmTopicKey } from './alarm-key.js';
import { TaskQueueDashboard } from './task-queue-dashboard.js';
import { TierqFunction } from './tierq-function.js';
import { DEFAULT_TIERS, pascalCase, type ResolvedTier, resolveTiers, type TierConfig } from './tiers.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The consumer bundled when no `consumerEntry` is given: tierq's example tasks. */
export const DEFAULT_CONSUMER_ENTRY = path.join(here, '..', '..', 'functions', 'consumer.ts');

/** Props for {@link TaskQueue}. Every field has a production-sane default. */
export interface TaskQueueProps {
  /** Priority tiers, highest first. Default: critical/high/normal/low with weights 8/4/2/1. */
  readonly tiers?: readonly TierConfig[];
  /** Concurrent consumer invocations split across tiers by weight (each tier gets >= 2). Default 20. */
  readonly consumerConcurrency?: number;
  /** Receives before SQS moves a message to the DLQ. Default 10 (tasks dead-letter themselves sooner). */
  readonly maxReceiveCount?: number;
  /** Handler module bundled as the consumer; it registers your tasks. Default: the example tasks. */
  readonly consumerEntry?: string;
  /** Consumer function timeout. The tier visibility timeout is 6x this plus the batching window. Default 30 s. */
  readonly consumerTimeout?: Duration;
  /** Consumer memory in MB. Default 512. */
  readonly consumerMemorySize?: number;
  /** Consumer runtime. Default Node.js 22. */
  readonly consumerRuntime?: lambda.Runtime;
  /** Extra environment for the consumer (e.g. your own settings). */
  readonly consumerEnvironment?: Record<string, string>;
  /**
   * `MaximumMessageSize` of the tier queues in bytes (1,024–1,048,576). Producers and the
   * consumer's re-sends follow it. Default 1 MiB, SQS's largest; the DLQ always takes 1 MiB.
   */
  readonly maxMessageSize?: number;
  /** How long tier queues keep unconsumed messages. Default 4 days. */
  readonly queueRetention?: Duration;
  /** DLQ alarm fires at this many visible messages. Default 1: any dead letter. */
  readonly dlqAlarmThreshold?: number;
  /** Consumer Errors alarm threshold per 5 minutes (whole-batch failures: crashes, timeouts). Default 1. */
  readonly consumerErrorsAlarmThreshold?: number;
  /** Subscribe this address to the alarm topic. */
  readonly alarmEmail?: string;
  /** Removal policy for queues, table and log group. Default DESTROY (use RETAIN in production). */
  readonly removalPolicy?: RemovalPolicy;
  /** Consumer log retention. Default one month. */
  readonly logRetention?: logs.RetentionDays;
  /** Protect the table from deletion. Default false. */
  readonly tableDeletionProtection?: boolean;
}

/**
 * A priority task queue on SQS, Lambda and DynamoDB: one queue per tier sharing a dead-letter
 * queue, one table for dedup/idempotency/state/rate limits, a consumer with one event source
 * mapping per tier, and alarms on an encrypted SNS topic.
 *
 * @example
 * const queue = new TaskQueue(this, 'Tasks', {
 *   consumerEntry: 'src/worker.ts',
 *   tiers: [{ name: 'urgent', weight: 3 }, { name: 'bulk', weight: 1 }],
 * });
 * queue.grantEnqueue(apiFunction);
 */
export class TaskQueue extends Construct {
  readonly tiers: readonly ResolvedTier[];
  /** Tier queues by tier name. */
  readonly queues: Readonly<Record<string, sqs.Queue>>;
  readonly deadLetterQueue: sqs.Queue;
  readonly table: dynamodb.Table;
  readonly consumer: TierqFunction;
  readonly alarmTopic: sns.Topic;
  readonly alarms: readonly cloudwatch.Alarm[];
  /** A managed policy producers can attach: enqueue to every tier plus their dedup keys. */
  readonly producerPolicy: iam.ManagedPolicy;
  /** A managed policy for operators (the `tierq` CLI): status, task lookup, DLQ work, enqueue. */
  readonly operatorPolicy: iam.ManagedPolicy;
  readonly maxReceiveCount: number;
  /** The tier queues' `MaximumMessageSize` in bytes. */
  readonly maxMessageSize: number;

  constructor(scope: Construct, id: string, props: TaskQueueProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const consumerTimeout = props.consumerTimeout ?? Duration.seconds(30);
    this.maxReceiveCount = props.maxReceiveCount ?? 10;
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1 || this.maxReceiveCount > 1000) {
      throw new Error(`TaskQueue: maxReceiveCount must be an integer 1–1000, got ${this.maxReceiveCount}`);
    }
    this.maxMessageSize = props.maxMessageSize ?? SQS_MAX_MESSAGE_BYTES;
    if (
      !Number.isInteger(this.maxMessageSize) ||
      this.maxMessageSize < 1_024 ||
      this.maxMessageSize > SQS_MAX_MESSAGE_BYTES
    ) {
      throw new Error(
        `TaskQueue: maxMessageSize must be an integer 1024–${SQS_MAX_MESSAGE_BYTES}, got ${this.maxMessageSize}`,
      );
    }
    this.tiers = resolveTiers(props.tiers ?? DEFAULT_TIERS, props.consumerConcurrency ?? 20);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // A dead letter is its task's body plus tierq's reason attributes: always take SQS's largest.
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
      removalPolicy,
    });

    const queues: Record<string, sqs.Queue> = {};
    for (const tier of this.tiers) {
      queues[tier.name] = new sqs.Queue(this, `${pascalCase(tier.name)}Queue`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: props.queueRetention ?? Duration.days(4),
        maxMessageSizeBytes: this.maxMessageSize,
        // AWS: at least 6x the function timeout when batching, plus the batching window.
        visibilityTimeout: Duration.seconds(
          6 * consumerTimeout.toSeconds() + (tier.maxBatchingWindow?.toSeconds() ?? 0),
        ),
        deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
        removalPolicy,
      });
    }
    this.queues = queues;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TableSchema.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TableSchema.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TableSchema.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.tableDeletionProtection ?? false,
      removalPolicy,
    });

    this.consumer = this.createConsumer(props, consumerTimeout, removalPolicy);
    grantAccess(this.consumer, 'consumer', this.accessResources());

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'tierq alarms',
      enforceSSL: true,
      masterKey: alarmTopicKey(this, removalPolicy),
    });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    this.alarms = this.createAlarms(props);

    this.producerPolicy = new iam.ManagedPolicy(this, 'ProducerPolicy', {
      description: 'Enqueue tierq tasks to any tier and claim deduplication keys',
      statements: accessPolicyStatements('producer', this.accessResources()),
    });
    this.operatorPolicy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
      description: 'Operate tierq: queue status, task lookup, dead-letter peek/replay/purge, enqueue',
      statements: accessPolicyStatements('operator', this.accessResources()),
    });
    Validations.of(this.operatorPolicy).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData (tierq status: queue age and task activity) supports no resource-level ' +
        'permissions; it is the only action on Resource * (shared/declaration.ts, ReadActivityMetrics).',
    });

    new TaskQueueDashboard(this, 'Dashboard', {
      tiers: this.tiers,
      queues: this.queues,
      deadLetterQueue: this.deadLetterQueue,
      consumer: this.consumer,
    });
  }

  /**
   * The queue of one tier; throws for a tier this queue does not have.
   *
   * @example
   * const critical = queue.queue('critical');
   */
  queue(tier: string): sqs.Queue {
    const queue = this.queues[tier];
    if (!queue) throw new Error(`TaskQueue: no tier named "${tier}"`);
    return queue;
  }

  /**
   * Lets `grantee` enqueue to every tier and claim deduplication keys (the producer's declared
   * access, shared/declaration.ts).
   *
   * @example
   * queue.grantEnqueue(apiFunction);
   */
  grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    return grantAccess(grantee, 'producer', this.accessResources());
  }

  /**
   * Lets `grantee` operate the queue as the `tierq` CLI does: queue depths and activity, task
   * lookup, dead-letter peek/replay/purge, and enqueue.
   *
   * @example
   * queue.grantOperate(opsRole);
   */
  grantOperate(grantee: iam.IGrantable): iam.Grant {
    return grantAccess(grantee, 'operator', this.accessResources());
  }

  /** The ARNs the declaration's resources stand for in this deployment. */
  private accessResources(): AccessResources {
    return {
      tierQueueArns: this.tiers.map((t) => this.queue(t.name).queueArn),
      deadLetterQueueArn: this.deadLetterQueue.queueArn,
      tableArn: this.table.tableArn,
      // The stack's own id (its full ARN): no wildcard for the stack's unique suffix.
      stackArn: Stack.of(this).stackId,
    };
  }

  private createConsumer(
    props: TaskQueueProps,
    timeout: Duration,
    removalPolicy: RemovalPolicy,
  ): TierqFunction {
    const consumer = new TierqFunction(this, 'Consumer', {
      entry: props.consumerEntry ?? DEFAULT_CONSUMER_ENTRY,
      timeout,
      memorySize: props.consumerMemorySize ?? 512,
      ...(props.consumerRuntime ? { runtime: props.consumerRuntime } : {}),
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
      environment: {
        [EnvVar.tiers]: this.tiers.map((t) => t.name).join(','),
        [EnvVar.maxReceiveCount]: String(this.maxReceiveCount),
        [EnvVar.maxMessageBytes]: String(this.maxMessageSize),
        [EnvVar.tableName]: this.table.tableName,
        [EnvVar.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        ...Object.fromEntries(this.tiers.map((t) => [tierQueueUrlVar(t.name), this.queue(t.name).queueUrl])),
        ...props.consumerEnvironment,
      },
    });
    for (const tier of this.tiers) {
      // A plain mapping, not SqsEventSource: that would add its own grant beside the declared one.
      consumer.addEventSourceMapping(`${pascalCase(tier.name)}Source`, {
        eventSourceArn: this.queue(tier.name).queueArn,
        batchSize: tier.batchSize,
        ...(tier.maxBatchingWindow ? { maxBatchingWindow: tier.maxBatchingWindow } : {}),
        reportBatchItemFailures: true,
        maxConcurrency: tier.maxConcurrency,
      });
    }
    return consumer;
  }

  private createAlarms(props: TaskQueueProps): cloudwatch.Alarm[] {
    const action = new cwActions.SnsAction(this.alarmTopic);
    const alarms: cloudwatch.Alarm[] = [
      new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
        alarmDescription: 'Tasks reached the tierq dead-letter queue: inspect with `tierq dlq peek`',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: props.dlqAlarmThreshold ?? 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'ConsumerErrorsAlarm', {
        alarmDescription: 'The tierq consumer failed whole batches (crash or timeout)',
        metric: this.consumer.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: props.consumerErrorsAlarmThreshold ?? 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    for (const tier of this.tiers) {
      const queue = this.queue(tier.name);
      alarms.push(
        new cloudwatch.Alarm(this, `${pascalCase(tier.name)}AgeAlarm`, {
          alarmDescription: `Oldest ${tier.name} task waited longer than ${tier.maxMessageAge.toHumanString()}`,
          metric: queue.metricApproximateAgeOfOldestMessage({
            period: Duration.minutes(1),
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
          threshold: tier.maxMessageAge.toSeconds(),
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    for (const alarm of alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    return alarms;
  }
}
