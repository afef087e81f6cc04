/**
 * What an SQS or DynamoDB request asks IAM: the action, the resource ARN and the condition keys
 * AWS evaluates for it — the queue from `QueueUrl`, the table (or index) from `TableName`, and
 * `dynamodb:LeadingKeys` from the partition keys the request names. Batch and transaction
 * requests ask once per table (`BatchGetItem`, `BatchWriteItem`) or once per item (transactions,
 * which AWS authorizes as the item's own action).
 */
import { type AwsService, iamActionOf } from './actions.js';
import type { AuthorizationRequest } from './evaluator.js';

/** Resolves names in requests to the ARNs the template's policies use. */
export interface ResourceArns {
  queueArn(queueName: string): string;
  tableArn(tableName: string): string;
  /** The partition key attribute of a table (or of one of its indexes), when it is known. */
  partitionKeyOf(tableName: string, indexName?: string): string | undefined;
}

/** A request as the gateway parsed it off the wire. */
export interface ParsedRequest {
  readonly service: Extract<AwsService, 'sqs' | 'dynamodb'>;
  /** The API operation, e.g. `SendMessageBatch`. */
  readonly operation: string;
  /** The JSON body (or, for SQS's query protocol, the form fields). */
  readonly input: Record<string, unknown>;
}

/** Context keys AWS sets for every request made with the SDK over HTTPS. */
const GLOBAL_CONTEXT = { 'aws:SecureTransport': 'true' } as const;

/**
 * The `dynamodb:LeadingKeys` value of a keyed request whose partition key could not be read (an
 * unknown table or index): it matches no key prefix, so a key-scoped grant denies it rather than
 * `ForAllValues` over no keys allowing it.
 */
export const UNREADABLE_KEY = '(partition key not found in the request)';

/** Operations that name no resource: IAM evaluates them on `*`. */
const UNSCOPED = new Set([
  'ListQueues',
  'ListTables',
  'DescribeLimits',
  'DescribeEndpoints',
  'ListBackups',
  'ListGlobalTables',
]);

/** PartiQL statements are authorized as `dynamodb:PartiQL<Verb>` on the table they name. */
const PARTIQL = /^\s*(SELECT|INSERT|UPDATE|DELETE)\b[\s\S]*?(?:FROM|INTO|UPDATE)\s+"?([A-Za-z0-9_.-]+)"?/i;

/**
 * The authorization requests one API request makes.
 *
 * @example
 * authorizationRequests({ service: 'dynamodb', operation: 'PutItem', input }, arns);
 * // [{ action: 'dynamodb:PutItem', resource: 'arn:…:table/t', context: { 'dynamodb:LeadingKeys': ['task#a'], … } }]
 */
export function authorizationRequests(request: ParsedRequest, arns: ResourceArns): AuthorizationRequest[] {
  if (UNSCOPED.has(request.operation)) {
    return [
      { action: iamActionOf(request.service, request.operation), resource: '*', context: GLOBAL_CONTEXT },
    ];
  }
  return request.service === 'sqs' ? [sqsRequest(request, arns)] : dynamoRequests(request, arns);
}

function sqsRequest({ operation, input }: ParsedRequest, arns: ResourceArns): AuthorizationRequest {
  const action = iamActionOf('sqs', operation);
  const url = typeof input.QueueUrl === 'string' ? input.QueueUrl : undefined;
  const name =
    url === undefined
      ? typeof input.QueueName === 'string'
        ? input.QueueName
        : undefined
      : lastSegment(url);
  // ListQueues and the like name no queue: IAM evaluates them on every queue of the account.
  const resource = name === undefined ? arns.queueArn('*') : arns.queueArn(name);
  return { action, resource, context: GLOBAL_CONTEXT };
}

type Item = Record<string, unknown>;

function dynamoRequests({ operation, input }: ParsedRequest, arns: ResourceArns): AuthorizationRequest[] {
  const keyed = (
    action: string,
    tableOrArn: string,
    items: readonly (Item | undefined)[],
    index?: string,
  ) => {
    const table = tableNameOf(tableOrArn);
    const pk = arns.partitionKeyOf(table, index);
    const read = pk === undefined ? [] : items.flatMap((item) => partitionValue(item?.[pk]));
    const leading = read.length === items.length && read.length > 0 ? read : [UNREADABLE_KEY];
    const base = arns.tableArn(table);
    return {
      action: `dynamodb:${action}`,
      resource: index === undefined ? base : `${base}/index/${index}`,
      context: { ...GLOBAL_CONTEXT, 'dynamodb:LeadingKeys': leading },
    };
  };
  const table = tableNameOf(String(input.TableName ?? ''));
  const index = stringOrUndefined(input.IndexName);
  switch (operation) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return [keyed(operation, table, [input.Key as Item])];
    case 'PutItem':
      return [keyed(operation, table, [input.Item as Item])];
    case 'Query':
      return [keyed(operation, table, [queriedKey(input, arns.partitionKeyOf(table, index))], index)];
    case 'ExecuteStatement':
      return [partiql(String(input.Statement ?? ''), arns)];
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction':
      return ((input.Statements ?? input.TransactStatements ?? []) as { Statement?: string }[]).map((s) =>
        partiql(String(s.Statement ?? ''), arns),
      );
    case 'BatchGetItem':
      return Object.entries((input.RequestItems ?? {}) as Record<string, { Keys?: Item[] }>).map(([t, r]) =>
        keyed(operation, t, r.Keys ?? []),
      );
    case 'BatchWriteItem':
      return Object.entries((input.RequestItems ?? {}) as Record<string, Item[]>).map(([t, writes]) =>
        keyed(
          operation,
          t,
          writes.map((w) => ((w.PutRequest as Item)?.Item ?? (w.DeleteRequest as Item)?.Key) as Item),
        ),
      );
    case 'TransactWriteItems':
      return ((input.TransactItems ?? []) as Item[]).map((entry) => {
        const [kind, spec] = Object.entries(entry)[0] as [string, Item];
        const action = {
          Put: 'PutItem',
          Update: 'UpdateItem',
          Delete: 'DeleteItem',
          ConditionCheck: 'ConditionCheckItem',
        }[kind];
        return keyed(action ?? kind, String(spec.TableName), [(spec.Item ?? spec.Key) as Item]);
      });
    case 'TransactGetItems':
      return ((input.TransactItems ?? []) as { Get: Item }[]).map(({ Get }) =>
        keyed('GetItem', String(Get.TableName), [Get.Key as Item]),
      );
    default: {
      // Scan, DescribeTable, CreateTable, …: the table (or one index) with no key condition.
      const base = arns.tableArn(table === '' ? '*' : table);
      const resource = index === undefined ? base : `${base}/index/${index}`;
      return [{ action: iamActionOf('dynamodb', operation), resource, context: GLOBAL_CONTEXT }];
    }
  }
}

/** A table named by name or by ARN (`arn:aws:dynamodb:…:table/name`). */
function tableNameOf(nameOrArn: string): string {
  const at = nameOrArn.startsWith('arn:') ? nameOrArn.indexOf(':table/') : -1;
  return at === -1 ? nameOrArn : (nameOrArn.slice(at + ':table/'.length).split('/')[0] ?? nameOrArn);
}

/** A PartiQL statement as IAM sees it: `dynamodb:PartiQL<Verb>` on its table, its keys unread. */
function partiql(statement: string, arns: ResourceArns): AuthorizationRequest {
  const [, verb = 'Select', table = '*'] = PARTIQL.exec(statement) ?? [];
  const action = `dynamodb:PartiQL${verb.charAt(0).toUpperCase()}${verb.slice(1).toLowerCase()}`;
  return {
    action,
    resource: arns.tableArn(table),
    context: { ...GLOBAL_CONTEXT, 'dynamodb:LeadingKeys': [UNREADABLE_KEY] },
  };
}

/** The string form IAM compares: `{ S: 'task#a' }` → `task#a`, a number → its digits. */
function partitionValue(attribute: unknown): string[] {
  if (attribute === null || typeof attribute !== 'object') return [];
  const [type, value] = Object.entries(attribute as Record<string, unknown>)[0] ?? [];
  if (type === 'S' || type === 'N') return [String(value)];
  if (type === 'B') return [String(value)];
  return [];
}

/** The partition key a Query names in `#pk = :pk` (or the legacy `KeyConditions`), as an item. */
function queriedKey(input: Item, partitionKey: string | undefined): Item | undefined {
  if (partitionKey === undefined) return undefined;
  const legacy = (input.KeyConditions as Record<string, { AttributeValueList?: unknown[] }> | undefined)?.[
    partitionKey
  ];
  if (legacy?.AttributeValueList?.[0] !== undefined) return { [partitionKey]: legacy.AttributeValueList[0] };
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  for (const [, left, right] of String(input.KeyConditionExpression ?? '').matchAll(
    /([#:\w]+)\s*=\s*([#:\w]+)/g,
  )) {
    const attribute = (name: string) => names[name] ?? name;
    if (attribute(left ?? '') === partitionKey && right?.startsWith(':'))
      return { [partitionKey]: values[right] };
    if (attribute(right ?? '') === partitionKey && left?.startsWith(':'))
      return { [partitionKey]: values[left] };
  }
  return undefined;
}

function lastSegment(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
