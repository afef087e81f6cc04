/**
 * `tierq dashboard` as a command: it prints a URL with the token, serves the API as the stack's
 * operator (IAM enforced, exactly the operator's declared access), and stops on SIGINT. The page
 * itself is tested in a browser (test/browser).
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentTaskError } from '../../shared/errors.js';
import { defineTask } from '../../shared/registry.js';
import { waitFor } from '../helpers/aws.js';
import { cliWorkspace, harnessWorkspace, runCli, spawnCli } from '../helpers/cli.js';
import { consumerHarness } from '../helpers/consumer-harness.js';
import { type DeclaredAccess, startDeclaredAccess } from '../helpers/declared-access.js';

const reject = defineTask({
  name: 'reject',
  schema: z.null(),
  handler: () => {
    throw new PermanentTaskError('no such customer');
  },
});

let access: DeclaredAccess;
beforeAll(async () => {
  access = await startDeclaredAccess();
});
afterAll(async () => {
  await access?.stop();
});

describe('tierq dashboard', () => {
  it('prints its URL and serves the overview and the dead letters as the operator', async () => {
    const h = await consumerHarness({ tasks: [reject] });
    await h.send('high', { id: 'dash-cli-1', task: 'reject', payload: null });
    await h.invoke(await h.receive('high'));
    await h.send('low', { id: 'waiting', task: 'reject', payload: null });
    const dir = await harnessWorkspace(h, access);

    const child = spawnCli(['dashboard'], dir);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const url = await waitFor(() => /open (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43})/.exec(stdout)?.[1], {
      timeoutMs: 30_000,
      message: 'the dashboard URL',
    });
    try {
      const { origin, searchParams } = new URL(url);
      const headers = { 'x-tierq-token': searchParams.get('token') as string };
      const overview = (await (await fetch(`${origin}/api/overview`, { headers })).json()) as any;
      expect(overview.status.tiers.low).toEqual({
        visible: 1,
        inFlight: 0,
        delayed: 0,
        oldestAgeSeconds: null,
      });
      expect(overview.status.dlq).toEqual({ visible: 1 });
      expect(overview.history).toHaveLength(1);

      const { letters } = (await (
        await fetch(`${origin}/api/dead-letters?task=reject`, { headers })
      ).json()) as any;
      expect(letters).toEqual([
        expect.objectContaining({
          id: 'dash-cli-1',
          task: 'reject',
          reason: 'permanent-error',
          tier: 'high',
        }),
      ]);
      const refused = await fetch(`${origin}/api/dead-letters?tier=urgent`, { headers });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as any).error).toBe(
        'unknown tier "urgent"; the tiers are: critical, high, normal, low',
      );
      expect((await fetch(`${origin}/api/overview`)).status).toBe(401);
    } finally {
      child.kill('SIGINT');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('rejects a bad port, and says how to get a stack when there is none', async () => {
    const dir = await cliWorkspace({});
    const bad = await runCli(['dashboard', '--port', 'eighty'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      "option '--port <n>' argument 'eighty' is invalid. expected a port from 0 to 65535",
    );
    const none = await runCli(['dashboard'], `${dir}/.tierq`);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no local stack here (.tierq/local.json not found)');
  });
});
