import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { CfnResource, StackAssembly } from './assembly.js';
import { localClientConfig } from './emulators.js';
import { createResolver, type LocalResource, type PseudoParameters, type Resolve } from './intrinsics.js';

/** Resource types {@link provision} creates in the emulators. */
export const PROVISIONED_TYPES = ['AWS::SQS::Queue', 'AWS::DynamoDB::Table'] as const;

/** Options for {@link provision}. */
export interface ProvisionOptions {
  readonly stack: StackAssembly;
  readonly region: string;
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string };
  /** Physical names are `<namePrefix>-<LogicalId>`. Default: the stack name. */
  readonly namePrefix?: string;
  readonly onProgress?: (step: string) => void;
}

/** The emulated resources of a stack, and a resolver over them. */
export interface ProvisionedStack {
  /** Created resources by logical id; callers may add their own (e.g. functions). */
  readonly resources: Map<string, LocalResource>;
  readonly pseudo: PseudoParameters;
  readonly resolve: Resolve;
  /** Deletes what was created: for emulators that outlive this stack (tests, LocalStack). */
  teardown(): Promise<void>;
}

/** SQS attributes CloudFormation properties map to one-for-one. */
const QUEUE_ATTRIBUTES = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'MaximumMessageSize',
  'ReceiveMessageWaitTimeSeconds',
  'FifoQueue',
  'ContentBasedDeduplication',
] as const;

/**
 * A physical name as CloudFormation would generate it, minus the random suffix, which would make
 * `.tierq/local.json` change on every start.
 */
export function physicalName(prefix: string, logicalId: string, maxLength: number, suffix = ''): string {
  return (
    `${prefix}-${logicalId}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, maxLength - suffix.length) + suffix
  );
}

/**
 * Creates every `AWS::SQS::Queue` (dead-letter targets first) and `AWS::DynamoDB::Table` of the
 * template in the emulators, with the template's attributes.
 *
 * @example
 * const local = await provision({ stack, region: emulators.region, endpoints: emulators.endpoints });
 * local.resolve({ Ref: 'TaskQueueTable8B44B915' }, 'example'); // 'tierq-dev-TaskQueueTable8B44B915'
 */
export async function provision(options: ProvisionOptions): Promise<ProvisionedStack> {
  const { stack, region } = options;
  const prefix = options.namePrefix ?? stack.stackName;
  const progress = options.onProgress ?? (() => {});
  const sqs = new SQSClient({ ...localClientConfig(options.endpoints.sqs), region });
  const dynamodb = new DynamoDBClient({ ...localClientConfig(options.endpoints.dynamodb), region });
  const resources = new Map<string, LocalResource>();
  // fauxqs and DynamoDB Local use a fixed account; it is read back from the first queue ARN.
  const pseudo = { region, accountId: '000000000000', stackName: stack.stackName };
  const resolve = createResolver(resources, pseudo, stack.template.Resources);
  const all = Object.entries(stack.template.Resources);
  try {
    const queues = all.filter(([, r]) => r.Type === 'AWS::SQS::Queue');
    // A redrive policy names its DLQ by ARN, so each round creates the queues whose targets exist.
    while (queues.some(([id]) => !resources.has(id))) {
      const ready = queues.filter(
        ([id, r]) => !resources.has(id) && dependsOn(r).every((dep) => resources.has(dep) || dep === id),
      );
      if (ready.length === 0)
        throw new Error('SQS redrive policies form a cycle; cannot order queue creation');
      for (const [id, resource] of ready) {
        const queue = await createQueue(sqs, prefix, id, resource, resolve);
        resources.set(id, queue);
        pseudo.accountId = queue.attributes.Arn?.split(':')[4] ?? pseudo.accountId;
        progress(`Created queue ${queue.attributes.QueueName}`);
      }
    }
    for (const [id, resource] of all.filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')) {
      const table = await createTable(dynamodb, prefix, id, resource, resolve);
      resources.set(id, table);
      progress(`Created table ${table.ref}`);
    }
  } catch (error) {
    await teardown(sqs, dynamodb, resources);
    sqs.destroy();
    dynamodb.destroy();
    throw error;
  }
  return {
    resources,
    pseudo,
    resolve,
    async teardown() {
      await teardown(sqs, dynamodb, resources);
      sqs.destroy();
      dynamodb.destroy();
    },
  };
}

/**
 * Resolves only the properties the emulator is given: the others (e.g. a KMS key for
 * encryption) may reference resources that are not created locally.
 */
function resolvedProperties(
  resource: CfnResource,
  logicalId: string,
  resolve: Resolve,
  keys: readonly string[],
): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const key of keys) {
    const value = resource.Properties?.[key];
    if (value !== undefined) props[key] = resolve(value, `${logicalId} ${key}`);
  }
  return props;
}

/** Logical ids a queue's redrive policy references (its DLQ). */
function dependsOn(resource: CfnResource): string[] {
  const found: string[] = [];
  JSON.stringify(resource.Properties?.RedrivePolicy ?? {}, (key, value: unknown) => {
    if (key === 'Ref' && typeof value === 'string') found.push(value);
    if (key === 'Fn::GetAtt' && Array.isArray(value)) found.push(String(value[0]));
    return value;
  });
  return found.filter((id) => !id.startsWith('AWS::'));
}

async function createQueue(
  sqs: SQSClient,
  prefix: string,
  logicalId: string,
  resource: CfnResource,
  resolve: Resolve,
): Promise<LocalResource> {
  const props = resolvedProperties(resource, logicalId, resolve, [
    'QueueName',
    ...QUEUE_ATTRIBUTES,
    'RedrivePolicy',
    'RedriveAllowPolicy',
  ]);
  const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
  const name =
    typeof props.QueueName === 'string'
      ? props.QueueName
      : physicalName(prefix, logicalId, 80, fifo ? '.fifo' : '');
  const attributes: Record<string, string> = {};
  for (const key of QUEUE_ATTRIBUTES) {
    if (props[key] !== undefined) attributes[key] = String(props[key]);
  }
  for (const key of ['RedrivePolicy', 'RedriveAllowPolicy'] as const) {
    if (props[key] !== undefined) attributes[key] = JSON.stringify(props[key]);
  }
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (QueueUrl === undefined) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`GetQueueAttributes ${name} returned no QueueArn`);
  return {
    logicalId,
    type: resource.Type,
    ref: QueueUrl,
    attributes: { Arn: arn, QueueName: name, QueueUrl },
  };
}

async function createTable(
  dynamodb: DynamoDBClient,
  prefix: string,
  logicalId: string,
  resource: CfnResource,
  resolve: Resolve,
): Promise<LocalResource> {
  const props = resolvedProperties(resource, logicalId, resolve, [
    'TableName',
    'KeySchema',
    'AttributeDefinitions',
    'GlobalSecondaryIndexes',
    'LocalSecondaryIndexes',
    'TimeToLiveSpecification',
  ]);
  const name = typeof props.TableName === 'string' ? props.TableName : physicalName(prefix, logicalId, 255);
  // On-demand everywhere: throughput settings only matter for cost on AWS.
  const indexes = (list: unknown) =>
    (list as Record<string, unknown>[] | undefined)?.map(({ IndexName, KeySchema, Projection }) => ({
      IndexName,
      KeySchema,
      Projection,
    }));
  const input = {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: props.KeySchema,
    AttributeDefinitions: props.AttributeDefinitions,
    GlobalSecondaryIndexes: indexes(props.GlobalSecondaryIndexes),
    LocalSecondaryIndexes: indexes(props.LocalSecondaryIndexes),
  } as CreateTableCommandInput;
  await dynamodb.send(new CreateTableCommand(input));
  let table = (await dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table;
  for (let i = 0; table?.TableStatus !== 'ACTIVE' && i < 100; i++) {
    await new Promise((done) => setTimeout(done, 20));
    table = (await dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table;
  }
  const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  if (ttl?.Enabled && ttl.AttributeName) {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
      }),
    );
  }
  const arn = table?.TableArn ?? `arn:aws:dynamodb:local:000000000000:table/${name}`;
  return { logicalId, type: resource.Type, ref: name, attributes: { Arn: arn, TableName: name } };
}

async function teardown(
  sqs: SQSClient,
  dynamodb: DynamoDBClient,
  resources: ReadonlyMap<string, LocalResource>,
): Promise<void> {
  await Promise.allSettled(
    [...resources.values()].map((r) => {
      if (r.type === 'AWS::SQS::Queue') return sqs.send(new DeleteQueueCommand({ QueueUrl: r.ref }));
      if (r.type === 'AWS::DynamoDB::Table')
        return dynamodb.send(new DeleteTableCommand({ TableName: r.ref }));
      return undefined;
    }),
  );
}
