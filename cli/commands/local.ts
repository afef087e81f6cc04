import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';

const HERE = fileURLToPath(import.meta.url);
/**
 * The runner beside this command: built JavaScript in the package (dist/local/start.js), or the
 * TypeScript source through tsx when the CLI itself runs from source in this repository.
 */
const FROM_SOURCE = HERE.endsWith('.ts');
const START = join(dirname(HERE), '..', '..', 'local', FROM_SOURCE ? 'start.ts' : 'start.js');

/** `tierq local [options]`: the same as `npm start`, options passed through. */
export function localCommand(program: Command): void {
  program
    .command('local')
    .description('run the local stack with a demo workload (same as npm start; --help for its options)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]', 'passed to the local runner, e.g. --no-demo, --duration 30')
    .action(async (args: string[], _options: unknown, command: Command) => {
      // `--queue` is also the program's global option, which takes it before this command sees
      // it: hand it on to the runner.
      const { queue } = command.optsWithGlobals<{ queue?: string }>();
      if (queue !== undefined && !args.includes('--queue')) args.push('--queue', queue);
      const loader = FROM_SOURCE ? ['--import', pathToFileURL(createRequire(HERE).resolve('tsx')).href] : [];
      const child = spawn(process.execPath, [...loader, START, ...args], { stdio: 'inherit' });
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
