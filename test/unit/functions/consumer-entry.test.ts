import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('functions/consumer handler', () => {
  it('refuses to start without its environment, naming what is missing', async () => {
    vi.stubEnv('TIERQ_TIERS', '');
    await expect(import('../../../functions/consumer.js')).rejects.toThrow(/TIERQ_TIERS/);
  });
});
