/**
 * The alarms of a `TaskQueue`: any dead letter, each tier's oldest message waiting too long, and
 * the consumer failing whole batches — all notifying one topic, on alarm and on recovery.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { pascalCase, type ResolvedTier } from './tiers.js';

/** What {@link createTaskQueueAlarms} watches and where it notifies. */
export interface TaskQueueAlarmsInput {
  readonly tiers: readonly ResolvedTier[];
  readonly queue: (tier: string) => sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly consumer: lambda.IFunction;
  /** How long the longest-open circuit breaker has been open (TaskQueue.metricBreakerOpenSeconds). */
  readonly breakerOpenSeconds: cloudwatch.IMetric;
  readonly topic: sns.ITopic;
  readonly dlqAlarmThreshold?: number;
  readonly consumerErrorsAlarmThreshold?: number;
}

/**
 * Creates the alarms in `scope` and returns them.
 *
 * @example
 * const alarms = createTaskQueueAlarms(this, { tiers, queue: (t) => queues[t], deadLetterQueue, consumer, topic });
 */
export function createTaskQueueAlarms(scope: Construct, input: TaskQueueAlarmsInput): cloudwatch.Alarm[] {
  const action = new cwActions.SnsAction(input.topic);
  const alarms: cloudwatch.Alarm[] = [
    new cloudwatch.Alarm(scope, 'DeadLetterAlarm', {
      alarmDescription: 'Tasks reached the tierq dead-letter queue: inspect with `tierq dlq peek`',
      metric: input.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: input.dlqAlarmThreshold ?? 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    new cloudwatch.Alarm(scope, 'ConsumerErrorsAlarm', {
      alarmDescription: 'The tierq consumer failed whole batches (crash or timeout)',
      metric: input.consumer.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: input.consumerErrorsAlarmThreshold ?? 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    new cloudwatch.Alarm(scope, 'BreakerOpenAlarm', {
      alarmDescription:
        'A circuit breaker has been open for 15 minutes: its downstream is still failing. See `tierq breaker list`',
      metric: input.breakerOpenSeconds,
      threshold: 900,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Published only while records wait on it (and 0 when it closes): between those, keep the state.
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    }),
  ];
  for (const tier of input.tiers) {
    alarms.push(
      new cloudwatch.Alarm(scope, `${pascalCase(tier.name)}AgeAlarm`, {
        alarmDescription: `Oldest ${tier.name} task waited longer than ${tier.maxMessageAge.toHumanString()}`,
        metric: input.queue(tier.name).metricApproximateAgeOfOldestMessage({
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
