import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { StackOutput } from '../shared/declaration.js';
import { type AppConfig, STAGES } from './config.js';
import { TaskQueue, type TaskQueueProps } from './constructs/task-queue.js';
import { pascalCase } from './constructs/tiers.js';

/** This repository's consumer: the example tasks (functions/tasks.ts). */
export const EXAMPLE_CONSUMER_ENTRY = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'functions',
  'consumer.ts',
);

/** Props for {@link TierqStack}. */
export interface TierqStackProps extends StackProps {
  readonly config: AppConfig;
  /** Overrides passed through to the TaskQueue construct (tiers, consumer entry, ...). */
  readonly taskQueue?: Partial<TaskQueueProps>;
}

/**
 * The deployable tierq stack: composes one {@link TaskQueue} with the stage's settings and
 * exports what producers need.
 *
 * @example
 * new TierqStack(app, 'tierq-dev', { config: parseAppConfig((k) => app.node.tryGetContext(k)) });
 */
export class TierqStack extends Stack {
  readonly taskQueue: TaskQueue;

  constructor(scope: Construct, id: string, props: TierqStackProps) {
    super(scope, id, props);
    const { config } = props;
    const stage = STAGES[config.stage];
    this.taskQueue = new TaskQueue(this, 'TaskQueue', {
      consumerEntry: EXAMPLE_CONSUMER_ENTRY,
      removalPolicy: stage.removalPolicy,
      logRetention: stage.logRetention,
      queueRetention: stage.queueRetention,
      tableDeletionProtection: stage.tableDeletionProtection,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
      ...(config.consumerConcurrency ? { consumerConcurrency: config.consumerConcurrency } : {}),
      ...(config.maxReceiveCount ? { maxReceiveCount: config.maxReceiveCount } : {}),
      ...(config.dlqAlarmThreshold ? { dlqAlarmThreshold: config.dlqAlarmThreshold } : {}),
      ...(config.consumerTimeoutSeconds
        ? { consumerTimeout: Duration.seconds(config.consumerTimeoutSeconds) }
        : {}),
      ...props.taskQueue,
    });

    const tq = this.taskQueue;
    new CfnOutput(this, StackOutput.tiers, {
      value: tq.tiers.map((t) => t.name).join(','),
      description: 'Priority tiers, highest first',
    });
    for (const tier of tq.tiers) {
      new CfnOutput(this, `${StackOutput.queueUrlPrefix}${pascalCase(tier.name)}`, {
        value: tq.queue(tier.name).queueUrl,
        description: `Queue URL of the ${tier.name} tier`,
      });
    }
    new CfnOutput(this, StackOutput.deadLetterQueueUrl, { value: tq.deadLetterQueue.queueUrl });
    new CfnOutput(this, StackOutput.tableName, { value: tq.table.tableName });
    new CfnOutput(this, StackOutput.alarmTopicArn, { value: tq.alarmTopic.topicArn });
    new CfnOutput(this, StackOutput.metricsNamespace, {
      value: tq.metricsNamespace,
      description: "CloudWatch namespace of the consumer's task metrics",
    });
    new CfnOutput(this, StackOutput.producerPolicyArn, {
      value: tq.producerPolicy.managedPolicyArn,
      description: 'Attach to a producer role to let it enqueue tasks',
    });
    new CfnOutput(this, StackOutput.operatorPolicyArn, {
      value: tq.operatorPolicy.managedPolicyArn,
      description: 'Attach to an operator role for the tierq CLI (status, task, dlq, enqueue)',
    });
  }
}
