/**
 * An error from a function's sandbox, rebuilt in the runner: what the function threw, or what
 * its runtime reported (Runtime.ExitError, Runtime.ImportModuleError, …), as Lambda names them.
 */

/** A function error as the sandbox sends it over IPC, in the shape Lambda reports one. */
export interface SerializedFunctionError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stack?: string;
}

/**
 * An error the function's code threw in its sandbox, or one its runtime reported. `name` is the
 * error type (e.g. `ConfigError`, `Runtime.ExitError`), so logs read as they would on Lambda;
 * `stack` is the sandbox's.
 *
 * @example
 * if (result.status === 'error' && result.error instanceof FunctionError) result.error.errorType;
 */
export class FunctionError extends Error {
  readonly errorType: string;

  constructor(errorType: string, message: string, stack?: string) {
    super(message);
    this.name = errorType;
    this.errorType = errorType;
    if (stack !== undefined) this.stack = stack;
  }

  /** Rebuilds what the sandbox sent. */
  static from(serialized: SerializedFunctionError): FunctionError {
    return new FunctionError(serialized.errorType, serialized.errorMessage, serialized.stack);
  }

  /**
   * The sandbox process ended while it held an invocation (an uncaught exception, an unhandled
   * rejection, `process.exit`, V8's heap limit), in Lambda's words.
   */
  static exit(
    requestId: string | undefined,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): FunctionError {
    const how = signal === null ? `exit status ${code}` : `signal: ${signal}`;
    const during = requestId === undefined ? 'during init ' : `RequestId: ${requestId} `;
    return new FunctionError('Runtime.ExitError', `${during}Error: Runtime exited with error: ${how}`);
  }
}
