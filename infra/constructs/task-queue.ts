import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { alarmTopicKey } from './alarm-key.js';
import { TaskQueueDashboard } from './task-queue-dashboard.js';
import { TierqFunction } from './tierq-function.js';
import {
  DEFAULT_TIERS,
  envCase,
  pascalCase,
  type ResolvedTier,
  resolveTiers,
  type TierConfig,
} from './tiers.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The consumer bundled when no `consumerEntry` is given: tierq's example tasks. */
export const DEFAULT_CONSUMER_ENTRY = path.join(here, '..', '..', 'functions', 'consumer.ts');

/** Name of the table's TTL attribute (epoch seconds); every record kind sets it. */
export const TTL_ATTRIBUTE = 'expiresAt';

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
  /** A managed policy producers can attach: enqueue to every tier plus dedup writes. */
  readonly producerPolicy: iam.ManagedPolicy;
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: TaskQueueProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const consumerTimeout = props.consumerTimeout ?? Duration.seconds(30);
    this.maxReceiveCount = props.maxReceiveCount ?? 10;
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1 || this.maxReceiveCount > 1000) {
      throw new Error(`TaskQueue: maxReceiveCount must be an integer 1–1000, got ${this.maxReceiveCount}`);
    }
    this.tiers = resolveTiers(props.tiers ?? DEFAULT_TIERS, props.consumerConcurrency ?? 20);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });

    const queues: Record<string, sqs.Queue> = {};
    for (const tier of this.tiers) {
      queues[tier.name] = new sqs.Queue(this, `${pascalCase(tier.name)}Queue`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: props.queueRetention ?? Duration.days(4),
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
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.tableDeletionProtection ?? false,
      removalPolicy,
    });

    this.consumer = this.createConsumer(props, consumerTimeout, removalPolicy);

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
      description: 'Enqueue tierq tasks to any tier and record deduplication keys',
      statements: this.enqueueStatements(),
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
   * Lets `grantee` enqueue to every tier and write deduplication keys.
   *
   * @example
   * queue.grantEnqueue(apiFunction);
   */
  grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    const [send, dedup] = this.enqueueStatements();
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: send?.actions ?? [],
      resourceArns: send?.resources ?? [],
    });
    return grant.combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: dedup?.actions ?? [],
        resourceArns: dedup?.resources ?? [],
      }),
    );
  }

  private enqueueStatements(): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: Object.values(this.queues).map((q) => q.queueArn),
      }),
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:GetItem'],
        resources: [this.table.tableArn],
      }),
    ];
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
        TIERQ_TIERS: this.tiers.map((t) => t.name).join(','),
        TIERQ_MAX_RECEIVE_COUNT: String(this.maxReceiveCount),
        ...props.consumerEnvironment,
      },
    });
    consumer.bindTable('TIERQ_TABLE_NAME', this.table, 'readWrite');
    consumer.bindQueueSend('TIERQ_DLQ_URL', this.deadLetterQueue);
    for (const tier of this.tiers) {
      const queue = this.queue(tier.name);
      // Send too: deferrals and not-yet-due tasks are re-enqueued to their own tier.
      consumer.bindQueueSend(`TIERQ_QUEUE_URL_${envCase(tier.name)}`, queue);
      consumer.addEventSource(
        new eventSources.SqsEventSource(queue, {
          batchSize: tier.batchSize,
          ...(tier.maxBatchingWindow ? { maxBatchingWindow: tier.maxBatchingWindow } : {}),
          reportBatchItemFailures: true,
          maxConcurrency: tier.maxConcurrency,
        }),
      );
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
