import { readFile } from 'node:fs/promises';
import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import * as v from 'valibot';
import { StackOutput } from './declaration.js';
import { ConfigError } from './errors.js';
import { selectTaskQueue, taskQueuesInOutputs } from './task-queue-outputs.js';

/**
 * Everything a producer, the DLQ tools or the CLI need to reach one tierq deployment: the tier
 * queue URLs (highest priority first), the DLQ, the table, and — for the local stack — emulator
 * endpoints and the placeholder credentials the emulators accept.
 *
 * @example
 * ```ts
 * const connection: TierqConnection = await loadStackConfig({ stackName: 'Tierq-prod', region: 'eu-west-1' });
 * const producer = createProducer(connection);
 * ```
 */
export interface TierqConnection {
  readonly region: string;
  /** The local stack's endpoints; `lambda` answers its event source mappings' API. */
  readonly endpoints?: { readonly sqs: string; readonly dynamodb: string; readonly lambda?: string };
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly queues: Readonly<Record<string, string>>;
  readonly dlq: string;
  readonly table: string;
  /** CloudWatch namespace of the consumer's task metrics, when the stack outputs it. */
  readonly metricsNamespace?: string;
  /** The id (UUID) of each tier's event source mapping, when the stack outputs them (for pause). */
  readonly eventSourceMappings?: Readonly<Record<string, string>>;
}

/**
 * A connection to the local stack: always with emulator endpoints.
 *
 * @example
 * ```ts
 * const { endpoints }: LocalConnection = await loadLocalConfig();
 * ```
 */
export type LocalConnection = TierqConnection & {
  readonly endpoints: NonNullable<TierqConnection['endpoints']>;
};

/** Where the local stack (`npm start`) writes its connection file, relative to where it runs. */
export const LOCAL_CONNECTION_FILE = '.tierq/local.json';

/** The emulators accept any credentials; these keep the SDK from looking for real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

const nonEmpty = v.pipe(v.string(), v.minLength(1));
const keys = v.object({ accessKeyId: nonEmpty, secretAccessKey: nonEmpty });
const localQueue = {
  queues: v.pipe(
    v.record(v.string(), nonEmpty),
    v.check((q) => Object.keys(q).length > 0, 'must name at least one tier'),
  ),
  dlq: nonEmpty,
  table: nonEmpty,
  principals: v.optional(v.object({ producer: v.optional(keys), operator: v.optional(keys) })),
  metricsNamespace: v.optional(nonEmpty),
  eventSourceMappings: v.optional(v.record(v.string(), nonEmpty)),
};
const localFile = v.object({
  region: nonEmpty,
  endpoints: v.object({ sqs: nonEmpty, dynamodb: nonEmpty, lambda: v.optional(nonEmpty) }),
  ...localQueue,
  /** Every task queue of the stack, by construct path; the top-level fields are the first's. */
  taskQueues: v.optional(v.array(v.object({ path: nonEmpty, ...localQueue }))),
});

/**
 * Who a local connection acts as: the stack's producer (what an application does) or its
 * operator (what the CLI does). Under IAM enforcement each is limited to its policy.
 */
export type LocalRole = 'producer' | 'operator';

/**
 * Checks a parsed `.tierq/local.json` document, naming `source` and the field that is wrong. The
 * connection signs its requests with the keys of `as` when the stack enforces IAM; `queue` (a
 * construct path or id) picks one of several task queues, else the file's first.
 *
 * @example
 * ```ts
 * const connection = parseLocalConnection(JSON.parse(text), '.tierq/local.json', 'operator');
 * ```
 */
export function parseLocalConnection(
  value: unknown,
  source: string,
  as: LocalRole = 'producer',
  queue?: string,
): LocalConnection {
  const parsed = v.safeParse(localFile, value);
  if (!parsed.success) {
    const issues = parsed.issues.map(
      (i) => `${(i.path ?? []).map((p) => String(p.key)).join('.') || 'the document'}: ${i.message}`,
    );
    throw new ConfigError(`${source} is not a tierq connection file (${issues.join('; ')})`);
  }
  const { region, endpoints, taskQueues, ...first } = parsed.output;
  if (queue === undefined && (taskQueues?.length ?? 0) > 1) {
    // As on AWS: with several queues, which one is meant must be said.
    selectTaskQueue(taskQueues ?? [], undefined, source);
  }
  const {
    principals,
    path: _,
    ...chosen
  } = queue === undefined ? { ...first, path: undefined } : selectTaskQueue(taskQueues ?? [], queue, source);
  return { region, endpoints, ...chosen, credentials: principals?.[as] ?? LOCAL_CREDENTIALS };
}

/**
 * Reads the connection file the local stack writes (`npm start`), acting as the stack's producer
 * (or `as`). Throws {@link ConfigError} naming the path, and how to create it, when it is missing
 * or malformed.
 *
 * @example
 * ```ts
 * const producer = createProducer(await loadLocalConfig());
 * ```
 */
export async function loadLocalConfig(
  path = LOCAL_CONNECTION_FILE,
  as: LocalRole = 'producer',
  queue?: string,
): Promise<LocalConnection> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read ${path}; start the local stack with npm start`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${path} is not valid JSON; restart the local stack with npm start`, { cause });
  }
  return parseLocalConnection(raw, path, as, queue);
}

/**
 * The tier queues, DLQ and table of one task queue in a stack's outputs: the `TaskQueue`'s own
 * output (chosen by `queue`, its construct path or id, when the stack holds several), else
 * TierqStack's named outputs. Throws {@link ConfigError} naming what is missing.
 *
 * @example
 * ```ts
 * const { queues, dlq, table } = connectionFromOutputs({ Tiers: 'high,low', QueueUrlHigh: h, QueueUrlLow: l, DeadLetterQueueUrl: d, TableName: 't' }, 'my stack');
 * ```
 */
export function connectionFromOutputs(
  outputs: Readonly<Record<string, string>>,
  source: string,
  queue?: string,
): Pick<TierqConnection, 'queues' | 'dlq' | 'table' | 'metricsNamespace' | 'eventSourceMappings'> {
  const described = taskQueuesInOutputs(outputs);
  if (described.length > 0 || queue !== undefined) {
    const chosen = selectTaskQueue(described, queue, source);
    return {
      queues: Object.fromEntries(chosen.tiers.map((t) => [t, chosen.queues[t] as string])),
      dlq: chosen.dlq,
      table: chosen.table,
      metricsNamespace: chosen.metricsNamespace,
      ...(chosen.eventSourceMappings === undefined
        ? {}
        : { eventSourceMappings: chosen.eventSourceMappings }),
    };
  }
  const need = (key: string) => {
    const value = outputs[key];
    if (value === undefined) throw new ConfigError(`${source} has no output ${key}; is it a tierq stack?`);
    return value;
  };
  const queues: Record<string, string> = {};
  for (const tier of need(StackOutput.tiers)
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    // Output ids are PascalCase tier names (bulk-email → QueueUrlBulkEmail): compare loosely.
    const wanted = `${StackOutput.queueUrlPrefix}${tier}`.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
    const key = Object.keys(outputs).find((k) => k.toLowerCase() === wanted);
    queues[tier] = need(key ?? `${StackOutput.queueUrlPrefix}<${tier}>`);
  }
  const namespace = outputs[StackOutput.metricsNamespace];
  return {
    queues,
    dlq: need(StackOutput.deadLetterQueueUrl),
    table: need(StackOutput.tableName),
    ...(namespace === undefined ? {} : { metricsNamespace: namespace }),
  };
}

/**
 * Reads a deployed stack's outputs with CloudFormation DescribeStacks (credentials from the
 * default provider chain) and returns its connection.
 *
 * @example
 * ```ts
 * const producer = createProducer(await loadStackConfig({ stackName: 'Tierq-prod', region: 'eu-west-1' }));
 * ```
 */
export async function loadStackConfig(options: {
  readonly stackName: string;
  readonly region: string;
  /** The queue's construct path or id, when the stack holds several. */
  readonly queue?: string;
  readonly cloudformation?: CloudFormationClient;
}): Promise<TierqConnection> {
  const { stackName, region } = options;
  const cloudformation = options.cloudformation ?? new CloudFormationClient({ region });
  let stacks: Stack[];
  try {
    stacks = (await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks ?? [];
  } catch (error) {
    // CloudFormation answers an unknown stack with a ValidationError "Stack with id X does not exist".
    if (error instanceof Error && error.name === 'ValidationError' && /does not exist/.test(error.message)) {
      throw new ConfigError(`stack ${stackName} not found in ${region}`, { cause: error });
    }
    throw error;
  }
  const stack = stacks[0];
  if (stack === undefined) throw new ConfigError(`stack ${stackName} not found in ${region}`);
  const outputs: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) {
    if (output.OutputKey !== undefined && output.OutputValue !== undefined) {
      outputs[output.OutputKey] = output.OutputValue;
    }
  }
  return { region, ...connectionFromOutputs(outputs, `stack ${stackName} (${region})`, options.queue) };
}
