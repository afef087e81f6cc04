/**
 * Finding one task queue among an app's outputs (and the local connection file) by construct
 * path or id, with errors that list what there is.
 */
import { describe, expect, it } from 'vitest';
import { parseLocalConnection } from '../../../shared/connection.js';
import { ConfigError } from '../../../shared/errors.js';
import { selectTaskQueue, taskQueuesInOutputs } from '../../../shared/task-queue-outputs.js';

const descriptor = (path: string) => ({
  v: 1,
  path,
  tiers: ['high', 'low'],
  queues: { high: `https://sqs/${path}-high`, low: `https://sqs/${path}-low` },
  dlq: `https://sqs/${path}-dlq`,
  table: `${path}-table`,
  metricsNamespace: `tierq/${path}`,
  producerPolicyArn: `arn:aws:iam::1:policy/${path}-producer`,
  operatorPolicyArn: `arn:aws:iam::1:policy/${path}-operator`,
});
const outputs = {
  TierqQueueOrders1: JSON.stringify(descriptor('shop-dev/Orders')),
  TierqQueueEmails2: JSON.stringify(descriptor('shop-dev/Emails')),
  SomethingElse: 'x',
};

describe('taskQueuesInOutputs and selectTaskQueue', () => {
  it("reads every queue's own output", () => {
    expect(taskQueuesInOutputs(outputs).map((q) => q.path)).toEqual(['shop-dev/Orders', 'shop-dev/Emails']);
  });

  it('picks a queue by construct path or by id, case-insensitively', () => {
    const queues = taskQueuesInOutputs(outputs);
    expect(selectTaskQueue(queues, 'shop-dev/Emails', 'the app').table).toBe('shop-dev/Emails-table');
    expect(selectTaskQueue(queues, 'orders', 'the app').table).toBe('shop-dev/Orders-table');
  });

  it('names the queues there are when the choice is missing or unknown', () => {
    const queues = taskQueuesInOutputs(outputs);
    expect(() => selectTaskQueue(queues, undefined, 'stack shop-dev')).toThrow(
      'stack shop-dev has several tierq queues; choose one with --queue: shop-dev/Orders, shop-dev/Emails',
    );
    expect(() => selectTaskQueue(queues, 'Invoices', 'stack shop-dev')).toThrow(
      'stack shop-dev has no tierq queue "Invoices"; it has: shop-dev/Orders, shop-dev/Emails',
    );
  });

  it('refuses an output under the prefix that is not a queue description', () => {
    expect(() => taskQueuesInOutputs({ TierqQueueX: '{"v":1}' })).toThrow(ConfigError);
    expect(() => taskQueuesInOutputs({ TierqQueueX: 'not json' })).toThrow(/not JSON/);
  });
});

describe('parseLocalConnection with several task queues', () => {
  const keys = (k: string) => ({ accessKeyId: k, secretAccessKey: 's' });
  const queue = (path: string) => ({
    path,
    queues: { high: `q-${path}` },
    dlq: `d-${path}`,
    table: `t-${path}`,
    principals: { producer: keys(`P-${path}`), operator: keys(`O-${path}`) },
  });
  const file = {
    region: 'us-east-1',
    endpoints: { sqs: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:2' },
    ...queue('shop-dev/Orders'),
    taskQueues: [queue('shop-dev/Orders'), queue('shop-dev/Emails')],
  };

  it('connects to the queue named, as the role asked for', () => {
    const emails = parseLocalConnection(file, 'local.json', 'operator', 'Emails');
    expect(emails).toMatchObject({ dlq: 'd-shop-dev/Emails', credentials: keys('O-shop-dev/Emails') });
  });

  it('asks which queue when there are several and none is named', () => {
    expect(() => parseLocalConnection(file, 'local.json')).toThrow(
      /several tierq queues; choose one with --queue/,
    );
  });
});
