import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseAppConfig } from '../../infra/config.js';
import { TaskQueue } from '../../infra/constructs/task-queue.js';
import { EXAMPLE_CONSUMER_ENTRY } from '../../infra/tierq-stack.js';
import { synthStack } from '../helpers/stack.js';

const noBundling = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

describe('stages', () => {
  it('dev destroys data on delete and keeps logs a week', () => {
    const { template } = synthStack({ stage: 'dev' });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    template.hasResource('AWS::SQS::Queue', { DeletionPolicy: 'Delete' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('prod retains data, protects the table and keeps messages and logs longer', () => {
    const { stack, template } = synthStack({ stage: 'prod' });
    expect(stack.stackName).toBe('tierq-prod');
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    template.hasResource('AWS::SQS::Queue', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 14 * 24 * 3600,
      RedrivePolicy: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('rejects an unknown stage and bad numbers with one readable error', () => {
    expect(() => parseAppConfig((k) => ({ stage: 'qa', maxReceiveCount: '0' })[k])).toThrow(
      /-c stage: .*; -c maxReceiveCount: /,
    );
  });

  it('subscribes an alarm email given as context', () => {
    const { template } = synthStack({ alarmEmail: 'ops@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('applies numeric context to the construct', () => {
    const { template } = synthStack({
      maxReceiveCount: '4',
      consumerTimeoutSeconds: '60',
      dlqAlarmThreshold: '5',
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 4 }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 5,
    });
  });
});

describe('TaskQueue props', () => {
  it('takes custom tiers with their own weights, batch sizes and windows', () => {
    const stack = new Stack(noBundling(), 'Custom');
    new TaskQueue(stack, 'Q', {
      consumerEntry: EXAMPLE_CONSUMER_ENTRY,
      tiers: [
        { name: 'urgent', weight: 3, batchSize: 1 },
        { name: 'bulk-email', weight: 1, batchSize: 100, maxBatchingWindow: Duration.seconds(20) },
      ],
      consumerConcurrency: 8,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SQS::Queue', 3);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 6 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 20,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TIERQ_QUEUE_URL_BULK_EMAIL: Match.anyValue() }) },
    });
  });

  it('rejects a duplicate tier, a bad name and an impossible batch size', () => {
    const make = (tiers: { name: string; weight: number; batchSize?: number }[]) => () =>
      new TaskQueue(new Stack(noBundling(), 'S'), 'Q', { consumerEntry: EXAMPLE_CONSUMER_ENTRY, tiers });
    expect(
      make([
        { name: 'a', weight: 1 },
        { name: 'a', weight: 1 },
      ]),
    ).toThrow(/defined twice/);
    expect(make([{ name: 'Has Space', weight: 1 }])).toThrow(/tier name/);
    expect(make([{ name: 'a', weight: 1, batchSize: 50 }])).toThrow(/batchSize must be 1–10/);
    expect(make([{ name: 'a', weight: 0 }])).toThrow(/weight/);
  });
});
