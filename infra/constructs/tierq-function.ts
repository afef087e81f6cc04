import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Props for {@link TierqFunction}. */
export interface TierqFunctionProps {
  /** Path to the handler module (TypeScript), bundled with the local esbuild. */
  readonly entry: string;
  readonly handler?: string;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly runtime?: lambda.Runtime;
  readonly logRetention?: logs.RetentionDays;
  readonly removalPolicy?: RemovalPolicy;
  readonly environment?: Record<string, string>;
}

/** Table access levels a function can be bound with; each maps to an explicit action list. */
export const TableAccess = {
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:Query',
  ],
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
} as const;
export type TableAccess = keyof typeof TableAccess;

/**
 * The project's one function factory: Node.js 22 on ARM64, esbuild bundling with source maps,
 * an explicit log group with retention, and a role that holds only what `bind*` grants.
 * Every `bind*` method sets the environment variable and the IAM grant together, so the two
 * can never drift apart.
 *
 * @example
 * const fn = new TierqFunction(this, 'Consumer', { entry: 'functions/consumer.ts' });
 * fn.bindTable('TIERQ_TABLE_NAME', table, 'readWrite');
 * fn.bindQueueSend('TIERQ_DLQ_URL', dlq);
 */
export class TierqFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: TierqFunctionProps) {
    const runtime = props.runtime ?? lambda.Runtime.NODEJS_22_X;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: it may only write to its own log group.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}: only the grants its bind* calls add`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    super(scope, id, {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      runtime,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'tierq',
        POWERTOOLS_METRICS_NAMESPACE: 'tierq',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.CJS,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        forceDockerBundling: false,
        // The Lambda runtime ships AWS SDK v3; bundling it only grows the cold start.
        bundleAwsSDK: false,
      },
    });
    if (runtime === lambda.Runtime.NODEJS_22_X) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions::AwsSolutions-L1',
        reason:
          'Node.js 22 is the default on purpose: the bundle is built and tested with esbuild target node22, ' +
          'and the local runner executes it on Node 20/22. Node 24 is opt-in through the runtime prop.',
      });
    }
  }

  /** Sets `envVar` to the table name and grants the access level's explicit actions. */
  bindTable(envVar: string, table: dynamodb.ITable, access: TableAccess): void {
    this.addEnvironment(envVar, table.tableName);
    table.grant(this, ...TableAccess[access]);
  }

  /** Sets `envVar` to the queue URL and grants SendMessage (plus GetQueueAttributes/GetQueueUrl). */
  bindQueueSend(envVar: string, queue: sqs.IQueue): void {
    this.addEnvironment(envVar, queue.queueUrl);
    queue.grantSendMessages(this);
  }

  /** Sets `envVar` to the queue URL and grants the actions a consumer needs on its own queue. */
  bindQueueConsume(envVar: string, queue: sqs.IQueue): void {
    this.addEnvironment(envVar, queue.queueUrl);
    queue.grantConsumeMessages(this);
  }
}
