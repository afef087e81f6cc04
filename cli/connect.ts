import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  LOCAL_CONNECTION_FILE,
  loadLocalConfig,
  loadStackConfig,
  type TierqConnection,
} from '../shared/connection.js';
import { ConfigError } from '../shared/errors.js';
import { type ActivitySource, LOCAL_MONITOR_FILE, localActivity } from '../shared/monitoring/activity.js';
import { cloudWatchActivity } from '../shared/monitoring/cloudwatch-activity.js';
import { cloudWatchAlarmStates } from '../shared/monitoring/cloudwatch-alarms.js';
import { cloudWatchTaskActivity } from '../shared/monitoring/cloudwatch-tasks.js';

/** The global options every command accepts. */
export interface TargetOptions {
  readonly stack?: string;
  readonly region?: string;
  /** The task queue's construct path or id, when the target has several. */
  readonly queue?: string;
}

/** One tierq deployment, connected: clients, URLs and where its activity figures come from. */
export interface Target {
  readonly connection: TierqConnection;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  /** Lambda's API for the tiers' event source mappings; undefined for a local stack that serves none. */
  readonly lambda: LambdaClient | undefined;
  readonly activity: ActivitySource;
  /**
   * What the dashboard adds to `activity` where that has less (AWS: per-task figures from
   * CloudWatch, alarm states from DescribeAlarms); `tierq status` does not read it.
   */
  readonly dashboardActivity?: ActivitySource;
  /** Says what this target is, for messages: `the local stack` or `stack X in R`. */
  readonly description: string;
  /** How to bring the target up when it cannot be reached. */
  readonly hint: string;
}

/** Where the local stack writes its connection file (see local/stack.ts). */
export const LOCAL_FILE = LOCAL_CONNECTION_FILE;

/**
 * The target: `--stack NAME [--region R]` on AWS, else the local stack when `.tierq/local.json`
 * exists (in `directory`, default the current one). Throws {@link ConfigError} saying how to get
 * one when neither is there.
 *
 * @example
 * const target = await connect({ stack: 'Tierq-prod', region: 'eu-west-1' });
 */
export async function connect(options: TargetOptions, directory = '.'): Promise<Target> {
  if (options.stack !== undefined) {
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (region === undefined) throw new ConfigError('--stack needs --region (or AWS_REGION)');
    const connection = await loadStackConfig({
      stackName: options.stack,
      region,
      ...(options.queue === undefined ? {} : { queue: options.queue }),
    });
    const cloudwatch = new CloudWatchClient({ region });
    return {
      connection,
      sqs: new SQSClient({ region }),
      dynamodb: new DynamoDBClient({ region }),
      lambda: new LambdaClient({ region }),
      dashboardActivity: awsDashboardActivity(cloudwatch, options.stack, connection.metricsNamespace),
      activity: cloudWatchActivity({
        cloudwatch,
        queues: connection.queues,
        // Older stacks output no namespace: their consumers used `tierq`.
        ...(connection.metricsNamespace === undefined ? {} : { namespace: connection.metricsNamespace }),
      }),
      description: `stack ${options.stack} in ${region}`,
      hint: 'check the network and your AWS credentials',
    };
  }
  const localFile = join(directory, LOCAL_FILE);
  if (!existsSync(localFile)) {
    throw new ConfigError(
      `no local stack here (${LOCAL_FILE} not found): start one with \`npm start\` or \`npx tierq local\`, or target AWS with --stack NAME --region R`,
    );
  }
  // The CLI acts as the stack's operator: under IAM enforcement, limited to the operator policy.
  const connection = await loadLocalConfig(localFile, 'operator', options.queue);
  const client = (endpoint: string) => ({
    region: connection.region,
    endpoint,
    credentials: connection.credentials,
    // An emulator that is down answers at once; two tries is enough to say so.
    maxAttempts: 2,
  });
  return {
    connection,
    sqs: new SQSClient(client(connection.endpoints.sqs)),
    dynamodb: new DynamoDBClient(client(connection.endpoints.dynamodb)),
    lambda:
      connection.endpoints.lambda === undefined
        ? undefined
        : new LambdaClient(client(connection.endpoints.lambda)),
    activity: localActivity(join(directory, LOCAL_MONITOR_FILE)),
    description: 'the local stack',
    hint: `the stack recorded in ${LOCAL_FILE} does not answer; start it again with \`npm start\` or \`npx tierq local\``,
  };
}

/** Per-task figures and alarm states on AWS; either failing leaves the other. */
function awsDashboardActivity(
  cloudwatch: CloudWatchClient,
  stackName: string,
  namespace: string | undefined,
): ActivitySource {
  const tasks = cloudWatchTaskActivity({ cloudwatch, ...(namespace === undefined ? {} : { namespace }) });
  const alarms = cloudWatchAlarmStates({ cloudwatch, alarmNamePrefix: `${stackName}-` });
  return async () => {
    const [figures, states] = await Promise.all([tasks().catch(() => ({})), alarms().catch(() => undefined)]);
    return { ...figures, ...(states === undefined ? {} : { alarms: states }) };
  };
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT']);

/**
 * A readable sentence for an SDK error that means the endpoint is down, naming it; else undefined.
 *
 * @example
 * const why = unreachable(error, target); if (why) console.error(why);
 */
export function unreachable(
  error: unknown,
  target: Pick<Target, 'connection' | 'description' | 'hint'>,
): string | undefined {
  const chain: unknown[] = [];
  for (let e: unknown = error; e instanceof Error && chain.length < 5; e = e.cause) chain.push(e);
  if (error instanceof AggregateError) chain.push(...error.errors);
  const down = chain.some((e) => UNREACHABLE.has((e as { code?: string }).code ?? ''));
  if (!down) return undefined;
  const endpoints = target.connection.endpoints;
  const where = endpoints === undefined ? '' : ` (SQS ${endpoints.sqs}, DynamoDB ${endpoints.dynamodb})`;
  return `cannot reach ${target.description}${where}: ${target.hint}`;
}
