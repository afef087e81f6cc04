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
  /** The table's partition key attribute, when the table is known. */
  partitionKeyOf(tableName: string): string | undefined;
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
 * The authorization requests one API request makes.
 *
 * @example
 * authorizationRequests({ service: 'dynamodb', operation: 'PutItem', input }, arns);
 * // [{ action: 'dynamodb:PutItem', resource: 'arn:…:table/t', context: { 'dynamodb:LeadingKeys': ['task#a'], … } }]
 */
export function authorizationRequests(request: ParsedRequest, arns: ResourceArns): AuthorizationRequest[] {
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
  const keyed = (action: string, table: string, items: readonly (Item | undefined)[], index?: string) => {
    const pk = arns.partitionKeyOf(table);
    const leading = pk === undefined ? [] : items.flatMap((item) => partitionValue(item?.[pk]));
    const base = arns.tableArn(table);
    return {
      action: `dynamodb:${action}`,
      resource: index === undefined ? base : `${base}/index/${index}`,
      context: { ...GLOBAL_CONTEXT, ...(leading.length > 0 ? { 'dynamodb:LeadingKeys': leading } : {}) },
    };
  };
  const table = String(input.TableName ?? '');
  switch (operation) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return [keyed(operation, table, [input.Key as Item])];
    case 'PutItem':
      return [keyed(operation, table, [input.Item as Item])];
    case 'Query':
      return [
        keyed(
          operation,
          table,
          [queriedKey(input, arns.partitionKeyOf(table))],
          stringOrUndefined(input.IndexName),
        ),
      ];
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
    default:
      // Scan, DescribeTable, CreateTable, …: the table (or every table) with no key condition.
      return [
        {
          action: iamActionOf('dynamodb', operation),
          resource: table === '' ? arns.tableArn('*') : arns.tableArn(table),
          context: GLOBAL_CONTEXT,
        },
      ];
  }
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
