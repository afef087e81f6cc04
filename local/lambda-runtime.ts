/**
 * The local runner's Lambda service for one function: a pool of sandbox processes
 * (local/sandbox/), one per concurrent execution environment, each reused warm for one
 * invocation at a time, started on demand and killed at the invocation's timeout.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LOCAL_CREDENTIALS } from './emulators.js';
import { memoryFlags, sandboxEnvironment } from './sandbox/environment.js';
import { FunctionError } from './sandbox/function-error.js';
import { type NodeBinary, nodeBinaryFor } from './sandbox/node-binary.js';
import { type Sandbox, startSandbox } from './sandbox/sandbox.js';

export { FunctionError } from './sandbox/function-error.js';
export type { NodeBinary } from './sandbox/node-binary.js';

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
  /**
   * The keys the function's SDK clients sign with (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`
   * in its sandboxes), e.g. its execution role's. Default: the emulators' dummy keys.
   */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /**
   * Default Powertools log level, so a busy local run stays readable. A `POWERTOOLS_LOG_LEVEL`
   * in this process's environment or in the function's wins. Default `WARN`. Metrics (EMF) output
   * is off unless `POWERTOOLS_METRICS_DISABLED=false` is set.
   */
  readonly logLevel?: string;
}

/** Options of one invocation. */
export interface InvokeOptions {
  /** `context.awsRequestId`; a fresh UUID when omitted. */
  readonly requestId?: string;
  /**
   * Test-only: kill the sandbox this many ms into the invocation instead of at the function's
   * timeout (the handler still sees the real deadline). Fault injection uses it to stop a
   * handler in the middle of its work.
   */
  readonly killAfterMs?: number;
}

/** How one invocation ended. A `timeout` or `error` fails the whole batch, as on Lambda. */
export type InvocationResult = (
  | { readonly status: 'ok'; readonly response: unknown }
  | { readonly status: 'error'; readonly error: unknown }
  | { readonly status: 'timeout' }
) & {
  readonly requestId: string;
  /** From handing the event to a ready sandbox to its answer (Lambda's billed duration). */
  readonly durationMs: number;
  /** True when a new sandbox had to be started (and the bundle loaded) for this invocation. */
  readonly coldStart: boolean;
};

/** A loaded function, ready to be invoked. */
export interface LocalFunction {
  readonly definition: LocalFunctionDefinition;
  /** The Node.js binary its sandboxes run on. */
  readonly node: NodeBinary;
  invoke(event: unknown, options?: InvokeOptions): Promise<InvocationResult>;
  /**
   * Kills every sandbox, idle or still running (its invocation ends as an `error`), and resolves
   * once they have exited. Later invocations fail. Stop the event sources first, so running
   * invocations get their chance to finish.
   */
  unload(): Promise<void>;
}

/**
 * Prepares a function the way the Lambda service would run it: nothing starts until an
 * invocation needs an execution environment. Then a sandbox process starts (the cold start: Node
 * starts, the bundle is loaded with the function's own environment) and stays warm for the next
 * invocation; invocations that overlap get sandboxes of their own. At its timeout an invocation's
 * sandbox is killed and the next one starts cold, as on Lambda; a sandbox that crashes fails only
 * the invocation it held.
 *
 * The handler module must exist; errors of its init (a missing variable, a bad export) fail the
 * invocations, as on Lambda.
 *
 * @example
 * const fn = await loadFunction(definition, { region, endpoints });
 * const result = await fn.invoke(sqsEvent);
 * await fn.unload();
 */
export async function loadFunction(
  definition: LocalFunctionDefinition,
  options: LoadFunctionOptions,
): Promise<LocalFunction> {
  const node = nodeBinaryFor(definition.runtime);
  assertHandlerModule(definition);
  const nodeFlags = memoryFlags(definition.memorySize);
  // The sandbox's working directory is the bundle's, so a relative path would not survive it.
  const codeDir = resolve(definition.codeDir);
  const timeoutMs = definition.timeoutSeconds * 1000;
  const idle: Sandbox[] = [];
  const all = new Set<Sandbox>();
  let unloaded = false;

  const start = (): Sandbox => {
    const logStreamName = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomUUID().replaceAll('-', '')}`;
    const env = sandboxEnvironment(
      { ...definition, codeDir },
      {
        ...options,
        credentials: options.credentials ?? LOCAL_CREDENTIALS,
        logStreamName,
      },
    );
    const sandbox = startSandbox({ node, nodeFlags, codeDir, env });
    all.add(sandbox);
    return sandbox;
  };
  const discard = (sandbox: Sandbox) => {
    all.delete(sandbox);
    void sandbox.kill();
  };

  return {
    definition,
    node,
    async invoke(event, invokeOptions = {}) {
      const requestId = invokeOptions.requestId ?? randomUUID();
      if (unloaded) {
        const error = new FunctionError('Local.FunctionUnloaded', `${definition.logicalId} was unloaded`);
        return { status: 'error', error, requestId, durationMs: 0, coldStart: false };
      }
      // The most recently used sandbox first, as Lambda tends to; one that died idle is dropped.
      let sandbox = idle.pop();
      while (sandbox !== undefined && !sandbox.alive()) {
        all.delete(sandbox);
        sandbox = idle.pop();
      }
      const coldStart = sandbox === undefined;
      sandbox ??= start();
      const initError = await sandbox.ready;
      if (initError !== undefined) {
        discard(sandbox);
        const error = unloaded ? unloadedError(definition) : initError;
        return { status: 'error', error, requestId, durationMs: 0, coldStart };
      }
      const started = Date.now();
      const outcome = await sandbox.invoke(
        { requestId, invokedFunctionArn: definition.arn, deadline: started + timeoutMs, event },
        invokeOptions.killAfterMs ?? timeoutMs,
      );
      const durationMs = Date.now() - started;
      const common = { requestId, durationMs, coldStart };
      switch (outcome.kind) {
        case 'response':
        case 'error':
          // A function error leaves the environment warm, as on Lambda.
          if (unloaded || !sandbox.alive()) discard(sandbox);
          else idle.push(sandbox);
          return outcome.kind === 'response'
            ? { status: 'ok', response: outcome.response, ...common }
            : { status: 'error', error: outcome.error, ...common };
        case 'timeout':
          discard(sandbox);
          return { status: 'timeout', ...common };
        case 'exit':
          discard(sandbox);
          return { status: 'error', error: unloaded ? unloadedError(definition) : outcome.error, ...common };
      }
    },
    async unload() {
      unloaded = true;
      idle.length = 0;
      await Promise.all([...all].map((sandbox) => sandbox.kill()));
      all.clear();
    },
  };
}

function unloadedError(definition: LocalFunctionDefinition): FunctionError {
  return new FunctionError(
    'Local.FunctionUnloaded',
    `${definition.logicalId} was unloaded while the invocation ran; its sandbox was killed`,
  );
}

/** Fails at load, not at the first invocation, when the handler's module is not in the bundle. */
function assertHandlerModule(definition: LocalFunctionDefinition): void {
  const modulePath = definition.handler.slice(0, definition.handler.lastIndexOf('.'));
  const found = ['.js', '.cjs', '.mjs'].some((ext) => existsSync(join(definition.codeDir, modulePath + ext)));
  if (!found) {
    throw new Error(
      `${definition.logicalId}: handler module ${modulePath}(.js|.cjs|.mjs) not found in ${definition.codeDir}`,
    );
  }
}
