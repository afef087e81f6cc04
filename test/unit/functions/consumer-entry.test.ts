import { afterEach, describe, expect, it, vi } from 'vitest';
import { consumerEnv, lambdaContext, sqsEvent, sqsRecord, taskBody } from '../../helpers/sqs-event.js';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('functions/consumer handler', () => {
  it('loads its configuration from the environment and runs the example tasks', async () => {
    for (const [k, v] of Object.entries(consumerEnv())) vi.stubEnv(k, v);
    const { handler } = await import('../../../functions/consumer.js');
    const response = await handler(sqsEvent([sqsRecord(taskBody('echo', 'hi'))]), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('refuses to start without its environment, naming what is missing', async () => {
    vi.stubEnv('TIERQ_TIERS', '');
    await expect(import('../../../functions/consumer.js')).rejects.toThrow(/TIERQ_TIERS/);
  });
});
