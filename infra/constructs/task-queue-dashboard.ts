import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ResolvedTier } from './tiers.js';

/** Props for {@link TaskQueueDashboard}. */
export interface TaskQueueDashboardProps {
  readonly tiers: readonly ResolvedTier[];
  readonly queues: Readonly<Record<string, sqs.IQueue>>;
  readonly deadLetterQueue: sqs.IQueue;
  readonly consumer: lambda.IFunction;
}

/**
 * One CloudWatch dashboard for a task queue: depth and age per tier, DLQ depth, and the
 * consumer's invocations, errors and duration.
 *
 * @example
 * new TaskQueueDashboard(this, 'Dashboard', { tiers, queues, deadLetterQueue, consumer });
 */
export class TaskQueueDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: TaskQueueDashboardProps) {
    super(scope, id);
    const period = Duration.minutes(1);
    const perTier = (metric: (q: sqs.IQueue) => cloudwatch.IMetric) =>
      props.tiers.map((t) => metric(props.queues[t.name] as sqs.IQueue));
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Visible messages per tier',
            width: 12,
            left: perTier((q) =>
              q.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
            ),
          }),
          new cloudwatch.GraphWidget({
            title: 'Age of oldest message per tier (s)',
            width: 12,
            left: perTier((q) => q.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' })),
          }),
        ],
        [
          new cloudwatch.SingleValueWidget({
            title: 'Dead-letter queue depth',
            width: 6,
            metrics: [
              props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
                period,
                statistic: 'Maximum',
              }),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Consumer invocations and errors',
            width: 9,
            left: [
              props.consumer.metricInvocations({ period, statistic: 'Sum' }),
              props.consumer.metricErrors({ period, statistic: 'Sum' }),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Consumer duration (ms)',
            width: 9,
            left: [
              props.consumer.metricDuration({ period, statistic: 'p50' }),
              props.consumer.metricDuration({ period, statistic: 'p99' }),
            ],
          }),
        ],
      ],
    });
  }
}
