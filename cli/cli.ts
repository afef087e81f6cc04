import type { Command } from 'commander';
import {
  ConfigError,
  InvalidMessageError,
  MessageTooLargeError,
  UnknownTierError,
} from '../shared/errors.js';
import { connect, type Target, type TargetOptions, unreachable } from './connect.js';
import { Output } from './output.js';

/** Exit codes: 1 for a failure at the target, 2 for a bad argument (as most CLIs do). */
export const ExitCode = { failure: 1, usage: 2 } as const;

/** A failure already explained to the user; `main` exits with its code and prints nothing more. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
  }
}

/**
 * What commands share: output streams, the target, and the two ways a command fails.
 *
 * @example
 * const target = await cli.connect(command);
 * const result = await cli.input(() => producer.enqueue(task, payload));
 */
export class Cli {
  private target: Target | undefined;

  constructor(
    readonly out = new Output(process.stdout),
    readonly err = new Output(process.stderr),
  ) {}

  /** Connects once per run, with the global `--stack`/`--region`. */
  async connect(command: Command): Promise<Target> {
    if (this.target !== undefined) return this.target;
    const options = command.optsWithGlobals<TargetOptions>();
    try {
      this.target = await connect(options);
    } catch (error) {
      if (error instanceof ConfigError) this.fail(error.message, ExitCode.usage);
      throw error;
    }
    return this.target;
  }

  /** Runs `fn`; an input error it throws (unknown tier, invalid id, too large) is a usage error. */
  async input<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const bad = [ConfigError, InvalidMessageError, MessageTooLargeError, UnknownTierError].some(
        (E) => error instanceof E,
      );
      if (bad) this.fail((error as Error).message, ExitCode.usage);
      throw error;
    }
  }

  /** Prints `message` and the command's usage; exits 2. */
  usageError(command: Command, message: string): never {
    this.err.line(`${this.err.style('red', 'error:')} ${message}`);
    this.err.line('');
    this.err.stream.write(command.helpInformation());
    throw new CliExit(ExitCode.usage);
  }

  /** Prints `message`; exits with `code`. */
  fail(message: string, code: number = ExitCode.failure): never {
    this.err.line(`${this.err.style('red', 'error:')} ${message}`);
    throw new CliExit(code);
  }

  /** Turns an error from a command into a message and an exit code. */
  report(error: unknown): number {
    if (error instanceof CliExit) return error.exitCode;
    const why = this.target === undefined ? undefined : unreachable(error, this.target);
    this.err.line(
      `${this.err.style('red', 'error:')} ${why ?? (error instanceof Error ? error.message : String(error))}`,
    );
    return ExitCode.failure;
  }
}
