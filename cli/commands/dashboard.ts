import { type Command, InvalidArgumentError } from 'commander';
import { startDashboard } from '../../dashboard/server.js';
import type { Cli } from '../cli.js';

function parsePort(value: string): number {
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 0 && n <= 65_535)) {
    throw new InvalidArgumentError('expected a port from 0 to 65535 (0: any free port).');
  }
  return n;
}

/** `tierq dashboard`: serves the web page on 127.0.0.1 until interrupted. */
export function dashboardCommand(program: Command, cli: Cli): void {
  program
    .command('dashboard')
    .description('serve a web page to watch the tiers and work the dead-letter queue (127.0.0.1 only)')
    .option('--port <n>', 'port to listen on (default: any free port)', parsePort, 0)
    .option('--no-enqueue', 'do not allow enqueueing tasks from the page')
    .action(async (flags: { port: number; enqueue: boolean }, command: Command) => {
      const target = await cli.connect(command);
      let dashboard: Awaited<ReturnType<typeof startDashboard>>;
      try {
        dashboard = await startDashboard({
          target,
          port: flags.port,
          enqueue: flags.enqueue,
          onError: (line) => cli.err.line(cli.err.style('yellow', 'dashboard:'), line),
        });
      } catch (error) {
        if ((error as { code?: string }).code === 'EADDRINUSE') {
          cli.fail(`port ${flags.port} is in use; pick another with --port, or --port 0 for any free one`);
        }
        throw error;
      }
      const { out } = cli;
      out.line(`tierq dashboard for ${target.description}`);
      out.line(`open ${out.style('bold', dashboard.url)}`);
      out.line(out.style('dim', 'the token in the URL is required; Ctrl-C to stop'));
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await dashboard.stop();
    });
}
