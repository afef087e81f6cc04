import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The Powertools service name of tierq's functions: the `service` dimension of their metrics. */
export const CONSUMER_SERVICE_NAME = 'tierq';
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
  /** Passed through to `NodejsFunction` (VPC, layers, tracing, …); `bundling` is merged over the defaults. */
  readonly functionProps?: Omit<
    nodejs.NodejsFunctionProps,
    'entry' | 'runtime' | 'timeout' | 'memorySize' | 'role' | 'logGroup' | 'environment'
  >;
}

/**
 * The project's one function factory: Node.js 22 on ARM64, esbuild bundling with source maps,
 * an explicit log group with retention, and a role that may only write its own logs until it is
 * granted more — by `grantAccess` from the declaration of what the code calls
 * (shared/declaration.ts), never by a hand-written action list.
 *
 * @example
 * const fn = new TierqFunction(this, 'Consumer', { entry: 'functions/consumer.ts' });
 * grantAccess(fn, 'consumer', resources);
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
      description: `Execution role of ${id}: its logs, and the access declared for its code`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const { bundling, ...passthrough } = props.functionProps ?? {};
    super(scope, id, {
      ...passthrough,
      entry: props.entry,
      handler: props.handler ?? passthrough.handler ?? 'handler',
      runtime,
      architecture: passthrough.architecture ?? lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      role,
      logGroup,
      loggingFormat: passthrough.loggingFormat ?? lambda.LoggingFormat.JSON,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: CONSUMER_SERVICE_NAME,
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
        ...bundling,
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
}
