import { describe, expect, it } from 'vitest';
import type { MappingStatus } from '../../../local/event-source-runner.js';
import { answerLambda, lambdaAuthorization, lambdaRequest } from '../../../local/lambda-api.js';
import { MappingSwitch } from '../../../local/mapping-switch.js';

const where = { region: 'us-east-1', accountId: '000000000000' };
const low: MappingStatus = {
  uuid: '1f0e2d3c-0000-4000-8000-000000000001',
  arn: 'arn:aws:lambda:us-east-1:000000000000:event-source-mapping:1f0e2d3c-0000-4000-8000-000000000001',
  logicalId: 'LowSource',
  queueArn: 'arn:aws:sqs:us-east-1:000000000000:low',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:consumer',
  batchSize: 10,
  maxBatchingWindowSeconds: 5,
  maximumConcurrency: 2,
  reportBatchItemFailures: true,
  state: 'Enabled',
  lastModified: 1_795_000_000,
};

function api(initial = low) {
  let current = initial;
  return {
    mappings: () => [current],
    setEnabled: (uuid: string, enabled: boolean) => {
      if (uuid !== current.uuid) return undefined;
      current = { ...current, state: enabled ? 'Enabled' : 'Disabled' };
      return current;
    },
  };
}

describe('the local Lambda API', () => {
  it('reads the operation and mapping id off the REST path', () => {
    const path = `/2015-03-31/event-source-mappings/${low.uuid}`;
    expect(lambdaRequest('GET', path, '')).toMatchObject({
      operation: 'GetEventSourceMapping',
      uuid: low.uuid,
    });
    expect(lambdaRequest('PUT', path, '{"Enabled":false}')).toMatchObject({
      operation: 'UpdateEventSourceMapping',
      body: { Enabled: false },
    });
    expect(lambdaRequest('GET', '/2015-03-31/event-source-mappings/?FunctionName=f', '').operation).toBe(
      'ListEventSourceMappings',
    );
    expect(lambdaRequest('DELETE', path, '').operation).toBe('unsupported');
    expect(lambdaRequest('POST', '/2015-03-31/functions/f/invocations', '{}').operation).toBe('unsupported');
  });

  it('asks IAM about the mapping ARN with its function, and about * for a list', () => {
    const get = lambdaRequest('GET', `/2015-03-31/event-source-mappings/${low.uuid}`, '');
    expect(lambdaAuthorization(get, [low], where)).toEqual({
      action: 'lambda:GetEventSourceMapping',
      resource: low.arn,
      context: { 'aws:SecureTransport': 'true', 'lambda:FunctionArn': low.functionArn },
    });
    const unknown = lambdaRequest('PUT', '/2015-03-31/event-source-mappings/other', '{}');
    expect(lambdaAuthorization(unknown, [low], where)?.resource).toBe(
      'arn:aws:lambda:us-east-1:000000000000:event-source-mapping:other',
    );
    const list = lambdaRequest('GET', '/2015-03-31/event-source-mappings', '');
    expect(lambdaAuthorization(list, [low], where)).toMatchObject({
      action: 'lambda:ListEventSourceMappings',
      resource: '*',
    });
  });

  it('disables a mapping, answers 404 for an unknown one and refuses other settings', () => {
    const runner = api();
    const update = (uuid: string, body: unknown) =>
      answerLambda(
        lambdaRequest('PUT', `/2015-03-31/event-source-mappings/${uuid}`, JSON.stringify(body)),
        runner,
      );
    const disabled = update(low.uuid, { Enabled: false });
    expect(disabled.status).toBe(202);
    expect(JSON.parse(disabled.body)).toMatchObject({
      UUID: low.uuid,
      State: 'Disabled',
      EventSourceArn: low.queueArn,
    });
    const missing = update('nope', { Enabled: true });
    expect(missing.status).toBe(404);
    expect(missing.headers['x-amzn-errortype']).toBe('ResourceNotFoundException');
    const resized = update(low.uuid, { Enabled: true, BatchSize: 5 });
    expect(resized.status).toBe(400);
    expect(JSON.parse(resized.body).Message).toMatch(/only Enabled .* not BatchSize/);
    expect(
      JSON.parse(
        answerLambda(lambdaRequest('GET', `/2015-03-31/event-source-mappings/${low.uuid}`, ''), runner).body,
      ).State,
    ).toBe('Disabled');
  });
});

describe('MappingSwitch', () => {
  it('is Disabling while a receive is in flight, then Disabled, and wakes pollers when enabled', async () => {
    const sw = new MappingSwitch();
    let answer: (value: string) => void = () => {};
    const receive = sw.receiving(() => new Promise<string>((resolve) => (answer = resolve)));
    expect(sw.set(false)).toBe(true);
    expect(sw.state).toBe('Disabling');
    answer('done');
    expect(await receive).toBe('done');
    expect(sw.state).toBe('Disabled');
    const waiting = sw.untilEnabled(new AbortController().signal);
    expect(sw.set(false)).toBe(false);
    expect(sw.set(true)).toBe(true);
    await waiting;
    expect(sw.state).toBe('Enabled');
  });

  it('lets a waiting poller go when the runner stops', async () => {
    const sw = new MappingSwitch();
    sw.set(false);
    const stop = new AbortController();
    const waiting = sw.untilEnabled(stop.signal);
    stop.abort();
    await waiting;
    expect(sw.enabled).toBe(false);
  });
});
