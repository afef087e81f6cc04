/**
 * The `TaskQueue` construct: tier queues redriving to a DLQ, the state table, the consumer on one
 * event source mapping per tier, alarms and a dashboard — each replaceable by your own resource
 * (`existing*`), with grants derived from the declaration of what tierq's code calls.
 */
import { CfnOutput, Duration, Names, RemovalPolicy, Stack, ValidationError, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
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
  TASK_QUEUE_OUTPUT_PREFIX,
  TableSchema,
  type TaskQueueDescriptor,
  taskQueueOutputDescription,
  tierQueueUrlVar,
} from '../../shared/declaration.js';
import { accessPolicyStatements, grantAccess } from './access.js';
import { alarmTopicKey } from './alarm-key.js';
import { createTaskQueueAlarms } from './task-queue-alarms.js';
import { TaskQueueDashboard } from './task-queue-dashboard.js';
import type { TaskQueueProps } from './task-queue-props.js';
import { CONSUMER_SERVICE_NAME, TierqFunction } from './tierq-function.js';
import { DEFAULT_TIERS, pascalCase, type ResolvedTier, resolveTiers } from './tiers.js';

export type { ConsumerFunctionProps, TaskQueueProps } from './task-queue-props.js';

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
  readonly queues: Readonly<Record<string, sqs.IQueue>>;
  readonly deadLetterQueue: sqs.IQueue;
  readonly table: dynamodb.ITable;
  readonly consumer: TierqFunction;
  /** The consumer's event source mapping per tier (what `tierq pause tier` disables). */
  readonly eventSourceMappings: Readonly<Record<string, lambda.IEventSourceMapping>> = {};
  readonly alarmTopic: sns.ITopic;
  readonly alarms: readonly cloudwatch.Alarm[];
  /** A managed policy producers can attach: enqueue to every tier plus their dedup keys. */
  readonly producerPolicy: iam.ManagedPolicy;
  /** A managed policy for operators (the `tierq` CLI): status, task lookup, DLQ work, enqueue. */
  readonly operatorPolicy: iam.ManagedPolicy;
  readonly maxReceiveCount: number;
  /** The tier queues' `MaximumMessageSize` in bytes. */
  readonly maxMessageSize: number;
  /** CloudWatch namespace of the consumer's task metrics. */
  readonly metricsNamespace: string;

  constructor(scope: Construct, id: string, props: TaskQueueProps) {
    super(scope, id);
    if (typeof props?.consumerEntry !== 'string' || props.consumerEntry === '') {
      this.invalid('consumerEntry', 'is required: the handler module that registers your tasks');
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const consumerTimeout = props.consumerTimeout ?? Duration.seconds(30);
    this.maxReceiveCount = props.maxReceiveCount ?? 10;
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1 || this.maxReceiveCount > 1000) {
      this.invalid('maxReceiveCount', `must be an integer 1–1000, got ${this.maxReceiveCount}`);
    }
    this.maxMessageSize = props.maxMessageSize ?? SQS_MAX_MESSAGE_BYTES;
    if (
      !Number.isInteger(this.maxMessageSize) ||
      this.maxMessageSize < 1_024 ||
      this.maxMessageSize > SQS_MAX_MESSAGE_BYTES
    ) {
      this.invalid(
        'maxMessageSize',
        `must be an integer 1024–${SQS_MAX_MESSAGE_BYTES}, got ${this.maxMessageSize}`,
      );
    }
    this.metricsNamespace =
      props.metricsNamespace ?? `tierq/${this.node.path}`.replace(/[^A-Za-z0-9._/#:-]/g, '-');
    if (this.metricsNamespace.length > 255 || this.metricsNamespace.startsWith('AWS/')) {
      this.invalid(
        'metricsNamespace',
        `must be at most 255 characters and not start with AWS/, got "${this.metricsNamespace}"`,
      );
    }
    try {
      this.tiers = resolveTiers(props.tiers ?? DEFAULT_TIERS, props.consumerConcurrency ?? 20);
    } catch (error) {
      throw validationError(this, 'TaskQueueTiers', (error as Error).message);
    }

    this.deadLetterQueue =
      props.existingDeadLetterQueue ??
      new sqs.Queue(this, 'DeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        // A dead letter is its task's body plus tierq's reason attributes: always take SQS's largest.
        maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
        removalPolicy,
      });
    this.queues = this.tierQueues(props, consumerTimeout, removalPolicy);
    this.table = props.existingTable ?? this.createTable(props, removalPolicy);

    this.consumer = this.createConsumer(props, consumerTimeout, removalPolicy);
    grantAccess(this.consumer, 'consumer', this.accessResources());

    this.alarmTopic =
      props.existingAlarmTopic ??
      new sns.Topic(this, 'AlarmTopic', {
        displayName: 'tierq alarms',
        enforceSSL: true,
        masterKey: props.alarmTopicKey ?? alarmTopicKey(this, removalPolicy),
      });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    this.alarms = createTaskQueueAlarms(this, {
      tiers: this.tiers,
      queue: (tier) => this.queue(tier),
      deadLetterQueue: this.deadLetterQueue,
      consumer: this.consumer,
      breakerOpenSeconds: this.metricBreakerOpenSeconds(),
      topic: this.alarmTopic,
      ...(props.dlqAlarmThreshold === undefined ? {} : { dlqAlarmThreshold: props.dlqAlarmThreshold }),
      ...(props.consumerErrorsAlarmThreshold === undefined
        ? {}
        : { consumerErrorsAlarmThreshold: props.consumerErrorsAlarmThreshold }),
    });

    this.producerPolicy = new iam.ManagedPolicy(this, 'ProducerPolicy', {
      description: 'Enqueue tierq tasks to any tier and claim deduplication keys',
      statements: accessPolicyStatements('producer', this.accessResources()),
    });
    this.operatorPolicy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
      description:
        'Operate tierq: queue status, task lookup, dead-letter peek/replay/purge, pause/resume, enqueue',
      statements: accessPolicyStatements('operator', this.accessResources()),
    });
    Validations.of(this.operatorPolicy).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData (tierq status: queue age and task activity) supports no resource-level ' +
        'permissions; cloudwatch:DescribeAlarms (tierq dashboard: alarm states) reads alarms whose names ' +
        'CloudFormation generates. They are the only actions on Resource * (shared/declaration.ts, ReadActivityMetrics).',
    });

    new TaskQueueDashboard(this, 'Dashboard', {
      tiers: this.tiers,
      queues: this.queues,
      deadLetterQueue: this.deadLetterQueue,
      consumer: this.consumer,
    });
    this.describeInOutput();
  }

  /**
   * The queue of one tier; throws for a tier this queue does not have.
   *
   * @example
   * const critical = queue.queue('critical');
   */
  queue(tier: string): sqs.IQueue {
    const queue = this.queues[tier];
    if (!queue) throw validationError(this, 'TaskQueueUnknownTier', `TaskQueue has no tier named "${tier}"`);
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
   * Lets `grantee` consume as tierq's consumer does: poll and settle the tiers, re-send and
   * dead-letter, read and write task state and rate-limit buckets. For a second consumer of yours.
   *
   * @example
   * queue.grantConsume(otherWorker);
   */
  grantConsume(grantee: iam.IGrantable): iam.Grant {
    return grantAccess(grantee, 'consumer', this.accessResources());
  }

  /**
   * Lets `grantee` operate the queue as the `tierq` CLI does: queue depths and activity, task
   * lookup, dead-letter peek/replay/purge, pausing and resuming tasks and tiers, and enqueue.
   *
   * @example
   * queue.grantOperate(opsRole);
   */
  grantOperate(grantee: iam.IGrantable): iam.Grant {
    return grantAccess(grantee, 'operator', this.accessResources());
  }

  /**
   * Messages waiting in one tier (`ApproximateNumberOfMessagesVisible`, maximum per minute).
   *
   * @example
   * new cloudwatch.Alarm(this, 'Backlog', { metric: queue.metricDepth('low'), threshold: 10_000, evaluationPeriods: 5 });
   */
  metricDepth(tier: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue(tier).metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
      ...props,
    });
  }

  /**
   * Age in seconds of one tier's oldest message (`ApproximateAgeOfOldestMessage`, maximum per minute).
   *
   * @example
   * const age = queue.metricAgeOfOldest('critical');
   */
  metricAgeOfOldest(tier: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue(tier).metricApproximateAgeOfOldestMessage({
      period: Duration.minutes(1),
      statistic: 'Maximum',
      ...props,
    });
  }

  /**
   * Dead letters waiting in the DLQ (maximum per minute).
   *
   * @example
   * const dead = queue.metricDlqDepth();
   */
  metricDlqDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
      ...props,
    });
  }

  /**
   * Records deferred because their circuit breaker was open or probing (sum per 5 minutes, over
   * every breaker): above 0 for several periods in a row, a breaker stays open.
   *
   * @example
   * new cloudwatch.Alarm(this, 'PaymentsDown', { metric: queue.metricBreakerDeferred(), threshold: 1, evaluationPeriods: 6 });
   */
  metricBreakerDeferred(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName: 'BreakerDeferred',
      // The consumer publishes the total with the service dimension only (and each breaker apart).
      dimensionsMap: { service: CONSUMER_SERVICE_NAME },
      period: Duration.minutes(5),
      statistic: 'Sum',
      ...props,
    });
  }

  /**
   * How long the longest-open circuit breaker has been open, in seconds (maximum per 5 minutes):
   * published whenever records wait on an open breaker, and 0 when a probe closes it.
   *
   * @example
   * new cloudwatch.Alarm(this, 'OpenAnHour', { metric: queue.metricBreakerOpenSeconds(), threshold: 3_600, evaluationPeriods: 1 });
   */
  metricBreakerOpenSeconds(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName: 'BreakerOpenSeconds',
      dimensionsMap: { service: CONSUMER_SERVICE_NAME },
      period: Duration.minutes(5),
      statistic: 'Maximum',
      ...props,
    });
  }

  /**
   * One stack output naming everything a producer, the CLI or the local runner needs, so they
   * find this queue by its construct path in any app (shared/declaration.ts, TaskQueueDescriptor).
   */
  private describeInOutput(): void {
    const stack = Stack.of(this);
    const descriptor: TaskQueueDescriptor = {
      v: 1,
      path: this.node.path,
      tiers: this.tiers.map((t) => t.name),
      queues: Object.fromEntries(this.tiers.map((t) => [t.name, this.queue(t.name).queueUrl])),
      dlq: this.deadLetterQueue.queueUrl,
      table: this.table.tableName,
      metricsNamespace: this.metricsNamespace,
      producerPolicyArn: this.producerPolicy.managedPolicyArn,
      operatorPolicyArn: this.operatorPolicy.managedPolicyArn,
      eventSourceMappings: Object.fromEntries(
        this.tiers.map((t) => [t.name, this.eventSourceMappings[t.name]?.eventSourceMappingId as string]),
      ),
    };
    new CfnOutput(stack, `${TASK_QUEUE_OUTPUT_PREFIX}${Names.uniqueId(this)}`.slice(0, 255), {
      value: stack.toJsonString(descriptor),
      description: taskQueueOutputDescription(this.node.path),
    });
  }

  /** The ARNs the declaration's resources stand for in this deployment. */
  private accessResources(): AccessResources {
    return {
      tierQueueArns: this.tiers.map((t) => this.queue(t.name).queueArn),
      deadLetterQueueArn: this.deadLetterQueue.queueArn,
      tableArn: this.table.tableArn,
      // The stack's own id (its full ARN): no wildcard for the stack's unique suffix.
      stackArn: Stack.of(this).stackId,
      eventSourceMappingArns: this.tiers.map(
        (t) => this.eventSourceMappings[t.name]?.eventSourceMappingArn as string,
      ),
    };
  }

  private invalid(prop: string, problem: string): never {
    throw validationError(this, 'TaskQueueInvalidProp', `TaskQueue: ${prop} ${problem}`);
  }

  private tierQueues(
    props: TaskQueueProps,
    consumerTimeout: Duration,
    removalPolicy: RemovalPolicy,
  ): Record<string, sqs.IQueue> {
    if (props.existingTierQueues !== undefined) {
      if (props.existingDeadLetterQueue === undefined) {
        this.invalid(
          'existingTierQueues',
          'needs existingDeadLetterQueue: the consumer sends dead letters to it',
        );
      }
      const missing = this.tiers.filter((t) => props.existingTierQueues?.[t.name] === undefined);
      if (missing.length > 0) {
        this.invalid(
          'existingTierQueues',
          `has no queue for tier(s) ${missing.map((t) => t.name).join(', ')}`,
        );
      }
      return Object.fromEntries(
        this.tiers.map((t) => [t.name, props.existingTierQueues?.[t.name] as sqs.IQueue]),
      );
    }
    const queues: Record<string, sqs.IQueue> = {};
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
    return queues;
  }

  private createTable(props: TaskQueueProps, removalPolicy: RemovalPolicy): dynamodb.Table {
    return new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TableSchema.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TableSchema.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TableSchema.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.tableDeletionProtection ?? false,
      removalPolicy,
    });
  }

  private createConsumer(
    props: TaskQueueProps,
    timeout: Duration,
    removalPolicy: RemovalPolicy,
  ): TierqFunction {
    const consumer = new TierqFunction(this, 'Consumer', {
      entry: props.consumerEntry,
      timeout,
      memorySize: props.consumerMemorySize ?? 512,
      ...(props.consumerRuntime ? { runtime: props.consumerRuntime } : {}),
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
      ...(props.consumerFunctionProps ? { functionProps: props.consumerFunctionProps } : {}),
      environment: {
        POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
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
      const mappings = this.eventSourceMappings as Record<string, lambda.IEventSourceMapping>;
      mappings[tier.name] = consumer.addEventSourceMapping(`${pascalCase(tier.name)}Source`, {
        eventSourceArn: this.queue(tier.name).queueArn,
        batchSize: tier.batchSize,
        ...(tier.maxBatchingWindow ? { maxBatchingWindow: tier.maxBatchingWindow } : {}),
        reportBatchItemFailures: true,
        maxConcurrency: tier.maxConcurrency,
      });
    }
    return consumer;
  }
}

/**
 * CDK's own error for bad construct input (`Errors.isValidationError` is true; the CLI shows the
 * construct path). Its `name` is typed as a literal-only brand, which a variable cannot carry.
 */
function validationError(scope: Construct, code: string, message: string): ValidationError {
  return new ValidationError(code as ConstructorParameters<typeof ValidationError>[0], message, scope);
}
