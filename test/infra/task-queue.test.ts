import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { allStatements, synthStack } from '../helpers/stack.js';

const TIERS = ['Critical', 'High', 'Normal', 'Low'];

describe('TaskQueue in the tierq stack', () => {
  const { template } = synthStack();
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, any> }
  >;
  const idOf = (type: string, prefix: string) =>
    Object.keys(resources).find((id) => resources[id]?.Type === type && id.startsWith(prefix)) as string;
  const dlqId = idOf('AWS::SQS::Queue', 'TaskQueueDeadLetterQueue');

  it('creates one queue per default tier plus one dead-letter queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', 5);
    for (const tier of TIERS) expect(idOf('AWS::SQS::Queue', `TaskQueue${tier}Queue`)).toBeDefined();
  });

  it('redrives every tier to the one DLQ after maxReceiveCount', () => {
    for (const tier of TIERS) {
      const queue = resources[idOf('AWS::SQS::Queue', `TaskQueue${tier}Queue`)];
      expect(queue?.Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
        maxReceiveCount: 10,
      });
    }
  });

  it('keeps dead letters for 14 days', () => {
    expect(resources[dlqId]?.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('derives each visibility timeout from 6x the consumer timeout plus the batching window', () => {
    const fn = template.findResources('AWS::Lambda::Function');
    const timeout = (Object.values(fn)[0] as { Properties: { Timeout: number } }).Properties.Timeout;
    expect(timeout).toBe(30);
    const visibility = (tier: string) =>
      resources[idOf('AWS::SQS::Queue', `TaskQueue${tier}Queue`)]?.Properties.VisibilityTimeout;
    expect(visibility('Critical')).toBe(6 * timeout);
    expect(visibility('Low')).toBe(6 * timeout + 5);
  });

  it('encrypts every queue and denies non-TLS access to each', () => {
    for (const [, r] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SQS::Queue')) {
      expect(r.Properties.SqsManagedSseEnabled).toBe(true);
    }
    template.resourceCountIs('AWS::SQS::QueuePolicy', 5);
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('creates an on-demand table with pk/sk, TTL, PITR and SSE', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('runs the consumer on Node.js 22, ARM64, with source maps and its own log group', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
      LoggingConfig: {
        LogGroup: { Ref: Match.stringLikeRegexp('^TaskQueueConsumerLogs') },
        LogFormat: 'JSON',
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('attaches one event source mapping per tier with partial batch responses and a weighted concurrency share', () => {
    const expected: Record<string, { batch: number; concurrency: number; window?: number }> = {
      Critical: { batch: 5, concurrency: 11 },
      High: { batch: 10, concurrency: 5 },
      Normal: { batch: 10, concurrency: 3 },
      Low: { batch: 10, concurrency: 2, window: 5 },
    };
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 4);
    for (const [tier, e] of Object.entries(expected)) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [idOf('AWS::SQS::Queue', `TaskQueue${tier}Queue`), 'Arn'] },
        BatchSize: e.batch,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: e.concurrency },
        MaximumBatchingWindowInSeconds: e.window ?? Match.absent(),
      });
    }
  });

  it('tells the consumer where every queue and the table are', () => {
    const vars = (Object.values(template.findResources('AWS::Lambda::Function'))[0] as any).Properties
      .Environment.Variables;
    expect(vars.TIERQ_TIERS).toBe('critical,high,normal,low');
    expect(vars.TIERQ_MAX_RECEIVE_COUNT).toBe('10');
    expect(vars.TIERQ_DLQ_URL).toEqual({ Ref: dlqId });
    expect(vars.TIERQ_TABLE_NAME).toEqual({ Ref: idOf('AWS::DynamoDB::Table', 'TaskQueueTable') });
    for (const tier of TIERS) {
      expect(vars[`TIERQ_QUEUE_URL_${tier.toUpperCase()}`]).toEqual({
        Ref: idOf('AWS::SQS::Queue', `TaskQueue${tier}Queue`),
      });
    }
  });

  it('allows no wildcard action in any IAM, resource or key policy', () => {
    const allows = allStatements(template).filter(({ statement }) => statement.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(5);
    for (const { resource, statement } of allows) {
      for (const action of [statement.Action].flat() as string[]) {
        expect(action, `${resource} allows ${action}`).not.toContain('*');
      }
    }
  });

  it('alarms on DLQ depth, on each tier age, on consumer errors and on a breaker kept open, all to the SNS topic', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    const topic = { Ref: idOf('AWS::SNS::Topic', 'TaskQueueAlarmTopic') };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [topic],
    });
    for (const tier of TIERS) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [idOf('AWS::SQS::Queue', `TaskQueue${tier}Queue`), 'QueueName'] },
          },
        ],
        AlarmActions: [topic],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      AlarmActions: [topic],
    });
    // The consumer's own gauge (service dimension only), in the construct's namespace.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BreakerOpenSeconds',
      Namespace: Match.stringLikeRegexp('^tierq/'),
      Dimensions: [{ Name: 'service', Value: 'tierq' }],
      Statistic: 'Maximum',
      Threshold: 900,
      TreatMissingData: 'ignore',
      AlarmActions: [topic],
    });
  });

  it('encrypts the alarm topic with a rotating key CloudWatch may use', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [idOf('AWS::KMS::Key', 'TaskQueueAlarmTopicKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          }),
        ]),
      },
    });
  });

  it('builds a dashboard with depth, age, DLQ depth and consumer metrics', () => {
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    for (const metric of [
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      'Invocations',
      'Errors',
      'Duration',
    ]) {
      expect(body).toContain(metric);
    }
  });

  it('outputs every tier URL, the DLQ URL, the table, the alarm topic and both managed policies', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(
      Object.keys(outputs)
        .filter((k) => !k.startsWith('TierqQueue'))
        .sort(),
    ).toEqual(
      [
        'AlarmTopicArn',
        'DeadLetterQueueUrl',
        'MetricsNamespace',
        'OperatorPolicyArn',
        'ProducerPolicyArn',
        'QueueUrlCritical',
        'QueueUrlHigh',
        'QueueUrlLow',
        'QueueUrlNormal',
        'TableName',
        'Tiers',
      ].sort(),
    );
    expect(Object.keys(outputs).filter((k) => k.startsWith('TierqQueue'))).toHaveLength(1);
    expect(outputs.QueueUrlCritical?.Value).toEqual({
      Ref: idOf('AWS::SQS::Queue', 'TaskQueueCriticalQueue'),
    });
    expect(outputs.DeadLetterQueueUrl?.Value).toEqual({ Ref: dlqId });
    expect(outputs.Tiers?.Value).toBe('critical,high,normal,low');
  });
});
