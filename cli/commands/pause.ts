/**
 * `tierq pause task|tier <name>` and `tierq resume task|tier <name>`. A task is paused in the
 * table, where every consumer looks (within a second) and defers its records without spending
 * attempts; a tier is paused at its event source mapping, so Lambda stops polling it and its
 * messages stay in the queue.
 */
import { hostname, userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { type PauseKind, type PauseNote, removePause, writePause } from '../../shared/pause/pause-notes.js';
import { setMappingEnabled } from '../../shared/pause/tier-mappings.js';
import { PAUSE_CACHE_MS, PAUSED_RECHECK_MS } from '../../shared/stores/pause-store.js';
import { checkTaskName } from '../../shared/task-contract.js';
import type { Cli } from '../cli.js';
import type { Target } from '../connect.js';

/** How long after writing a task's pause every consumer has seen it: their cache, and a margin. */
const PAUSE_SETTLE_MS = PAUSE_CACHE_MS + 250;
const KINDS: readonly PauseKind[] = ['task', 'tier'];

interface PauseFlags {
  readonly reason?: string;
  readonly by?: string;
  readonly json?: boolean;
}

/** Who is pausing, for the note: `--by`, else user@host. */
function operatorName(flags: PauseFlags): string {
  if (flags.by !== undefined) return flags.by;
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return hostname();
  }
}

function since(note: PauseNote): string {
  return `since ${note.pausedAt} by ${note.pausedBy}${note.reason === undefined ? '' : `: ${note.reason}`}`;
}

/** The kind and name, checked: a usage error names what is wrong. */
function parse(cli: Cli, command: Command, target: Target, kind: string, name: string): PauseKind {
  if (!KINDS.includes(kind as PauseKind)) {
    cli.usageError(command, `expected "task" or "tier" before the name, got "${kind}"`);
  }
  if (kind === 'task') {
    try {
      checkTaskName(name);
    } catch (error) {
      cli.usageError(command, (error as Error).message);
    }
  } else if (target.connection.queues[name] === undefined) {
    const tiers = Object.keys(target.connection.queues).join(', ');
    cli.usageError(command, `unknown tier "${name}"; the tiers are: ${tiers}`);
  }
  return kind as PauseKind;
}

/** The tier's mapping id and a Lambda client, or a failure saying why there are none. */
function tierMapping(cli: Cli, target: Target, tier: string) {
  const uuid = target.connection.eventSourceMappings?.[tier];
  if (uuid === undefined) {
    cli.fail(
      `${target.description} names no event source mapping for tier "${tier}": deploy it with this ` +
        'version of tierq (its queue output lists the mappings), then pause again',
    );
  }
  if (target.lambda === undefined) {
    cli.fail(`${target.description} serves no Lambda API: restart it with this version of tierq`);
  }
  return { uuid, lambda: target.lambda };
}

async function pause(cli: Cli, target: Target, kind: PauseKind, name: string, flags: PauseFlags) {
  const table = { client: target.dynamodb, tableName: target.connection.table };
  const note: PauseNote = {
    name,
    pausedAt: new Date().toISOString(),
    pausedBy: operatorName(flags),
    ...(flags.reason === undefined ? {} : { reason: flags.reason }),
  };
  if (kind === 'task') {
    const previous = await writePause(table, 'task', note);
    // Consumers act on what they read up to PAUSE_CACHE_MS ago: once this returns, all have seen it.
    await sleep(PAUSE_SETTLE_MS);
    if (flags.json) return cli.out.json({ kind, name, paused: true, ...(previous ? { previous } : {}) });
    if (previous !== undefined)
      cli.out.line(`task ${name} was already paused (${since(previous)}); note updated`);
    cli.out.line(
      `paused task ${name}: every consumer defers its records now, spending no attempt ` +
        `(each looks again every ${PAUSED_RECHECK_MS / 1000}–${(2 * PAUSED_RECHECK_MS) / 1000} s) ` +
        `until \`tierq resume task ${name}\``,
    );
    return;
  }
  const { uuid, lambda } = tierMapping(cli, target, name);
  const { state, settled } = await setMappingEnabled(lambda, uuid, false);
  await writePause(table, 'tier', note);
  if (!settled) process.exitCode = 1;
  if (flags.json) return cli.out.json({ kind, name, paused: settled, state, eventSourceMapping: uuid });
  if (!settled) {
    cli.fail(
      `tier ${name}: its event source mapping ${uuid} is still ${state}; it stops polling once Disabled`,
    );
  }
  cli.out.line(
    `paused tier ${name}: event source mapping ${uuid} is ${state}; its messages stay in the queue ` +
      `until \`tierq resume tier ${name}\``,
  );
}

async function resume(cli: Cli, target: Target, kind: PauseKind, name: string, flags: PauseFlags) {
  const table = { client: target.dynamodb, tableName: target.connection.table };
  if (kind === 'task') {
    const previous = await removePause(table, 'task', name);
    await sleep(PAUSE_SETTLE_MS);
    if (flags.json) return cli.out.json({ kind, name, paused: false, ...(previous ? { previous } : {}) });
    if (previous === undefined) return cli.out.line(`task ${name} was not paused; nothing to do`);
    cli.out.line(
      `resumed task ${name} (paused ${since(previous)}): its waiting records run as they come back, ` +
        `within ${(2 * PAUSED_RECHECK_MS) / 1000} s`,
    );
    return;
  }
  const { uuid, lambda } = tierMapping(cli, target, name);
  const { state, settled } = await setMappingEnabled(lambda, uuid, true);
  const previous = await removePause(table, 'tier', name);
  if (!settled) process.exitCode = 1;
  if (flags.json) {
    return cli.out.json({ kind, name, paused: !settled, state, eventSourceMapping: uuid });
  }
  if (!settled) cli.fail(`tier ${name}: its event source mapping ${uuid} is still ${state}`);
  cli.out.line(
    `resumed tier ${name}: event source mapping ${uuid} is ${state}` +
      (previous === undefined ? '' : ` (paused ${since(previous)})`),
  );
}

/** `tierq pause` and `tierq resume`. */
export function pauseCommands(program: Command, cli: Cli): void {
  for (const verb of ['pause', 'resume'] as const) {
    const command = program
      .command(verb)
      .description(
        verb === 'pause'
          ? 'pause a task (its records wait, spending no attempt) or a tier (its event source mapping stops polling)'
          : 'resume a paused task or tier',
      )
      .argument('<kind>', 'task or tier')
      .argument('<name>', "the task's or tier's name")
      .option('--json', 'print the outcome as JSON');
    if (verb === 'pause') {
      command
        .option('--reason <text>', 'why, shown by tierq status')
        .option('--by <name>', 'who is pausing, shown by tierq status (default: user@host)');
    }
    command.action(async (kind: string, name: string, flags: PauseFlags, self: Command) => {
      const target = await cli.connect(self);
      const checked = parse(cli, self, target, kind, name);
      await (verb === 'pause' ? pause : resume)(cli, target, checked, name, flags);
    });
  }
}
