/**
 * The path a new user takes, end to end: tierq packed with `npm pack`, the tarball installed by
 * package name into a copy of examples/orders (its own CDK app with two task queues), the app
 * run with `tierq local`, a task enqueued with `tierq/producer` and read back with `tierq task`.
 * And a CDK app exactly as `cdk init app --language typescript` makes it today (CommonJS) loads
 * `tierq/cdk` and synthesizes a TaskQueue.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/aws.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const CDK = join(ROOT, 'node_modules', '.bin', 'cdk');
/** Keeps npm and the CDK offline where they can be, and quiet. */
const ENV = {
  ...process.env,
  CDK_DISABLE_CLI_TELEMETRY: '1',
  CDK_DISABLE_VERSION_CHECK: '1',
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  NO_COLOR: '1',
};

let work: string;
let tarball: string;

/** Runs a command to the end in `cwd`; rejects with its output when it fails. */
async function sh(cwd: string, command: string, args: string[], timeout = 240_000) {
  try {
    return await run(command, args, { cwd, env: ENV, timeout, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout}\n${e.stderr}`);
  }
}

/** Installs the packed tarball (and the app's own dependencies, from npm's cache where it can). */
async function installInto(app: string): Promise<void> {
  await sh(app, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], 600_000);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tierq-package-'));
  await sh(ROOT, 'npm', ['pack', '--pack-destination', work], 300_000);
  const [file] = (await readdir(work)).filter((f) => f.endsWith('.tgz'));
  if (file === undefined) throw new Error(`npm pack wrote no tarball into ${work}`);
  tarball = join(work, file);
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
});

describe('tierq installed as a package', () => {
  let app: string;
  let local: ChildProcess | undefined;
  let localOutput = '';

  beforeAll(async () => {
    app = join(work, 'orders');
    await cp(join(ROOT, 'examples', 'orders'), app, {
      recursive: true,
      filter: (source) => !source.includes('node_modules') && !source.includes('.tierq'),
    });
    await installInto(app);
  }, 600_000);

  afterAll(async () => {
    if (local?.exitCode === null) {
      local.kill('SIGTERM');
      await new Promise((done) => local?.once('exit', done));
    }
  });

  it('depends on tierq by name, with the tarball installed', async () => {
    const manifest = JSON.parse(await readFile(join(app, 'package.json'), 'utf8'));
    expect(manifest.dependencies.tierq).toMatch(/tierq-.*\.tgz$/);
    const installed = JSON.parse(await readFile(join(app, 'node_modules', 'tierq', 'package.json'), 'utf8'));
    expect(installed).toMatchObject({ name: 'tierq', license: 'Apache-2.0' });
    expect(existsSync(join(app, 'node_modules', 'tierq', 'src'))).toBe(false);
    // Nothing tierq needs at run time is a TypeScript loader or the CDK.
    expect(Object.keys(installed.dependencies)).not.toContain('tsx');
    expect(Object.keys(installed.dependencies)).not.toContain('aws-cdk-lib');
  });

  it('runs with tierq local, takes a task from tierq/producer and reports it with tierq task', async () => {
    // The installed bin itself, not through npx: a SIGTERM then reaches the process that stops the
    // emulators, and its exit means they are gone (npx can exit first, leaving them writing here).
    local = spawn(
      join(app, 'node_modules', '.bin', 'tierq'),
      ['local', '--no-demo', '--queue', 'Orders', '--duration', '240'],
      {
        cwd: app,
        env: ENV,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    local.stdout?.on('data', (chunk: Buffer) => (localOutput += chunk.toString()));
    local.stderr?.on('data', (chunk: Buffer) => (localOutput += chunk.toString()));
    await waitFor(() => existsSync(join(app, '.tierq', 'local.json')) || local?.exitCode !== null, {
      timeoutMs: 180_000,
      intervalMs: 250,
      message: 'tierq local to write .tierq/local.json',
    });
    expect(local.exitCode, localOutput).toBeNull();
    const connection = JSON.parse(await readFile(join(app, '.tierq', 'local.json'), 'utf8'));
    expect(connection.taskQueues.map((q: { path: string }) => q.path)).toEqual([
      'orders-dev/Orders',
      'orders-dev/Emails',
    ]);

    const orderId = `order-${randomUUID()}`;
    const placed = await sh(app, 'npx', ['tsx', 'src/place-order.ts', orderId]);
    expect(placed.stdout.trim()).toBe(orderId);
    const view = await waitFor(
      async () => {
        const { stdout } = await sh(app, 'npx', ['tierq', 'task', orderId, '--queue', 'Orders', '--json']);
        const state = JSON.parse(stdout);
        return state.status === 'succeeded' && state;
      },
      { timeoutMs: 60_000, intervalMs: 500, message: `tierq task to report ${orderId} succeeded` },
    );
    expect(view).toMatchObject({
      id: orderId,
      task: 'charge-order',
      attempts: 1,
      result: { orderId, charged: 4_200 },
    });
    const status = JSON.parse(
      (await sh(app, 'npx', ['tierq', 'status', '--queue', 'Emails', '--json'])).stdout,
    );
    expect(Object.keys(status.tiers)).toEqual(['bulk']);

    // The dashboard tierq local serves, from the page the package was built with.
    const printed = await waitFor(
      () => /dashboard +(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(localOutput)?.[1],
      { timeoutMs: 10_000, message: `the dashboard's URL from tierq local, which printed:\n${localOutput}` },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${localOutput}`);
    });
    const url = new URL(printed);
    const headers = { 'x-tierq-token': url.searchParams.get('token') ?? '' };
    const page = await fetch(new URL('/', url), { headers });
    expect(page.status, localOutput).toBe(200);
    expect(await page.text()).toContain('<title>tierq dashboard</title>');
    const script = await fetch(new URL('/assets/app.js', url), { headers });
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('uPlot (https://github.com/leeoniya/uPlot)');
    const config = await (await fetch(new URL('/api/config', url), { headers })).json();
    // The queue tierq local wrote first (Orders), as the operator.
    expect(config).toMatchObject({
      description: 'the local stack',
      enqueue: true,
      tiers: ['critical', 'high', 'normal', 'low'],
    });
  }, 300_000);
});

describe('a CDK app made by cdk init', () => {
  it('loads tierq/cdk and synthesizes a TaskQueue', async () => {
    const app = join(work, 'initapp');
    await sh(work, 'mkdir', [app]);
    await sh(app, CDK, ['init', 'app', '--language', 'typescript', '--generate-only']);
    const manifest = JSON.parse(await readFile(join(app, 'package.json'), 'utf8'));
    // Its test runner (jest, swc) is not needed to synthesize (its tsconfig keeps @types/jest);
    // esbuild bundles the consumer, as the README asks of a CDK app.
    for (const name of Object.keys(manifest.devDependencies)) {
      if (/^(jest|@swc\/)/.test(name)) delete manifest.devDependencies[name];
    }
    manifest.devDependencies.esbuild = '0.28.2';
    await writeFile(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    expect(manifest.type).toBeUndefined(); // CommonJS, as generated
    const stackFile = (await readdir(join(app, 'lib'))).find((f) => f.endsWith('-stack.ts')) as string;
    const source = await readFile(join(app, 'lib', stackFile), 'utf8');
    await writeFile(
      join(app, 'lib', stackFile),
      source
        // The generated import is 'aws-cdk-lib' or 'aws-cdk-lib/core', depending on the CLI.
        .replace(
          /^(import \* as cdk from 'aws-cdk-lib[^']*';)$/m,
          "$1\nimport { TaskQueue } from 'tierq/cdk';",
        )
        .replace(
          /super\(scope, id, props\);/,
          "super(scope, id, props);\n    new TaskQueue(this, 'Tasks', { consumerEntry: 'lib/worker.ts' });",
        ),
    );
    await writeFile(
      join(app, 'lib', 'worker.ts'),
      [
        "import { createDefaultConsumer, defineTask, loadConsumerConfig, TaskRegistry } from 'tierq';",
        "const ping = defineTask({ name: 'ping', schema: { '~standard': { version: 1, vendor: 'x', validate: (v: unknown) => ({ value: v }) } }, handler: (p: unknown) => p });",
        'export const handler = createDefaultConsumer({ config: loadConsumerConfig(process.env), registry: new TaskRegistry([ping]) });',
        '',
      ].join('\n'),
    );
    await installInto(app);
    // The app's own command: type-check with tsc, then run with tsx (cdk.json "app").
    const synth = await sh(app, 'npx', ['cdk', 'synth', '--quiet', '--no-notices']);
    expect(synth.stderr).not.toMatch(/error/i);
    const out = join(app, 'cdk.out');
    const template = (await readdir(out)).find((f) => f.endsWith('.template.json')) as string;
    const resources = Object.values(JSON.parse(await readFile(join(out, template), 'utf8')).Resources) as {
      Type: string;
    }[];
    expect(resources.filter((r) => r.Type === 'AWS::SQS::Queue')).toHaveLength(5);
    expect(resources.some((r) => r.Type === 'AWS::Lambda::EventSourceMapping')).toBe(true);
  }, 600_000);
});
