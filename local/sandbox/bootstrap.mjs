// @ts-check
/**
 * The local runner's Lambda runtime, inside one sandbox process: loads the function's bundle
 * once (the cold start), then answers invocations the parent sends over IPC, one at a time, as
 * the Lambda Node.js runtime answers the Runtime API. Plain JavaScript, so it runs on any Node
 * the function asks for without a TypeScript loader.
 *
 * Messages in:  { type: 'invoke', requestId, invokedFunctionArn, deadline, event }
 * Messages out: { type: 'ready' } | { type: 'init-error', error }
 *               | { type: 'result', requestId, response } | { type: 'error', requestId, error }
 * where `error` is { errorType, errorMessage, stack? }, as Lambda reports a function error.
 *
 * An uncaught exception or `process.exit` ends the process, which the parent reports as
 * Runtime.ExitError; the parent also kills the process at the invocation's deadline.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** @typedef {(event: unknown, context: object, callback: (error: unknown, result?: unknown) => void) => unknown} Handler */

// The terminal's Ctrl-C reaches the whole process group; the parent decides when a sandbox ends.
process.on('SIGINT', () => {});
// The parent is gone (it exited or was killed): nobody can invoke this sandbox again.
process.on('disconnect', () => process.exit(0));

const env = process.env;
const logStreamName = env.AWS_LAMBDA_LOG_STREAM_NAME ?? `local/[$LATEST]${randomUUID().replaceAll('-', '')}`;

/** @param {object} message */
function send(message) {
  try {
    process.send?.(message);
  } catch (error) {
    // A response JSON cannot represent (a cycle, a BigInt): Lambda fails the invocation the same way.
    const requestId = /** @type {{ requestId?: string }} */ (message).requestId;
    process.send?.({
      type: 'error',
      requestId,
      error: { errorType: 'Runtime.MarshalError', errorMessage: String(error) },
    });
  }
}

/**
 * @param {unknown} error
 * @returns {{ errorType: string, errorMessage: string, stack?: string }}
 */
function serializeError(error) {
  if (error instanceof Error) {
    return { errorType: error.name || 'Error', errorMessage: error.message, stack: error.stack };
  }
  return { errorType: typeof error, errorMessage: String(error) };
}

/** @returns {Promise<Handler>} */
async function loadHandler() {
  const handlerName = env._HANDLER ?? 'index.handler';
  const taskRoot = env.LAMBDA_TASK_ROOT ?? process.cwd();
  const dot = handlerName.lastIndexOf('.');
  const modulePath = handlerName.slice(0, dot);
  const exportName = handlerName.slice(dot + 1);
  const file = ['.js', '.cjs', '.mjs']
    .map((ext) => join(taskRoot, modulePath + ext))
    .find((candidate) => existsSync(candidate));
  if (file === undefined) {
    throw Object.assign(new Error(`Cannot find module '${modulePath}' (.js, .cjs, .mjs) in ${taskRoot}`), {
      name: 'Runtime.ImportModuleError',
    });
  }
  const exports = file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : loadCommonJs(file);
  const handler = exports?.[exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${file} does not export a function named "${exportName}"`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return handler;
}

/**
 * Lambda runs `index.js` as CommonJS, but the asset may sit inside a `"type": "module"` project,
 * where `require()` would refuse it as an ES module. So the file is compiled as a CommonJS
 * module by hand, through the loader's own `_compile` so that `--enable-source-maps` (from
 * NODE_OPTIONS, as on Lambda) maps its stack traces. Bare requires resolve next to the bundle,
 * then through NODE_PATH (the runner points it at the project's node_modules, as Lambda points
 * it at the runtime's).
 *
 * @param {string} file
 * @returns {Record<string, unknown>}
 */
function loadCommonJs(file) {
  const statics = /** @type {typeof Module & { _nodeModulePaths(dir: string): string[] }} */ (Module);
  const module =
    /** @type {{ filename: string, paths: string[], exports: Record<string, unknown>, _compile(source: string, filename: string): void }} */ (
      /** @type {unknown} */ (new Module(file))
    );
  module.filename = file;
  module.paths = statics._nodeModulePaths(dirname(file));
  module._compile(readFileSync(file, 'utf8'), file);
  return module.exports;
}

/**
 * @param {string} requestId
 * @param {string} invokedFunctionArn
 * @param {number} deadline epoch ms at which the parent kills this process
 */
function lambdaContext(requestId, invokedFunctionArn, deadline) {
  const unsupported = () => {
    throw new Error('context.done/succeed/fail are not supported; return or throw instead');
  };
  const memorySize = env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128';
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME ?? 'local';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn,
    memoryLimitInMB: memorySize,
    awsRequestId: requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? `/aws/lambda/${functionName}`,
    logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/**
 * Calls a handler written either way: async (returns a promise) or with a callback.
 *
 * @param {Handler} handler
 * @param {unknown} event
 * @param {object} context
 * @returns {Promise<unknown>}
 */
function callHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    /** @type {(error: unknown, result?: unknown) => void} */
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    try {
      const returned = handler(event, context, callback);
      if (returned !== null && typeof returned === 'object' && 'then' in returned) {
        Promise.resolve(returned).then(resolve, reject);
      } else if (handler.length < 3) {
        resolve(returned);
      }
    } catch (error) {
      reject(error);
    }
  });
}

/** @typedef {{ type: string, requestId: string, invokedFunctionArn: string, deadline: number, event: unknown }} Invoke */

/** @param {Handler} handler */
function serve(handler) {
  process.on('message', async (/** @type {Invoke} */ message) => {
    if (message?.type !== 'invoke') return;
    const { requestId, invokedFunctionArn, deadline, event } = message;
    try {
      const context = lambdaContext(requestId, invokedFunctionArn, deadline);
      const response = await callHandler(handler, event, context);
      send({ type: 'result', requestId, response });
    } catch (error) {
      send({ type: 'error', requestId, error: serializeError(error) });
    }
  });
  send({ type: 'ready' });
}

loadHandler().then(serve, (error) => {
  // The parent fails the invocation with this error and kills the process (Lambda resets the
  // environment after a failed init); exiting here could lose the message still being written.
  send({ type: 'init-error', error: serializeError(error) });
});
