import { Command, CommanderError } from 'commander';
import { Cli, CliExit, ExitCode } from './cli.js';
import { breakerCommand } from './commands/breaker.js';
import { dashboardCommand } from './commands/dashboard.js';
import { dlqCommand } from './commands/dlq.js';
import { enqueueCommand } from './commands/enqueue.js';
import { localCommand } from './commands/local.js';
import { pauseCommands } from './commands/pause.js';
import { statusCommand } from './commands/status.js';
import { taskCommand } from './commands/task.js';

/**
 * Builds the `tierq` program. Exits are left to the caller: commander's own (help, bad
 * arguments) surface as CommanderError through `exitOverride`.
 *
 * @example
 * await buildProgram(new Cli()).parseAsync(process.argv);
 */
export function buildProgram(cli: Cli): Command {
  const program = new Command('tierq')
    .description(
      'tierq: enqueue tasks, watch the tiers, inspect and replay the dead-letter queue, pause and resume, serve a dashboard',
    )
    .option(
      '--stack <name>',
      'target a deployed stack on AWS (default: the local stack in .tierq/local.json)',
    )
    .option('--region <region>', 'AWS region of --stack (default: AWS_REGION)')
    .option('--queue <path|id>', 'the task queue, by construct path or id, when the app has several')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(cli.err.style('red', text)) })
    .exitOverride();
  localCommand(program);
  enqueueCommand(program, cli);
  statusCommand(program, cli);
  taskCommand(program, cli);
  dlqCommand(program, cli);
  breakerCommand(program, cli);
  pauseCommands(program, cli);
  dashboardCommand(program, cli);
  return program;
}

/**
 * Runs the CLI and returns its exit code: 0, 1 (a failure at the target) or 2 (bad arguments).
 *
 * @example
 * process.exitCode = await main(process.argv);
 */
export async function main(argv: readonly string[]): Promise<number> {
  const cli = new Cli();
  try {
    await buildProgram(cli).parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      const informational = ['commander.helpDisplayed', 'commander.version', 'commander.help'];
      return informational.includes(error.code) ? 0 : ExitCode.usage;
    }
    if (error instanceof CliExit) return error.exitCode;
    return cli.report(error);
  }
}
