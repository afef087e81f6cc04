import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `tierq local [options]`: the same as `npm start`, options passed through. */
export function localCommand(program: Command): void {
  program
    .command('local')
    .description('run the local stack with a demo workload (same as npm start; --help for its options)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]', 'passed to the local runner, e.g. --no-demo, --duration 30')
    .action(async (args: string[]) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'local', 'start.ts'), ...args], {
        stdio: 'inherit',
      });
      // The terminal's Ctrl-C reaches the runner too; it shuts down cleanly and this process follows.
      const ignore = () => {};
      process.on('SIGINT', ignore);
      process.on('SIGTERM', () => child.kill('SIGTERM'));
      const code = await new Promise<number>((resolve) =>
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 130 : 1))),
      );
      process.off('SIGINT', ignore);
      process.exitCode = code;
    });
}
