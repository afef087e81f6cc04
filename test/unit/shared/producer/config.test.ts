import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLocalConfig } from '../../../../shared/connection.js';
import { ConfigError } from '../../../../shared/errors.js';
import { validateProducerConfig } from '../../../../shared/producer/config.js';

const info = {
  region: 'us-east-1',
  endpoints: { sqs: 'http://127.0.0.1:4566', dynamodb: 'http://127.0.0.1:8000' },
  queues: { critical: 'u-critical', high: 'u-high', normal: 'u-normal', low: 'u-low' },
  dlq: 'u-dlq',
  table: 'tierq',
};

async function file(content: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'tierq-producer-')), 'local.json');
  await writeFile(path, content);
  return path;
}

describe('loadLocalConfig', () => {
  it('reads the local stack file into a producer config', async () => {
    const config = await loadLocalConfig(await file(JSON.stringify(info)));
    expect(config).toMatchObject({
      region: info.region,
      endpoints: info.endpoints,
      queues: info.queues,
      table: 'tierq',
    });
    expect(Object.keys(config.queues)).toEqual(['critical', 'high', 'normal', 'low']);
  });

  it('names the missing path and how to create it', async () => {
    const path = join(tmpdir(), 'no-such-dir', 'local.json');
    await expect(loadLocalConfig(path)).rejects.toThrow(ConfigError);
    await expect(loadLocalConfig(path)).rejects.toThrow(
      `cannot read ${path}; start the local stack with npm start`,
    );
  });

  it('rejects a malformed file', async () => {
    await expect(loadLocalConfig(await file('{'))).rejects.toThrow('not valid JSON');
    await expect(loadLocalConfig(await file(JSON.stringify({ ...info, queues: {} })))).rejects.toThrow(
      ConfigError,
    );
  });
});

describe('validateProducerConfig', () => {
  it('defaults to the middle tier and checks an explicit default', () => {
    expect(validateProducerConfig({ ...info }).defaultTier).toBe('normal');
    // Typed callers cannot name another tier; JavaScript callers and loaded configs can.
    expect(() => validateProducerConfig<string>({ ...info, defaultTier: 'urgent' })).toThrow('not one of');
  });
});
