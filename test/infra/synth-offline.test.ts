import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const guard = join(root, 'test/helpers/network-guard.cjs');
const dir = mkdtempSync(join(tmpdir(), 'tierq-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a command with the network guard preloaded into every Node process it starts. */
async function guarded(file: string, args: string[], logName: string) {
  const log = join(dir, logName);
  writeFileSync(log, '');
  const result = await run(file, args, {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: `--require ${guard}`, TIERQ_NETWORK_LOG: log },
    timeout: 120_000,
  }).catch((error: { code?: number; stderr?: string }) => ({
    failed: error.code ?? 1,
    stderr: error.stderr,
  }));
  return { result, attempts: readFileSync(log, 'utf8').trim() };
}

describe('npm run synth', () => {
  it('the network guard catches an outbound attempt (so the next test can fail)', async () => {
    const { attempts } = await guarded(
      process.execPath,
      ['-e', "fetch('https://example.com').catch(() => {})"],
      'self-check.log',
    );
    expect(attempts).toMatch(/(dns|connect) example\.com/);
  });

  it('writes the template with no outbound connection', async () => {
    const out = join(dir, 'cdk.out');
    const { result, attempts } = await guarded('npm', ['run', 'synth', '--', '--output', out], 'synth.log');
    expect(result).not.toHaveProperty('failed');
    expect(attempts).toBe('');
    expect(existsSync(join(out, 'tierq-dev.template.json'))).toBe(true);
    const template = JSON.parse(readFileSync(join(out, 'tierq-dev.template.json'), 'utf8'));
    const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::Lambda::EventSourceMapping')).toHaveLength(4);
    // The consumer was bundled by the local esbuild, source map included.
    const fn = Object.values(
      template.Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>,
    ).find((r) => r.Type === 'AWS::Lambda::Function');
    const asset = fn?.Metadata?.['aws:asset:path'] as string;
    expect(existsSync(join(out, asset, 'index.js'))).toBe(true);
    expect(existsSync(join(out, asset, 'index.js.map'))).toBe(true);
  });
});
