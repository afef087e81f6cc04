/**
 * The TaskQueue construct as a library construct: production-safe defaults, bring-your-own
 * resources, function props passed through, metric methods, and validation errors that name the
 * prop — the manners of the CDK's L2s and aws-solutions-constructs.
 */
import { App, Duration, Errors, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { TaskQueue, type TaskQueueProps } from '../../infra/constructs/task-queue.js';
import { EXAMPLE_CONSUMER_ENTRY } from '../../infra/tierq-stack.js';
import { connectionFromOutputs } from '../../shared/connection.js';
import { TASK_QUEUE_OUTPUT_PREFIX } from '../../shared/declaration.js';

const stack = () =>
  new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'App', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
const make = (props: Partial<TaskQueueProps> = {}) => {
  const s = stack();
  const queue = new TaskQueue(s, 'Tasks', { consumerEntry: EXAMPLE_CONSUMER_ENTRY, ...props });
  return { stack: s, queue, template: Template.fromStack(s) };
};
/** The error a construction throws, for its kind and message. */
const thrown = (build: () => unknown): Error => {
  try {
    build();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the construct to refuse its props');
};

describe('TaskQueue defaults', () => {
  it('retains queues, table and key unless told otherwise', () => {
    const { template } = make();
    for (const type of ['AWS::SQS::Queue', 'AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::Logs::LogGroup']) {
      const resources = Object.values(template.findResources(type));
      expect(resources.length, type).toBeGreaterThan(0);
      for (const r of resources) expect(r.DeletionPolicy, type).toBe('Retain');
    }
    const dev = make({ removalPolicy: RemovalPolicy.DESTROY }).template;
    for (const r of Object.values(dev.findResources('AWS::SQS::Queue')))
      expect(r.DeletionPolicy).toBe('Delete');
  });

  it('gives each queue its own metrics namespace, passed to the consumer', () => {
    const s = stack();
    const a = new TaskQueue(s, 'Orders', { consumerEntry: EXAMPLE_CONSUMER_ENTRY });
    const b = new TaskQueue(s, 'Emails', { consumerEntry: EXAMPLE_CONSUMER_ENTRY });
    expect(a.metricsNamespace).toBe('tierq/App/Orders');
    expect(b.metricsNamespace).toBe('tierq/App/Emails');
    Template.fromStack(s).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_METRICS_NAMESPACE: 'tierq/App/Orders' }) },
    });
  });
});

describe('TaskQueue validation', () => {
  it('requires consumerEntry, with a ValidationError naming it', () => {
    const error = thrown(() => new TaskQueue(stack(), 'Q', {} as TaskQueueProps));
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.message).toMatch(/consumerEntry is required/);
  });

  it('names the prop that is wrong', () => {
    expect(thrown(() => make({ maxReceiveCount: 0 })).message).toMatch(
      /maxReceiveCount must be an integer 1–1000/,
    );
    expect(thrown(() => make({ maxMessageSize: 2_000_000 })).message).toMatch(/maxMessageSize must be/);
    const tiers = thrown(() => make({ tiers: [{ name: 'Bad Name', weight: 1 }] }));
    expect(Errors.isValidationError(tiers)).toBe(true);
    expect(tiers.message).toMatch(/tier name "Bad Name"/);
  });

  it('refuses existing tier queues without a DLQ or missing a tier', () => {
    const s = stack();
    const q = (name: string) => sqs.Queue.fromQueueArn(s, name, `arn:aws:sqs:eu-west-1:123456789012:${name}`);
    const byTier = { critical: q('c'), high: q('h'), normal: q('n'), low: q('l') };
    const noDlq = thrown(
      () => new TaskQueue(s, 'A', { consumerEntry: EXAMPLE_CONSUMER_ENTRY, existingTierQueues: byTier }),
    );
    expect(noDlq.message).toMatch(/existingTierQueues needs existingDeadLetterQueue/);
    const { low: _, ...three } = byTier;
    const missing = thrown(
      () =>
        new TaskQueue(s, 'B', {
          consumerEntry: EXAMPLE_CONSUMER_ENTRY,
          existingTierQueues: three,
          existingDeadLetterQueue: q('d'),
        }),
    );
    expect(missing.message).toMatch(/existingTierQueues has no queue for tier\(s\) low/);
  });
});

describe('TaskQueue with your own resources', () => {
  it('creates no table, queue or topic it was given, and grants on the ones it was given', () => {
    const s = stack();
    const arn = (name: string) => `arn:aws:sqs:eu-west-1:123456789012:${name}`;
    const q = (name: string) => sqs.Queue.fromQueueArn(s, name, arn(name));
    const table = dynamodb.Table.fromTableName(s, 'Shared', 'shared-table');
    const topic = sns.Topic.fromTopicArn(s, 'Ops', 'arn:aws:sns:eu-west-1:123456789012:ops');
    const queue = new TaskQueue(s, 'Tasks', {
      consumerEntry: EXAMPLE_CONSUMER_ENTRY,
      existingTable: table,
      existingTierQueues: { critical: q('c'), high: q('h'), normal: q('n'), low: q('l') },
      existingDeadLetterQueue: q('dead'),
      existingAlarmTopic: topic,
    });
    const template = Template.fromStack(s);
    template.resourceCountIs('AWS::SQS::Queue', 0);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: arn('l') });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [topic.topicArn] });
    expect(queue.table).toBe(table);
    const policy = JSON.stringify(template.findResources('AWS::IAM::ManagedPolicy'));
    expect(policy).toContain(arn('dead'));
    expect(policy).toContain(':table/shared-table');
  });
});

describe('TaskQueue consumer function props', () => {
  it('passes VPC-free extras through: tracing, reserved concurrency, layers, description', () => {
    const s = stack();
    const layer = lambda.LayerVersion.fromLayerVersionArn(
      s,
      'L',
      'arn:aws:lambda:eu-west-1:123456789012:layer:x:1',
    );
    new TaskQueue(s, 'Tasks', {
      consumerEntry: EXAMPLE_CONSUMER_ENTRY,
      consumerFunctionProps: {
        tracing: lambda.Tracing.ACTIVE,
        reservedConcurrentExecutions: 25,
        layers: [layer],
        description: 'orders worker',
      },
    });
    Template.fromStack(s).hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
      ReservedConcurrentExecutions: 25,
      Layers: ['arn:aws:lambda:eu-west-1:123456789012:layer:x:1'],
      Description: 'orders worker',
      Architectures: ['arm64'],
    });
  });
});

describe('TaskQueue metrics', () => {
  it('offers depth, age and DLQ metrics by tier, and refuses an unknown tier', () => {
    const { queue, stack: s } = make();
    const depth = queue.metricDepth('low');
    expect(depth.metricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(s.resolve(depth.dimensions?.QueueName)).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/LowQueue/), 'QueueName'],
    });
    expect(queue.metricAgeOfOldest('critical', { period: Duration.minutes(5) }).period.toMinutes()).toBe(5);
    expect(queue.metricDlqDepth().statistic).toBe('Maximum');
    expect(Errors.isValidationError(thrown(() => queue.metricDepth('urgent')))).toBe(true);
  });
});

describe('TaskQueue outputs', () => {
  it('describes each queue in an output of its own, which tools select by path or id', () => {
    const s = stack();
    new TaskQueue(s, 'Orders', { consumerEntry: EXAMPLE_CONSUMER_ENTRY });
    new TaskQueue(s, 'Emails', {
      consumerEntry: EXAMPLE_CONSUMER_ENTRY,
      tiers: [{ name: 'bulk', weight: 1 }],
    });
    const outputs = Template.fromStack(s).toJSON().Outputs as Record<
      string,
      { Value: unknown; Description: string }
    >;
    const own = Object.entries(outputs).filter(([key]) => key.startsWith(TASK_QUEUE_OUTPUT_PREFIX));
    expect(own.map(([, o]) => o.Description).sort()).toEqual([
      'tierq TaskQueue App/Emails',
      'tierq TaskQueue App/Orders',
    ]);
    // Deployed, each value is JSON: here each Ref stands in for the URL or name CloudFormation puts there.
    const joined = Object.fromEntries(
      own.map(([key, o]) => {
        const parts = (o.Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
        return [
          key,
          parts
            .map((p) => (typeof p === 'string' ? p : `ref-${JSON.stringify(p).replace(/\W/g, '')}`))
            .join(''),
        ];
      }),
    );
    const emails = connectionFromOutputs(joined, 'the app', 'Emails');
    expect(Object.keys(emails.queues)).toEqual(['bulk']);
    expect(emails.metricsNamespace).toBe('tierq/App/Emails');
    // `tierq pause tier` finds each tier's event source mapping by the id its queue outputs.
    expect(emails.eventSourceMappings).toEqual({
      bulk: expect.stringMatching(/^ref-RefEmailsConsumerBulkSource/),
    });
    expect(() => connectionFromOutputs(joined, 'the app')).toThrow(
      /several tierq queues; choose one with --queue: App\/(Orders|Emails)/,
    );
  });
});
