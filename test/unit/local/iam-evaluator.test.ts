/**
 * The local IAM evaluator: AWS's answers for key-scoped grants and queue policies, and a cache
 * that runs one evaluation per kind of request rather than per partition key.
 */
import { describe, expect, it } from 'vitest';
import { type AuthorizationRequest, loadIamEvaluator } from '../../../local/iam/evaluator.js';
import type { LocalIam, LocalPrincipal } from '../../../local/iam/principals.js';
import { UNREADABLE_KEY } from '../../../local/iam/requests.js';

const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/tierq';
const QUEUE = 'arn:aws:sqs:us-east-1:000000000000:tier-low';

const producer: LocalPrincipal = {
  logicalId: 'Producer',
  kind: 'managed-policy-holder',
  arn: 'arn:aws:sts::000000000000:assumed-role/producer/local',
  credentials: { accessKeyId: 'AKIALOCALPRODUCER', secretAccessKey: 'x' },
  policies: [
    {
      name: 'ProducerPolicy',
      policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
            Resource: [TABLE],
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['dedup#*'] } },
          },
          { Effect: 'Allow', Action: ['sqs:SendMessage', 'sqs:ReceiveMessage'], Resource: [QUEUE] },
        ],
      },
    },
  ],
};

const iam: LocalIam = {
  accountId: '000000000000',
  principals: [producer],
  unresolved: [],
  resourcePolicies: new Map([
    [
      QUEUE,
      {
        Statement: [
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'sqs:ReceiveMessage',
            Resource: QUEUE,
            Condition: { Bool: { 'aws:SecureTransport': 'true' } },
          },
        ],
      },
    ],
  ]),
};

const put = (...keys: string[]): AuthorizationRequest => ({
  action: keys.length > 1 ? 'dynamodb:BatchWriteItem' : 'dynamodb:PutItem',
  resource: TABLE,
  context: { 'aws:SecureTransport': 'true', 'dynamodb:LeadingKeys': keys },
});

describe('the local IAM evaluator', () => {
  it('allows keys under the granted prefix only, every key of a batch', async () => {
    const evaluator = await loadIamEvaluator(iam);
    expect((await evaluator.authorize(producer, put('dedup#a'))).allowed).toBe(true);
    expect(await evaluator.authorize(producer, put('task#a'))).toEqual({
      allowed: false,
      result: 'ImplicitlyDenied',
    });
    expect((await evaluator.authorize(producer, put('dedup#a', 'dedup#b'))).allowed).toBe(true);
    expect((await evaluator.authorize(producer, put('dedup#a', 'task#b'))).allowed).toBe(false);
  });

  it("applies a queue policy's explicit deny over an identity allow", async () => {
    const evaluator = await loadIamEvaluator(iam);
    const ask = (action: string) => ({ action, resource: QUEUE, context: { 'aws:SecureTransport': 'true' } });
    expect((await evaluator.authorize(producer, ask('sqs:SendMessage'))).allowed).toBe(true);
    expect(await evaluator.authorize(producer, ask('sqs:ReceiveMessage'))).toEqual({
      allowed: false,
      result: 'ExplicitlyDenied',
      deniedBy: 'resource',
    });
  });

  it('evaluates once per pattern match, not once per key', async () => {
    const evaluator = await loadIamEvaluator(iam);
    for (let i = 0; i < 50; i++) {
      expect((await evaluator.authorize(producer, put(`dedup#${i}`))).allowed).toBe(true);
      expect((await evaluator.authorize(producer, put(`task#${i}`))).allowed).toBe(false);
    }
    expect(evaluator.evaluations()).toBe(2);
  });

  it('allows a key-scoped grant an action that names no keys (why keyed rules hold only keyed actions)', async () => {
    const scoped: LocalPrincipal = {
      ...producer,
      logicalId: 'Scoped',
      policies: [
        {
          name: 'ScanToo',
          policy: {
            Statement: [
              {
                Effect: 'Allow',
                Action: ['dynamodb:Scan', 'dynamodb:GetItem'],
                Resource: [TABLE],
                Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['dedup#*'] } },
              },
            ],
          },
        },
      ],
    };
    const evaluator = await loadIamEvaluator({ ...iam, principals: [scoped] });
    const scan = { action: 'dynamodb:Scan', resource: TABLE, context: { 'aws:SecureTransport': 'true' } };
    expect((await evaluator.authorize(scoped, scan)).allowed).toBe(true);
    const unread = {
      action: 'dynamodb:GetItem',
      resource: TABLE,
      context: { 'dynamodb:LeadingKeys': [UNREADABLE_KEY] },
    };
    expect((await evaluator.authorize(scoped, unread)).allowed).toBe(false);
  });
});
