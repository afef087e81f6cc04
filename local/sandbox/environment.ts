/**
 * What a sandbox process starts with: its environment (the function's own, Lambda's reserved
 * variables, the emulator endpoints) and the Node flags its memory setting implies.
 */
import Module from 'node:module';
import { delimiter } from 'node:path';

/** The parts of a function definition the sandbox environment is built from. */
export interface SandboxFunction {
  readonly name: string;
  readonly handler: string;
  readonly codeDir: string;
  readonly memorySize: number;
  readonly runtime: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly logGroupName: string;
}

/** Where the sandbox's AWS SDK clients go and as whom. */
export interface SandboxAccess {
  readonly region: string;
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string };
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly logLevel?: string;
  /** The log stream of this execution environment (Lambda names one per environment). */
  readonly logStreamName: string;
}

type ModuleStatics = typeof Module & { _nodeModulePaths(dir: string): string[] };

/**
 * Variables of this process passed on to sandboxes. Nothing else is inherited: a sandbox sees
 * what a Lambda execution environment would, not the shell that started the runner.
 */
const PASSED_THROUGH = [
  // The SDK's warning about an old Node, which the user already silenced for the runner.
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
] as const;

/**
 * A sandbox's whole environment, in Lambda's order of precedence: defaults the function may
 * override (`PATH`, `LANG`, `TZ`, `NODE_PATH`), then the function's variables, then the reserved
 * ones it cannot set (region, credentials, `AWS_LAMBDA_*`, `_HANDLER`, …), then the emulator
 * endpoints. `NODE_PATH` plays the part of the Lambda runtime's own `node_modules`: the AWS SDK,
 * which the bundle leaves out because Lambda provides it, resolves from the project the runner
 * was started in. `NODE_OPTIONS`, as on Lambda, applies to the sandbox's Node.
 *
 * @example
 * const env = sandboxEnvironment(definition, { region, endpoints, credentials, logStreamName });
 */
export function sandboxEnvironment(fn: SandboxFunction, access: SandboxAccess): Record<string, string> {
  const environment: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    NODE_PATH: (Module as ModuleStatics)._nodeModulePaths(process.cwd()).join(delimiter),
  };
  for (const key of PASSED_THROUGH) {
    const value = process.env[key];
    if (value !== undefined) environment[key] = value;
  }
  Object.assign(environment, fn.environment, {
    AWS_REGION: access.region,
    AWS_DEFAULT_REGION: access.region,
    AWS_ACCESS_KEY_ID: access.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: access.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: access.endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: access.endpoints.dynamodb,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: fn.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: access.logStreamName,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    LAMBDA_TASK_ROOT: fn.codeDir,
    _HANDLER: fn.handler,
  });
  // A session token or profile could only come from the template, and would be sent with the dummy keys.
  delete environment.AWS_SESSION_TOKEN;
  delete environment.AWS_PROFILE;
  environment.POWERTOOLS_LOG_LEVEL ??= process.env.POWERTOOLS_LOG_LEVEL ?? access.logLevel ?? 'WARN';
  // EMF lines are for CloudWatch, which is not here; they would drown the terminal.
  environment.POWERTOOLS_METRICS_DISABLED ??= process.env.POWERTOOLS_METRICS_DISABLED ?? 'true';
  return environment;
}

/**
 * Node flags for a function's `MemorySize`, the ones the Lambda Node.js runtime's bootstrap
 * passes (as published copies of `/var/runtime/bootstrap` show): a tenth of the memory for the
 * young generation, so semi-spaces of a twentieth each, and the rest for the old generation.
 * So a sandbox's JavaScript heap is bounded like Lambda's and a leak fails with V8's heap-limit
 * crash (a Runtime.ExitError) near the same size. What V8 does not count (Buffers, native
 * memory, the binary itself) is not bounded here, where Lambda would stop the whole environment
 * at `MemorySize` (Runtime.OutOfMemory): nothing in Node can cap a process's RSS.
 *
 * @example
 * memoryFlags(512); // ['--max-semi-space-size=25', '--max-old-space-size=461']
 */
export function memoryFlags(memorySize: number): string[] {
  const young = Math.floor(memorySize / 10);
  return [`--max-semi-space-size=${Math.floor(young / 2)}`, `--max-old-space-size=${memorySize - young}`];
}
