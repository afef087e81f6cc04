/**
 * What each SQS and DynamoDB request asks IAM: the action, the resource and the partition keys
 * that `dynamodb:LeadingKeys` conditions test.
 */
import { describe, expect, it } from 'vitest';
import { iamActionOf, operationOfCommand } from '../../../local/iam/actions.js';
import { authorizationRequests, type ResourceArns, UNREADABLE_KEY } from '../../../local/iam/requests.js';

const arns: ResourceArns = {
  queueArn: (name) => `arn:aws:sqs:us-east-1:000000000000:${name}`,
  tableArn: (name) => `arn:aws:dynamodb:ddblocal:000000000000:table/${name}`,
  partitionKeyOf: (name, index) =>
    name !== 'tierq' ? undefined : index === 'byTask' ? 'gsi1pk' : index ? undefined : 'pk',
};
const table = arns.tableArn('tierq');
const asks = (service: 'sqs' | 'dynamodb', operation: string, input: Record<string, unknown>) =>
  authorizationRequests({ service, operation, input }, arns).map(({ action, resource, context }) => ({
    action,
    resource,
    keys: context['dynamodb:LeadingKeys'],
  }));

describe('IAM actions', () => {
  it('authorizes SQS batch operations by their single-message action', () => {
    expect(iamActionOf('sqs', 'SendMessageBatch')).toBe('sqs:SendMessage');
    expect(iamActionOf('sqs', 'DeleteMessageBatch')).toBe('sqs:DeleteMessage');
    expect(iamActionOf('sqs', 'ChangeMessageVisibilityBatch')).toBe('sqs:ChangeMessageVisibility');
    expect(iamActionOf('dynamodb', 'BatchWriteItem')).toBe('dynamodb:BatchWriteItem');
  });

  it("names the operation of the document client's commands", () => {
    expect(operationOfCommand('@aws-sdk/lib-dynamodb', 'BatchWriteCommand')).toBe('BatchWriteItem');
    expect(operationOfCommand('@aws-sdk/lib-dynamodb', 'QueryCommand')).toBe('Query');
    expect(operationOfCommand('@aws-sdk/client-dynamodb', 'PutItemCommand')).toBe('PutItem');
  });
});

describe('authorizationRequests', () => {
  it('names the queue of an SQS request by its URL', () => {
    expect(asks('sqs', 'SendMessageBatch', { QueueUrl: 'http://127.0.0.1:9/000000000000/tier-low' })).toEqual(
      [{ action: 'sqs:SendMessage', resource: arns.queueArn('tier-low'), keys: undefined }],
    );
  });

  it('gives a single-item request its partition key', () => {
    expect(
      asks('dynamodb', 'UpdateItem', { TableName: 'tierq', Key: { pk: { S: 'task#a' }, sk: { S: 'task' } } }),
    ).toEqual([{ action: 'dynamodb:UpdateItem', resource: table, keys: ['task#a'] }]);
    expect(
      asks('dynamodb', 'PutItem', { TableName: 'tierq', Item: { pk: { S: 'dedup#k' } } })[0]?.keys,
    ).toEqual(['dedup#k']);
  });

  it('asks once per table for a batch, with every partition key in it', () => {
    const write = asks('dynamodb', 'BatchWriteItem', {
      RequestItems: {
        tierq: [
          { PutRequest: { Item: { pk: { S: 'task#a' } } } },
          { DeleteRequest: { Key: { pk: { S: 'task#b' } } } },
        ],
      },
    });
    expect(write).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: table, keys: ['task#a', 'task#b'] },
    ]);
    const get = asks('dynamodb', 'BatchGetItem', {
      RequestItems: { tierq: { Keys: [{ pk: { S: 'task#c' } }] } },
    });
    expect(get).toEqual([{ action: 'dynamodb:BatchGetItem', resource: table, keys: ['task#c'] }]);
  });

  it('asks a transaction item by item, as the item action', () => {
    const items = asks('dynamodb', 'TransactWriteItems', {
      TransactItems: [
        { Put: { TableName: 'tierq', Item: { pk: { S: 'task#a' } } } },
        { ConditionCheck: { TableName: 'tierq', Key: { pk: { S: 'ratelimit#x' } } } },
      ],
    });
    expect(items.map((i) => [i.action, i.keys])).toEqual([
      ['dynamodb:PutItem', ['task#a']],
      ['dynamodb:ConditionCheckItem', ['ratelimit#x']],
    ]);
  });

  it("reads a Query's partition key from its key condition, the index's own key on an index", async () => {
    const [query] = asks('dynamodb', 'Query', {
      TableName: 'tierq',
      IndexName: 'byTask',
      KeyConditionExpression: '#p = :key AND begins_with(#s, :prefix)',
      ExpressionAttributeNames: { '#p': 'gsi1pk', '#s': 'sk' },
      ExpressionAttributeValues: { ':key': { S: 'task#k' }, ':prefix': { S: 'a' } },
    });
    expect(query).toEqual({ action: 'dynamodb:Query', resource: `${table}/index/byTask`, keys: ['task#k'] });
  });

  it('names a key it cannot read with a value no key prefix matches, never with none', () => {
    const unknownIndex = asks('dynamodb', 'Query', {
      TableName: 'tierq',
      IndexName: 'other',
      KeyConditionExpression: 'x = :v',
      ExpressionAttributeValues: { ':v': { S: 'task#a' } },
    });
    expect(unknownIndex[0]?.keys).toEqual([UNREADABLE_KEY]);
    const noKey = asks('dynamodb', 'PutItem', { TableName: 'tierq', Item: { other: { S: 'x' } } });
    expect(noKey[0]?.keys).toEqual([UNREADABLE_KEY]);
  });

  it('takes a table named by its ARN', () => {
    const [get] = asks('dynamodb', 'GetItem', {
      TableName: 'arn:aws:dynamodb:us-east-1:000000000000:table/tierq',
      Key: { pk: { S: 'task#a' } },
    });
    expect(get).toEqual({ action: 'dynamodb:GetItem', resource: table, keys: ['task#a'] });
  });

  it('authorizes PartiQL by its verb on the table it names, and listings on *', () => {
    const [statement] = asks('dynamodb', 'ExecuteStatement', {
      Statement: 'SELECT * FROM "tierq" WHERE pk = ?',
    });
    expect(statement).toEqual({ action: 'dynamodb:PartiQLSelect', resource: table, keys: [UNREADABLE_KEY] });
    expect(asks('sqs', 'ListQueues', {})).toEqual([
      { action: 'sqs:ListQueues', resource: '*', keys: undefined },
    ]);
  });

  it('gives a Scan no keys: only KEYED_TABLE_ACTIONS keeps it out of key-scoped grants', () => {
    expect(asks('dynamodb', 'Scan', { TableName: 'tierq' })).toEqual([
      { action: 'dynamodb:Scan', resource: table, keys: undefined },
    ]);
  });
});
