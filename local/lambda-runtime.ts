import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { LOCAL_CREDENTIALS } from './emulators.js';

/** What the local runtime needs to know about one `AWS::Lambda::Function`. */
export interface LocalFunctionDefinition {
  readonly logicalId: string;
  /** Physical name (what `Ref` returns). */
  readonly name: string;
  readonly arn: string;
  /** `file.export`, e.g. `index.handler`. */
  readonly handler: string;
  readonly codeDir: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  readonly runtime: string;
  /** The template's environment variables, already resolved to local values. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logGroupName: string;
}

/** Options for {@link loadFunction}. */
export interface LoadFunctionOptions {
  readonly region: string;
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string };
  /** The execution role's local keys (what the gateway authorizes as the role). Default: the emulators' placeholder keys. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /**
   * Default Powertools log level, so a busy local run stays readable. A `POWERTOOLS_LOG_LEVEL`
   * in this process's environment or in the function's wins. Default `WARN`. Metrics (EMF) output
   * is off unless `POWERTOOLS_METRICS_DISABLED=false` is set.
   */
  readonly logLevel?: string;
}

/** How one invocation ended. A `timeout` or `error` fails the whole batch, as on Lambda. */
export type InvocationResult =
  | { readonly status: 'ok'; readonly response: unknown; readonly durationMs: number }
  | { readonly status: 'error'; readonly error: unknown; readonly durationMs: number }
  | { readonly status: 'timeout'; readonly durationMs: number };

/** A loaded function, ready to be invoked. */
export interface LocalFunction {
  readonly definition: LocalFunctionDefinition;
  invoke(event: unknown): Promise<InvocationResult>;
  /** Releases its claim on the environment, so a later stack in this process may load again. */
  unload(): void;
}

type Handler = (
  event: unknown,
  context: Context,
  callback: (error: unknown, result?: unknown) => void,
) => unknown;

/** Variables already set by a loaded function: they share this process's environment. */
const claimedEnvironment = new Map<string, { value: string; by: string }>();

/**
 * Loads a function's bundle into this process, the way the Lambda Node.js runtime would: the
 * environment is set first (the template's variables, Lambda's reserved ones and the emulator
 * endpoints), then the handler module is loaded once, like a cold start.
 *
 * Functions share the process, so two functions with conflicting variables are refused.
 * A timed-out invocation is reported at its deadline, but its code keeps running in the
 * background: unlike Lambda, nothing here can freeze or kill it.
 *
 * @example
 * const fn = await loadFunction(definition, { region, endpoints });
 * const result = await fn.invoke(sqsEvent);
 */
export async function loadFunction(
  definition: LocalFunctionDefinition,
  options: LoadFunctionOptions,
): Promise<LocalFunction> {
  applyEnvironment(definition, options);
  const handler = await loadHandler(definition);
  const timeoutMs = definition.timeoutSeconds * 1000;
  return {
    definition,
    async invoke(event) {
      const started = Date.now();
      const deadline = started + timeoutMs;
      const context = lambdaContext(definition, deadline);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((done) => {
        timer = setTimeout(() => done('timeout'), timeoutMs);
      });
      const run = callHandler(handler, event, context);
      // After a timeout nobody awaits `run`; its late rejection must not crash the process.
      run.catch(() => {});
      try {
        const outcome = await Promise.race([run.then((response) => ({ response })), timedOut]);
        const durationMs = Date.now() - started;
        return outcome === 'timeout'
          ? { status: 'timeout', durationMs }
          : { status: 'ok', response: outcome.response, durationMs };
      } catch (error) {
        return { status: 'error', error, durationMs: Date.now() - started };
      } finally {
        clearTimeout(timer);
      }
    },
    unload() {
      for (const [key, claim] of claimedEnvironment) {
        if (claim.by === definition.logicalId) claimedEnvironment.delete(key);
      }
    },
  };
}

function applyEnvironment(definition: LocalFunctionDefinition, options: LoadFunctionOptions): void {
  const { region, endpoints } = options;
  const environment: Record<string, string> = {
    ...definition.environment,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: (options.credentials ?? LOCAL_CREDENTIALS).accessKeyId,
    AWS_SECRET_ACCESS_KEY: (options.credentials ?? LOCAL_CREDENTIALS).secretAccessKey,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_LAMBDA_FUNCTION_NAME: definition.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: definition.logGroupName,
    AWS_EXECUTION_ENV: `AWS_Lambda_${definition.runtime}`,
    LAMBDA_TASK_ROOT: definition.codeDir,
    _HANDLER: definition.handler,
  };
  environment.POWERTOOLS_LOG_LEVEL ??= process.env.POWERTOOLS_LOG_LEVEL ?? options.logLevel ?? 'WARN';
  // EMF lines are for CloudWatch, which is not here; they would drown the terminal.
  environment.POWERTOOLS_METRICS_DISABLED ??= process.env.POWERTOOLS_METRICS_DISABLED ?? 'true';
  // NODE_OPTIONS cannot apply to a running process; the one flag the stack sets is honoured here.
  if (environment.NODE_OPTIONS?.includes('--enable-source-maps')) process.setSourceMapsEnabled(true);
  delete environment.NODE_OPTIONS;

  for (const [key, value] of Object.entries(environment)) {
    const claimed = claimedEnvironment.get(key);
    if (claimed && claimed.value !== value && claimed.by !== definition.logicalId) {
      throw new Error(
        `${definition.logicalId} sets ${key}=${value}, but ${claimed.by} already set it to ${claimed.value}; ` +
          'the local runner loads functions into one process and cannot give them different values',
      );
    }
  }
  // A session token left over from the user's shell would be sent with the dummy keys.
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  for (const [key, value] of Object.entries(environment)) {
    claimedEnvironment.set(key, { value, by: definition.logicalId });
    process.env[key] = value;
  }
}

async function loadHandler(definition: LocalFunctionDefinition): Promise<Handler> {
  const dot = definition.handler.lastIndexOf('.');
  const modulePath = definition.handler.slice(0, dot);
  const exportName = definition.handler.slice(dot + 1);
  const file = ['.js', '.cjs', '.mjs']
    .map((ext) => join(definition.codeDir, modulePath + ext))
    .find((candidate) => existsSync(candidate));
  if (file === undefined) {
    throw new Error(
      `${definition.logicalId}: handler module ${modulePath}(.js|.cjs|.mjs) not found in ${definition.codeDir}`,
    );
  }
  const exports = file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : loadCommonJs(file);
  const handler = (exports as Record<string, unknown>)[exportName];
  if (typeof handler !== 'function') {
    throw new Error(`${definition.logicalId}: ${file} does not export a function named "${exportName}"`);
  }
  return handler as Handler;
}

/** The CommonJS loader internals used to compile a module by hand. */
interface CompilableModule {
  filename: string;
  paths: string[];
  exports: unknown;
  _compile(source: string, filename: string): void;
}
type ModuleStatics = typeof Module & { _nodeModulePaths(dir: string): string[] };

/**
 * Lambda runs `index.js` as CommonJS, but here the asset sits inside a `"type": "module"`
 * project, where `require()` would refuse it as an ES module. So the file is compiled as a
 * CommonJS module by hand, through the loader's own `_compile` so that `--enable-source-maps`
 * maps its stack traces. The AWS SDK, which the bundle leaves out because Lambda provides it,
 * resolves next to the bundle or else from the project this runner was started in, so an
 * assembly outside the project works too.
 */
function loadCommonJs(file: string): unknown {
  const statics = Module as ModuleStatics;
  const module = new Module(file) as unknown as CompilableModule;
  module.filename = file;
  module.paths = [...statics._nodeModulePaths(dirname(file)), ...statics._nodeModulePaths(process.cwd())];
  module._compile(readFileSync(file, 'utf8'), file);
  return module.exports;
}

function callHandler(handler: Handler, event: unknown, context: Context): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (error: unknown, result?: unknown) => (error ? reject(error) : resolve(result));
    try {
      const returned = handler(event, context, callback);
      if (
        returned instanceof Promise ||
        (typeof returned === 'object' && returned !== null && 'then' in returned)
      ) {
        Promise.resolve(returned).then(resolve, reject);
      } else if (handler.length < 3) {
        resolve(returned);
      }
    } catch (error) {
      reject(error);
    }
  });
}

function lambdaContext(definition: LocalFunctionDefinition, deadline: number): Context {
  const unsupported = () => {
    throw new Error('context.done/succeed/fail are not supported; return or throw instead');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: definition.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: definition.arn,
    memoryLimitInMB: String(definition.memorySize),
    awsRequestId: randomUUID(),
    logGroupName: definition.logGroupName,
    logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
