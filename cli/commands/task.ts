/**
 * `tierq task <id-or-key> [--task NAME]`: what a task's record says. Keys are scoped per task,
 * so a key may hold the records of several tasks: without `--task`, all of them are shown.
 */
import type { Command } from 'commander';
import { findTaskStates, getTaskState, type TaskState } from '../../shared/stores/task-lookup.js';
import type { Cli } from '../cli.js';

/** The document `--json` prints for one record (or for none: status `unknown`). */
function viewOf(id: string, state: TaskState) {
  if (state.status === 'unknown') {
    return { id, taskId: null, task: null, status: 'unknown', attempts: 0, result: null, error: null };
  }
  return {
    id,
    taskId: state.taskId,
    task: state.task,
    status: state.status,
    attempts: state.attempts,
    result: state.result ?? null,
    error: state.error ?? null,
  };
}
type View = ReturnType<typeof viewOf>;

function print(cli: Cli, view: View): void {
  const { out } = cli;
  const colour = { succeeded: 'green', dead: 'red', retrying: 'yellow', running: 'cyan' } as const;
  const status =
    view.status in colour ? out.style(colour[view.status as keyof typeof colour], view.status) : view.status;
  out.line('id       ', view.id);
  if (view.taskId !== null && view.taskId !== view.id) out.line('task id  ', view.taskId);
  out.line('status   ', status);
  if (view.status === 'unknown') {
    out.line('         ', 'no record: never run, or its record expired (TTL)');
    return;
  }
  out.line('task     ', String(view.task));
  out.line('attempts ', String(view.attempts));
  if (view.result !== null) out.line('result   ', JSON.stringify(view.result));
  if (view.error !== null) out.line('error    ', view.error);
}

/** `tierq task <id-or-key>`: the state record of each task under the key, or status `unknown`. */
export function taskCommand(program: Command, cli: Cli): void {
  program
    .command('task')
    .description("show a task's status, attempts, result and last error")
    .argument('<id>', 'task id, or the idempotency key the producer set')
    .option('--task <name>', 'the task whose record to show, when several tasks share the key')
    .option('--json', 'print as JSON (an array when the key holds several tasks and --task is not given)')
    .action(async (id: string, flags: { task?: string; json?: boolean }, command: Command) => {
      const target = await cli.connect(command);
      const source = { client: target.dynamodb, tableName: target.connection.table };
      const states =
        flags.task === undefined
          ? await findTaskStates(source, id)
          : [await getTaskState(source, id, flags.task)];
      const views =
        states.length === 0 ? [viewOf(id, { id, status: 'unknown' })] : states.map((s) => viewOf(id, s));
      if (flags.json) return cli.out.json(views.length === 1 ? views[0] : views);
      views.forEach((view, i) => {
        if (i > 0) cli.out.line('');
        print(cli, view);
      });
    });
}
