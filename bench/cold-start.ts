import { execFile } from 'node:child_process';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';
import { consumerEnv } from '../test/helpers/sqs-event.js';
import { type BenchContext, type Benchmark, fmt, table } from './lib/benchmark.js';
import { interleave } from './lib/interleave.js';
import { uniqueName } from './lib/resources.js';
import { type Summary, summarize } from './lib/stats.js';

const RUNS = 15;

const BUNDLES = [
  { name: 'tierq', entry: 'functions/consumer.ts', env: consumerEnv() },
  {
    name: 'powertools',
    entry: 'bench/peers/powertools-function.ts',
    env: { IDEMPOTENCY_TABLE_NAME: 'idempotency' },
  },
] as const;

// Loads the bundle the way the Lambda runtime does (CommonJS require) and times only that.
const PROBE = `
const { performance } = require('node:perf_hooks');
const start = performance.now();
const mod = require(process.env.BENCH_BUNDLE);
const initMs = performance.now() - start;
if (typeof mod.handler !== 'function') throw new Error('the bundle exports no handler');
process.stdout.write(JSON.stringify({ initMs, readyMs: performance.now() }));
`;

/** Figures of one bundle. */
export interface BundleFigures {
  readonly name: string;
  readonly entry: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly sourceMapBytes: number;
  /** The largest contributors to the bundle, by package (or `(project)` for our own files). */
  readonly largestInputs: Record<string, number>;
  /** Time to `require()` the bundle: module initialisation, SDK clients included. */
  readonly initMs: Summary;
  /** From the process's start to the handler being ready (Node's own start-up included). */
  readonly readyMs: Summary;
}

/** The result of the cold-start benchmark. */
export interface ColdStartResult {
  readonly runs: number;
  readonly esbuildOptions: Record<string, unknown>;
  readonly bundles: BundleFigures[];
}

// The options infra/constructs/tierq-function.ts gives NodejsFunction, as the CDK passes them to
// esbuild: CJS, node22, minified, linked source map without sources, the AWS SDK left external
// (Lambda's runtime provides it; the feature flag that also externalizes @smithy is not set).
const ESBUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  external: ['@aws-sdk/*'],
  logLevel: 'warning',
};

async function bundle(entry: string, dir: string) {
  const outfile = join(dir, 'index.js');
  const { metafile } = await build({ ...ESBUILD_OPTIONS, entryPoints: [entry], outfile, metafile: true });
  // The project is "type": "module"; Lambda's task root has no package.json, so .js is CommonJS.
  await writeFile(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  const byPackage: Record<string, number> = {};
  for (const [input, { bytesInOutput }] of Object.entries(metafile?.outputs[outfile]?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const key = match?.[1] ?? '(project)';
    byPackage[key] = (byPackage[key] ?? 0) + bytesInOutput;
  }
  const largest = Object.fromEntries(
    Object.entries(byPackage)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6),
  );
  const code = await readFile(outfile);
  return {
    outfile: resolve(outfile),
    bytes: code.byteLength,
    gzipBytes: gzipSync(code).byteLength,
    sourceMapBytes: (await stat(`${outfile}.map`)).size,
    largestInputs: largest,
  };
}

async function probe(
  file: string,
  env: Record<string, string>,
): Promise<{ initMs: number; readyMs: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', PROBE], {
    env: {
      ...env,
      BENCH_BUNDLE: file,
      // What the function's template sets, and what Lambda's runtime provides.
      NODE_OPTIONS: '--enable-source-maps',
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'bench-cold-start',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      POWERTOOLS_SERVICE_NAME: 'tierq',
      POWERTOOLS_METRICS_NAMESPACE: 'tierq',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  return JSON.parse(stdout) as { initMs: number; readyMs: number };
}

async function run(context: BenchContext): Promise<ColdStartResult> {
  // Inside the project, so the external AWS SDK resolves from its node_modules as on Lambda's runtime.
  const root = join('.tierq', uniqueName('bench-cold-start'));
  try {
    const built = [];
    for (const b of BUNDLES) {
      context.progress.update(`bundling ${b.entry}`);
      built.push({ ...b, ...(await bundle(b.entry, join(root, b.name))) });
    }
    const samples = new Map(built.map((b) => [b.name, { init: [] as number[], ready: [] as number[] }]));
    await interleave(built, RUNS, async (b, i) => {
      context.progress.update(`fresh node process ${i + 1}/${RUNS} · ${b.name}`);
      const { initMs, readyMs } = await probe(b.outfile, b.env);
      samples.get(b.name)?.init.push(initMs);
      samples.get(b.name)?.ready.push(readyMs);
    });
    return {
      runs: RUNS,
      esbuildOptions: { ...ESBUILD_OPTIONS },
      bundles: built.map((b) => ({
        name: b.name,
        entry: b.entry,
        bytes: b.bytes,
        gzipBytes: b.gzipBytes,
        sourceMapBytes: b.sourceMapBytes,
        largestInputs: b.largestInputs,
        initMs: summarize(samples.get(b.name)?.init ?? []),
        readyMs: summarize(samples.get(b.name)?.ready ?? []),
      })),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function render(result: ColdStartResult): string {
  const kb = (bytes: number) => `${fmt(bytes / 1024, 1)} KiB`;
  return table(
    [
      'bundle',
      'bundle',
      'gzipped',
      'module init, median ms',
      'p95',
      'process start → ready, median ms',
      'largest inputs',
    ],
    result.bundles.map((b) => [
      `${b.name} (${b.entry})`,
      kb(b.bytes),
      kb(b.gzipBytes),
      fmt(b.initMs.p50, 1),
      fmt(b.initMs.p95, 1),
      fmt(b.readyMs.p50, 1),
      Object.entries(b.largestInputs)
        .map(([name, bytes]) => `${name} ${kb(bytes)}`)
        .join(', '),
    ]),
  );
}

/** Cold start: bundle size and module initialisation time over fresh Node processes. */
export const coldStart: Benchmark<ColdStartResult> = { name: 'cold-start', title: 'Cold start', run, render };
