import type { Command } from 'commander';
import { getTaskState } from '../../shared/stores/task-lookup.js';
import type { Cli } from '../cli.js';

/** `tierq task <id>`: the task's state record, or status `unknown`. */
export function taskCommand(program: Command, cli: Cli): void {
  program
    .command('task')
    .description("show a task's status, attempts, result and last error")
    .argument('<id>', 'task id (or its idempotency key, when the producer set one)')
    .option('--json', 'print as JSON')
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const target = await cli.connect(command);
      const state = await getTaskState({ client: target.dynamodb, tableName: target.connection.table }, id);
      const view =
        state.status === 'unknown'
          ? { id, task: null, status: 'unknown', attempts: 0, result: null, error: null }
          : {
              id,
              task: state.task,
              status: state.status,
              attempts: state.attempts,
              result: state.result ?? null,
              error: state.error ?? null,
            };
      if (flags.json) return cli.out.json(view);
      const { out } = cli;
      const colour = { succeeded: 'green', dead: 'red', retrying: 'yellow', running: 'cyan' } as const;
      const status =
        view.status in colour
          ? out.style(colour[view.status as keyof typeof colour], view.status)
          : view.status;
      out.line('id       ', id);
      out.line('status   ', status);
      if (view.status === 'unknown')
        return out.line('         ', 'no record: never run, or its record expired (TTL)');
      out.line('task     ', String(view.task));
      out.line('attempts ', String(view.attempts));
      if (view.result !== null) out.line('result   ', JSON.stringify(view.result));
      if (view.error !== null) out.line('error    ', view.error);
    });
}
