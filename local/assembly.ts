import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { TASK_QUEUE_OUTPUT_PREFIX, taskQueueOutputDescription } from '../shared/declaration.js';

/** One resource of a synthesized CloudFormation template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
}

/** The parts of a synthesized CloudFormation template the local runner reads. */
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Description?: string }>;
  readonly Parameters?: Record<string, { Type: string; Default?: unknown }>;
}

/** A stack read from a cloud assembly, exactly as `cdk deploy` would deploy it. */
export interface StackAssembly {
  /** Absolute path of the cloud assembly directory. */
  readonly dir: string;
  readonly stackName: string;
  readonly template: CfnTemplate;
  /** The stack's environment region, or undefined when the app left it agnostic. */
  readonly region: string | undefined;
}

/** Options for {@link synthesize}. */
export interface SynthesizeOptions {
  /** Project root holding cdk.json. Default: the current directory. */
  readonly cwd?: string;
  /** Cloud assembly output directory. */
  readonly outputDir: string;
  /** CDK context passed as `-c key=value`, e.g. `{ stage: 'dev' }`. */
  readonly context?: Readonly<Record<string, string>>;
}

/** Environment that keeps `cdk synth` offline and quiet (see ENVIRONMENT.md). */
const OFFLINE_CDK_ENV = {
  CDK_DISABLE_CLI_TELEMETRY: '1',
  CDK_DISABLE_VERSION_CHECK: '1',
  npm_config_update_notifier: 'false',
} as const;

/**
 * Runs `cdk synth` into `outputDir` with the project's own CDK app and CLI, so the local stack is
 * what `cdk deploy` would deploy. Rejects with the CLI's output when synth fails.
 *
 * @example
 * const dir = await synthesize({ outputDir: '.tierq/cdk.out' });
 */
export async function synthesize(options: SynthesizeOptions): Promise<string> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const outputDir = isAbsolute(options.outputDir) ? options.outputDir : join(cwd, options.outputDir);
  const context = Object.entries(options.context ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const args = ['cdk', 'synth', '--no-notices', '--quiet', '--output', outputDir, ...context];
  const child = spawn('npx', args, {
    cwd,
    env: { ...process.env, ...OFFLINE_CDK_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const code = await new Promise<number | string>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (exitCode, signal) => done(exitCode ?? signal ?? 'unknown'));
  });
  if (code !== 0) throw new Error(`cdk synth failed (exit ${code}):\n${output.trim()}`);
  return outputDir;
}

interface Manifest {
  artifacts?: Record<
    string,
    { type: string; environment?: string; displayName?: string; properties?: { templateFile?: string } }
  >;
}

/**
 * Reads a stack's template from a cloud assembly (`manifest.json` → `templateFile`). With one
 * stack in the assembly `stackName` may be omitted.
 *
 * @example
 * const stack = await readAssembly('cdk.out');
 * console.log(Object.keys(stack.template.Resources).length);
 */
export async function readAssembly(dir: string, stackName?: string, queue?: string): Promise<StackAssembly> {
  const absolute = resolve(dir);
  const manifestPath = join(absolute, 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`${manifestPath} not found: is ${dir} a cloud assembly?`);
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
  const stacks = await Promise.all(
    Object.entries(manifest.artifacts ?? {})
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(async ([id, artifact]) => {
        const templateFile = artifact.properties?.templateFile ?? `${id}.template.json`;
        const template = JSON.parse(await readFile(join(absolute, templateFile), 'utf8')) as CfnTemplate;
        return { id, artifact, template, queues: queuePathsOf(template) };
      }),
  );
  const names = stacks.map((s) => s.id);
  const found =
    stackName !== undefined
      ? stacks.find((s) => s.id === stackName)
      : queue !== undefined
        ? only(stacks.filter((s) => s.queues.some((path) => namesQueue(path, queue))))
        : (only(stacks) ?? only(stacks.filter((s) => s.queues.length > 0)));
  if (found === undefined) {
    const all = stacks.flatMap((s) => s.queues);
    const which =
      stackName !== undefined
        ? `stack "${stackName}"`
        : queue !== undefined
          ? `exactly one stack with the task queue "${queue}" (queues: ${all.join(', ') || 'none'})`
          : `exactly one stack, or one with task queues (queues: ${all.join(', ') || 'none'}; choose with --queue)`;
    throw new Error(`Cloud assembly ${dir} does not hold ${which}; it has: ${names.join(', ') || 'none'}`);
  }
  const { id, artifact, template } = found;
  // "aws://unknown-account/us-east-1": the region is set even when the account is agnostic.
  const region = artifact.environment?.split('/').at(-1);
  return {
    dir: absolute,
    stackName: id,
    template,
    region: region === undefined || region.startsWith('unknown-') ? undefined : region,
  };
}

/** The construct paths of the task queues a template describes in its outputs. */
function queuePathsOf(template: CfnTemplate): string[] {
  return Object.entries(template.Outputs ?? {})
    .filter(([key]) => key.startsWith(TASK_QUEUE_OUTPUT_PREFIX))
    .map(([, output]) => (output.Description ?? '').slice(taskQueueOutputDescription('').length));
}

/** A queue is named by its construct path or by the path's last part (its construct id). */
function namesQueue(path: string, wanted: string): boolean {
  const lower = wanted.toLowerCase();
  return path.toLowerCase() === lower || path.split('/').at(-1)?.toLowerCase() === lower;
}

function only<T>(items: readonly T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}

/**
 * The absolute directory of a resource's asset (the bundled function code), from the
 * `aws:asset:path` metadata the CDK writes on every resource with a local asset.
 *
 * @example
 * const codeDir = assetDirOf(stack, 'TaskQueueConsumer956A21A7');
 */
export function assetDirOf(stack: StackAssembly, logicalId: string): string {
  const assetPath = stack.template.Resources[logicalId]?.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') {
    throw new Error(
      `${logicalId} has no aws:asset:path metadata; synthesize without --no-asset-metadata ` +
        '(the local runner needs the bundled code on disk)',
    );
  }
  const dir = isAbsolute(assetPath) ? assetPath : join(stack.dir, assetPath);
  if (!existsSync(dir)) throw new Error(`Asset directory ${dir} of ${logicalId} does not exist`);
  return dir;
}
