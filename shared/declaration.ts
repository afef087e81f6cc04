/**
 * The one declaration of what tierq's components share with its infrastructure: environment
 * variable names, stack output names, the table's key schema and key prefixes, the TTL attribute,
 * the SQS message size limit — and, per component, the AWS actions it calls and on which
 * resources and key prefixes. CDK-free: the runtime imports the names, the construct derives
 * every grant from {@link Access}, and the tests check code and template against it. Nothing
 * here is listed a second time anywhere else.
 */

/** Environment variables the construct sets and the consumer reads. */
export const EnvVar = {
  tableName: 'TIERQ_TABLE_NAME',
  deadLetterQueueUrl: 'TIERQ_DLQ_URL',
  /** Tier names, highest priority first, comma-separated. */
  tiers: 'TIERQ_TIERS',
  maxReceiveCount: 'TIERQ_MAX_RECEIVE_COUNT',
  /** The tier queues' `MaximumMessageSize` in bytes. */
  maxMessageBytes: 'TIERQ_MAX_MESSAGE_BYTES',
  /** Test-only: the longest delay hop of a not-yet-due task. */
  maxHopSeconds: 'TIERQ_MAX_HOP_SECONDS',
  /** Followed by the tier in env case: `TIERQ_QUEUE_URL_BULK_EMAIL`. */
  queueUrlPrefix: 'TIERQ_QUEUE_URL_',
} as const;

/**
 * The variable holding a tier's queue URL: `bulk-email` → `TIERQ_QUEUE_URL_BULK_EMAIL`.
 *
 * @example
 * process.env[tierQueueUrlVar('critical')]; // TIERQ_QUEUE_URL_CRITICAL
 */
export function tierQueueUrlVar(tier: string): string {
  return `${EnvVar.queueUrlPrefix}${tier.replace(/-/g, '_').toUpperCase()}`;
}

/** Output keys of the stack; a tier's queue URL is `QueueUrl<PascalTier>`. */
export const StackOutput = {
  tiers: 'Tiers',
  queueUrlPrefix: 'QueueUrl',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  tableName: 'TableName',
  alarmTopicArn: 'AlarmTopicArn',
  producerPolicyArn: 'ProducerPolicyArn',
  operatorPolicyArn: 'OperatorPolicyArn',
  metricsNamespace: 'MetricsNamespace',
} as const;

/**
 * Every `TaskQueue` writes one stack output describing itself, so tools find each queue of an
 * app — several per stack, across stacks — without knowing how the app names its outputs. Its
 * key starts with this prefix and its value is a {@link TaskQueueDescriptor} as JSON.
 */
export const TASK_QUEUE_OUTPUT_PREFIX = 'TierqQueue';

/**
 * The description of a queue's own output, which names its construct path so a template can be
 * searched before its values are known.
 *
 * @example
 * taskQueueOutputDescription('orders-dev/Orders'); // 'tierq TaskQueue orders-dev/Orders'
 */
export function taskQueueOutputDescription(path: string): string {
  return `tierq TaskQueue ${path}`;
}

/** What a `TaskQueue`'s own output says about it (version 1). */
export interface TaskQueueDescriptor {
  readonly v: 1;
  /** The construct path, e.g. `orders-dev/Orders`: unique within the app. */
  readonly path: string;
  /** Tier names, highest priority first. */
  readonly tiers: readonly string[];
  /** Queue URL per tier. */
  readonly queues: Readonly<Record<string, string>>;
  readonly dlq: string;
  readonly table: string;
  readonly metricsNamespace: string;
  readonly producerPolicyArn: string;
  readonly operatorPolicyArn: string;
  /**
   * The id (UUID) of the consumer's event source mapping per tier: what `tierq pause tier`
   * disables. Absent from descriptors written before pause existed.
   */
  readonly eventSourceMappings?: Readonly<Record<string, string>>;
}

/** The table's key schema and TTL attribute (epoch seconds; every record kind sets it). */
export const TableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;

/** Partition key prefixes: one per record kind, so IAM can scope each component to its own. */
export const KeyPrefix = {
  task: 'task#',
  dedup: 'dedup#',
  rateLimit: 'ratelimit#',
  /** Circuit breakers: `pk = breaker#`, `sk = <breaker name>`, so one Query lists them all. */
  breaker: 'breaker#',
  /** Paused tasks (`pause#task`, sort key the task's name) and notes on paused tiers (`pause#tier`). */
  pause: 'pause#',
  /** Per-tenant concurrency leases: `lease#<task>#<tenant>`. */
  tenantLease: 'lease#',
} as const;
export type KeyPrefix = (typeof KeyPrefix)[keyof typeof KeyPrefix];

/** SQS's largest message (and batch request) since 2026-01: 1 MiB. The construct's default. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/** Resources a rule can name; the construct resolves them to ARNs. */
export const AccessResource = {
  tierQueues: 'tierQueues',
  deadLetterQueue: 'deadLetterQueue',
  table: 'table',
  /** The CloudFormation stack that holds the queue (its outputs name the resources). */
  stack: 'stack',
  /** The consumer's event source mappings, one per tier (Lambda's `eventSourceMapping` resource type). */
  eventSourceMappings: 'eventSourceMappings',
  /** For actions that support no resource-level permission (e.g. `cloudwatch:GetMetricData`). */
  any: 'any',
} as const;
export type AccessResource = (typeof AccessResource)[keyof typeof AccessResource];

/**
 * One statement of a component's access: these actions on these resources, and — for table
 * rules — only on items whose partition key starts with one of `keyPrefixes` (IAM's
 * `dynamodb:LeadingKeys`).
 */
export interface AccessRule {
  /** Statement id: PascalCase, says what the access is for. */
  readonly sid: string;
  readonly actions: readonly string[];
  readonly on: readonly AccessResource[];
  readonly keyPrefixes?: readonly KeyPrefix[];
  /**
   * Called by an AWS service with the component's role rather than by tierq's code: Lambda's
   * event source mapping receives and deletes with the consumer's execution role.
   */
  readonly calledByService?: string;
}

/**
 * Table actions that always name partition keys, so a `dynamodb:LeadingKeys` condition bounds
 * them. Others (`Scan`, `DescribeTable`, …) carry no keys, and `ForAllValues` over no values is
 * true: a keyed rule must never contain them.
 */
export const KEYED_TABLE_ACTIONS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:Query',
]);

// Literals, type-checked against AccessResource and KeyPrefix: a property read is not provably
// pure to a bundler, and the consumer's bundle must not carry these rules (it imports names only).
const enqueue: readonly AccessRule[] = [
  {
    sid: 'EnqueueToTiers',
    // GetQueueAttributes: backpressure reads ApproximateNumberOfMessages, size checks MaximumMessageSize.
    actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
    on: ['tierQueues'],
  },
  {
    sid: 'ClaimDedupKeys',
    // DeleteItem releases a claim whose send failed, so the caller's retry is not deduplicated.
    actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
    on: ['table'],
    keyPrefixes: ['dedup#'],
  },
  {
    sid: 'ReadStackOutputs',
    actions: ['cloudformation:DescribeStacks'],
    on: ['stack'],
  },
];

/**
 * What each component calls. `consumer` is the consumer function's role, including what the
 * Lambda event source mapping does with it (receive, delete); `producer` is the managed policy a
 * producer attaches; `operator` is the CLI's `status`, `task`, `dlq peek|replay|purge`,
 * `pause|resume` — and
 * `enqueue`, so it holds the producer's access too.
 */
export const Access = {
  consumer: [
    {
      sid: 'PollTiers',
      // What Lambda requires of an SQS event source's execution role.
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      on: ['tierQueues'],
      calledByService: 'Lambda event source mapping',
    },
    {
      sid: 'BackOffRetries',
      // A failed attempt stays invisible for its backoff.
      actions: ['sqs:ChangeMessageVisibility'],
      on: ['tierQueues'],
    },
    {
      sid: 'ResendAndDeadLetter',
      // Not-yet-due and deferred tasks go back to their tier; dead letters to the DLQ.
      actions: ['sqs:SendMessage'],
      on: ['tierQueues', 'deadLetterQueue'],
    },
    {
      sid: 'TaskState',
      // Acquire/fail with UpdateItem, batch lookups with BatchGetItem, completions with BatchWriteItem.
      actions: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:UpdateItem',
        'dynamodb:BatchWriteItem',
      ],
      on: ['table'],
      keyPrefixes: ['task#'],
    },
    {
      sid: 'RateLimitBuckets',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      on: ['table'],
      keyPrefixes: ['ratelimit#'],
    },
    {
      sid: 'CircuitBreakers',
      // One BatchGetItem per batch reads its breakers; UpdateItem counts failures, opens,
      // claims the half-open probe and settles it, each conditional on the state it saw.
      actions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      on: ['table'],
      keyPrefixes: ['breaker#'],
    },
    {
      sid: 'ReadPausedTasks',
      // One Query of the `pause#task` partition per container and second (shared/stores/dynamo-pause-store.ts).
      actions: ['dynamodb:Query'],
      on: ['table'],
      keyPrefixes: ['pause#'],
    },
    {
      sid: 'TenantLeases',
      // concurrency.perTenant: take and release leases (UpdateItem), re-read a full item (GetItem).
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      on: ['table'],
      keyPrefixes: ['lease#'],
    },
  ],
  producer: enqueue,
  // Pure: the consumer's bundle imports names from this module, never the access rules.
  operator: /* @__PURE__ */ enqueue.concat([
    {
      sid: 'ReadQueueDepths',
      actions: ['sqs:GetQueueAttributes'],
      on: ['tierQueues', 'deadLetterQueue'],
    },
    {
      sid: 'WorkDeadLetters',
      // Peek receives and releases (visibility 0); replay sends to tiers (EnqueueToTiers) then deletes.
      actions: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:PurgeQueue'],
      on: ['deadLetterQueue'],
    },
    {
      sid: 'LookUpTasks',
      // GetItem for one task's record under a key, Query for every task's record under it.
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      on: ['table'],
      keyPrefixes: ['task#'],
    },
    {
      sid: 'ForceBreakers',
      // `tierq status` and `tierq breaker list` Query them; `tierq breaker open|close` updates one.
      actions: ['dynamodb:Query', 'dynamodb:UpdateItem'],
      on: ['table'],
      keyPrefixes: ['breaker#'],
    },
    {
      sid: 'PauseTasks',
      // Put pauses a task (or notes who paused a tier), Delete resumes, Query lists them for status.
      actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
      on: ['table'],
      keyPrefixes: ['pause#'],
    },
    {
      sid: 'PauseTiers',
      // Enabled false/true on a tier's mapping; Get reads its State for status and while it changes.
      actions: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
      on: ['eventSourceMappings'],
    },
    {
      sid: 'ReadActivityMetrics',
      // GetMetricData supports no resource-level permissions. DescribeAlarms (the dashboard's alarm
      // states) reads alarms by name prefix, and their names are CloudFormation's, unknown here.
      actions: ['cloudwatch:GetMetricData', 'cloudwatch:DescribeAlarms'],
      on: ['any'],
    },
  ]),
} as const satisfies Record<string, readonly AccessRule[]>;
export type Component = keyof typeof Access;

/** The ARNs a deployment's {@link AccessResource}s stand for. */
export interface AccessResources {
  readonly tierQueueArns: readonly string[];
  readonly deadLetterQueueArn: string;
  readonly tableArn: string;
  readonly stackArn: string;
  /** The consumer's event source mappings, one per tier. */
  readonly eventSourceMappingArns: readonly string[];
}

/** An IAM policy statement as JSON (what CloudFormation and IAM simulators take). */
export interface PolicyStatementJson {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

/**
 * A component's access as IAM statements for one deployment: one statement per rule, table
 * rules bounded by `ForAllValues:StringLike` on `dynamodb:LeadingKeys`. The construct turns
 * these into its grants and managed policies; tests evaluate them.
 *
 * @example
 * const statements = accessStatements('producer', { tierQueueArns, deadLetterQueueArn, tableArn, stackArn });
 */
export function accessStatements(component: Component, resources: AccessResources): PolicyStatementJson[] {
  return Access[component].map((rule: AccessRule) => ({
    Sid: rule.sid,
    Effect: 'Allow',
    Action: [...rule.actions],
    Resource: rule.on.flatMap((r) => arnsOf(r, resources)),
    ...(rule.keyPrefixes === undefined
      ? {}
      : {
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': rule.keyPrefixes.map((p) => `${p}*`) },
          },
        }),
  }));
}

function arnsOf(resource: AccessResource, r: AccessResources): string[] {
  switch (resource) {
    case AccessResource.tierQueues:
      return [...r.tierQueueArns];
    case AccessResource.deadLetterQueue:
      return [r.deadLetterQueueArn];
    case AccessResource.table:
      return [r.tableArn];
    case AccessResource.stack:
      return [r.stackArn];
    case AccessResource.eventSourceMappings:
      return [...r.eventSourceMappingArns];
    case AccessResource.any:
      return ['*'];
  }
}
