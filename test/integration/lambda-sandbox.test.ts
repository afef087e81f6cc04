import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  FunctionError,
  type InvocationResult,
  type LocalFunction,
  type LocalFunctionDefinition,
  loadFunction,
} from '../../local/lambda-runtime.js';
import { waitFor } from '../helpers/aws.js';
import { processAlive, type TestBundle, writeTestBundle } from '../helpers/function-bundle.js';

/**
 * The local runner's Lambda sandboxes: each invocation runs in a child process that is reused
 * warm, started cold on demand, killed at the timeout and replaced after a crash. Small bundles
 * written per test journal what they do to a file, which the test reads back.
 */

/** A handler that journals its module init and each invocation, and misbehaves on request. */
const JOURNALING_HANDLER = `
const { appendFileSync, readFileSync } = require('node:fs');
const journal = (line) => appendFileSync(process.env.TEST_JOURNAL, line + '\\n');
const lines = () => { try { return readFileSync(process.env.TEST_JOURNAL, 'utf8').split('\\n'); } catch { return []; } };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
journal('init ' + process.pid);
let invocations = 0;

exports.handler = async (event, context) => {
  invocations += 1;
  journal('start ' + process.pid + ' ' + context.awsRequestId);
  if (event.waitForStarts) {
    // Answers once that many invocations have started: only overlapping sandboxes get there.
    const until = Date.now() + 5000;
    while (lines().filter((l) => l.startsWith('start ')).length < event.waitForStarts && Date.now() < until) await sleep(10);
  }
  if (event.sleepMs) await sleep(event.sleepMs);
  if (event.crash) setImmediate(() => { throw new Error('crash on purpose'); });
  if (event.exitCode !== undefined) process.exit(event.exitCode);
  if (event.crash) await sleep(60000);
  if (event.throw) throw Object.assign(new Error(event.throw), { name: 'TaskFailedOnPurpose' });
  journal('end ' + process.pid + ' ' + context.awsRequestId);
  return {
    pid: process.pid,
    version: process.version,
    invocations,
    remainingMs: context.getRemainingTimeInMillis(),
    heapLimitMb: require('node:v8').getHeapStatistics().heap_size_limit / 1048576,
    env: { MY_SETTING: process.env.MY_SETTING, AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID },
  };
};
`;

interface Answer {
  pid: number;
  version: string;
  invocations: number;
  remainingMs: number;
  heapLimitMb: number;
  env: Record<string, string | undefined>;
}

const bundles: TestBundle[] = [];
const functions: LocalFunction[] = [];
afterEach(async () => {
  await Promise.all(functions.splice(0).map((fn) => fn.unload()));
  await Promise.all(bundles.splice(0).map((b) => b.remove()));
});

async function load(
  overrides: Partial<Omit<LocalFunctionDefinition, 'codeDir'>> = {},
  source = JOURNALING_HANDLER,
  credentials?: { accessKeyId: string; secretAccessKey: string },
): Promise<{ fn: LocalFunction; bundle: TestBundle }> {
  const bundle = writeTestBundle(source, overrides);
  bundles.push(bundle);
  const { region, endpoints } = inject('emulators');
  const fn = await loadFunction(bundle.definition, { region, endpoints, credentials });
  functions.push(fn);
  return { fn, bundle };
}

function answer(result: InvocationResult): Answer {
  if (result.status !== 'ok') throw new Error(`expected an answer, got ${JSON.stringify(result)}`);
  return result.response as Answer;
}

const linesStarting = (bundle: TestBundle, prefix: string) =>
  bundle.journalLines().filter((line) => line.startsWith(`${prefix} `));

describe('loadFunction sandboxes', () => {
  it('reuses a warm sandbox for sequential invocations: one process, one module init', async () => {
    const { fn, bundle } = await load();

    const first = await fn.invoke({});
    const second = await fn.invoke({});

    expect([first.coldStart, second.coldStart]).toEqual([true, false]);
    expect(answer(second).pid).toBe(answer(first).pid);
    expect(answer(second).invocations).toBe(2);
    expect(linesStarting(bundle, 'init')).toHaveLength(1);
  });

  it('runs overlapping invocations in sandboxes of their own', async () => {
    const { fn, bundle } = await load();

    const both = await Promise.all([fn.invoke({ waitForStarts: 2 }), fn.invoke({ waitForStarts: 2 })]);

    const [a, b] = both.map(answer);
    expect(a?.pid).not.toBe(b?.pid);
    expect(both.every((r) => r.coldStart)).toBe(true);
    expect(linesStarting(bundle, 'init')).toHaveLength(2);
  });

  it('kills a timed-out invocation, so nothing it would have done after the deadline ever happens', async () => {
    const { fn, bundle } = await load({ timeoutSeconds: 1 });

    const result = await fn.invoke({ sleepMs: 1_500 });

    expect(result.status).toBe('timeout');
    expect(result.durationMs).toBeGreaterThanOrEqual(1_000);
    expect(result.durationMs).toBeLessThan(1_500);
    const [started] = linesStarting(bundle, 'start');
    const pid = Number(started?.split(' ')[1]);
    // Once its process is gone, nothing the handler scheduled can run any more, however long one waits.
    await waitFor(() => !processAlive(pid), { timeoutMs: 5_000, message: `sandbox ${pid} to be gone` });
    expect(linesStarting(bundle, 'end')).toEqual([]);
  });

  it('lets the same handler finish when its timeout allows it (the control for the kill above)', async () => {
    const { fn, bundle } = await load({ timeoutSeconds: 3 });

    const result = await fn.invoke({ sleepMs: 1_500 });

    expect(result.status).toBe('ok');
    expect(linesStarting(bundle, 'end')).toHaveLength(1);
  });

  it('starts the next invocation cold after a timeout: a new process that runs module init again', async () => {
    const { fn, bundle } = await load({ timeoutSeconds: 1 });
    const before = answer(await fn.invoke({}));

    expect((await fn.invoke({ sleepMs: 1_500 })).status).toBe('timeout');
    const after = await fn.invoke({});

    expect(after.coldStart).toBe(true);
    expect(answer(after).pid).not.toBe(before.pid);
    expect(answer(after).invocations).toBe(1);
    expect(linesStarting(bundle, 'init')).toHaveLength(2);
  });

  it('fails only the invocation whose sandbox crashed, as Runtime.ExitError, and replaces the sandbox', async () => {
    const { fn } = await load();
    const stderr: string[] = [];
    const original = process.stderr.write;
    process.stderr.write = ((chunk: unknown) =>
      stderr.push(String(chunk)) > 0) as typeof process.stderr.write;
    let crashed: InvocationResult;
    let exited: InvocationResult;
    let fine: InvocationResult;
    try {
      [crashed, exited, fine] = await Promise.all([
        fn.invoke({ crash: true, waitForStarts: 3 }),
        fn.invoke({ exitCode: 3, waitForStarts: 3 }),
        fn.invoke({ waitForStarts: 3 }),
      ]);
    } finally {
      process.stderr.write = original;
    }
    const next = await fn.invoke({});

    expect(crashed).toMatchObject({ status: 'error', error: { errorType: 'Runtime.ExitError' } });
    expect(exited).toMatchObject({ status: 'error', error: { errorType: 'Runtime.ExitError' } });
    expect(exited.status === 'error' && String(exited.error)).toContain('exit status 3');
    expect(answer(fine).invocations).toBe(1);
    // The uncaught exception's stack reached this process's stderr before the failure was reported.
    expect(stderr).toContainEqual('Error: crash on purpose\n');
    // Two sandboxes died; the survivor is the only warm one left, so the next invocation reuses it.
    expect(next.coldStart).toBe(false);
    expect(answer(next).pid).toBe(answer(fine).pid);
  });

  it('fails an invocation with the error its handler threw, and keeps the sandbox warm', async () => {
    const { fn } = await load();
    const first = answer(await fn.invoke({}));

    const failed = await fn.invoke({ throw: 'bad input' });
    const next = answer(await fn.invoke({}));

    expect(failed.status).toBe('error');
    const error = failed.status === 'error' ? failed.error : undefined;
    expect(error).toBeInstanceOf(FunctionError);
    expect(error).toMatchObject({ errorType: 'TaskFailedOnPurpose', message: 'bad input' });
    expect(next.pid).toBe(first.pid);
  });

  it('fails the invocation with the init error when the bundle throws while loading', async () => {
    const { fn } = await load(
      {},
      `throw Object.assign(new Error('MY_SETTING is required'), { name: 'ConfigError' });`,
    );

    const result = await fn.invoke({});

    expect(result).toMatchObject({
      status: 'error',
      coldStart: true,
      error: { errorType: 'ConfigError', message: 'MY_SETTING is required' },
    });
  });

  it('gives each function its own environment and credentials', async () => {
    const { fn: a } = await load({ environment: { MY_SETTING: 'a' } });
    const { fn: b } = await load({ environment: { MY_SETTING: 'b' } }, JOURNALING_HANDLER, {
      accessKeyId: 'AKIDROLEB',
      secretAccessKey: 'secret-b',
    });

    const [fromA, fromB] = (await Promise.all([a.invoke({}), b.invoke({})])).map(answer);

    expect(fromA?.env).toEqual({ MY_SETTING: 'a', AWS_ACCESS_KEY_ID: 'local' });
    expect(fromB?.env).toEqual({ MY_SETTING: 'b', AWS_ACCESS_KEY_ID: 'AKIDROLEB' });
  });

  it('runs the function on the Node major its runtime names when this machine has one', async () => {
    const { fn } = await load({ runtime: 'nodejs22.x' });

    const inside = answer(await fn.invoke({}));

    expect(inside.version).toBe(fn.node.version);
    if (process.env.TIERQ_NODE_22) {
      expect(fn.node.source).toBe('env');
      expect(inside.version).toMatch(/^v22\./);
    }
    if (fn.node.source !== 'fallback') expect(inside.version).toMatch(/^v22\./);
  });

  it("bounds the sandbox's JavaScript heap by the function's memory and counts down to its deadline", async () => {
    const { fn } = await load({ memorySize: 512, timeoutSeconds: 2 });

    const inside = answer(await fn.invoke({ sleepMs: 100 }));

    // --max-old-space-size 461 and semi-spaces of 25 MB: V8 reports the sum with some overhead.
    expect(inside.heapLimitMb).toBeGreaterThan(450);
    expect(inside.heapLimitMb).toBeLessThan(600);
    expect(inside.remainingMs).toBeGreaterThan(1_000);
    expect(inside.remainingMs).toBeLessThanOrEqual(1_900);
  });

  it('forwards the sandbox output to this process one write per line', async () => {
    const { fn } = await load(
      {},
      `exports.handler = async () => {
        process.stdout.write('{"_aws":');
        process.stdout.write('{"one":1}}\\nsecond line\\n');
        process.stdout.write('no newline at exit');
        process.exit(0);
      };`,
    );
    const writes: string[] = [];
    const original = process.stdout.write;
    process.stdout.write = ((chunk: unknown) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await fn.invoke({});
      await waitFor(() => writes.some((w) => w.startsWith('no newline')), {
        timeoutMs: 5_000,
        message: 'the last line',
      });
    } finally {
      process.stdout.write = original;
    }

    expect(writes).toEqual(['{"_aws":{"one":1}}\n', 'second line\n', 'no newline at exit\n']);
  });

  it('unload kills idle and running sandboxes and ends the running invocation as an error', async () => {
    const { fn, bundle } = await load({ timeoutSeconds: 30 });
    const pair = (await Promise.all([fn.invoke({ waitForStarts: 2 }), fn.invoke({ waitForStarts: 2 })])).map(
      answer,
    );
    const running = fn.invoke({ sleepMs: 20_000 });
    await waitFor(() => linesStarting(bundle, 'start').length === 3, { message: 'the third invocation' });

    await fn.unload();

    expect(pair.map((a) => processAlive(a.pid))).toEqual([false, false]);
    expect(await running).toMatchObject({ status: 'error', error: { errorType: 'Local.FunctionUnloaded' } });
    expect(await fn.invoke({})).toMatchObject({ status: 'error' });
  });
});
