/**
 * What `tierq status` shows of pauses: the paused tasks (their notes) and, per tier, its event
 * source mapping's state with the note of whoever paused it.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { listPauses, type PauseNote, type PauseTable } from './pause-notes.js';
import { type MappingState, mappingState } from './tier-mappings.js';

/** A tier that is paused (its mapping is not `Enabled`) or carries a pause note. */
export interface TierPause extends Partial<Omit<PauseNote, 'name'>> {
  readonly name: string;
  /** The mapping's state; `unknown` when the deployment names no mapping for the tier. */
  readonly state: MappingState;
}

/** Paused tasks and tiers. */
export interface PauseStatus {
  readonly tasks: readonly PauseNote[];
  readonly tiers: readonly TierPause[];
}

/**
 * Reads the pause notes and each tier's mapping state, all at once. A tier is listed when its
 * mapping is anything but `Enabled`, or when a note says it was paused (a note beside an
 * `Enabled` mapping means someone enabled it elsewhere).
 *
 * @example
 * ```ts
 * const { tasks, tiers } = await pauseStatus(table, lambda, connection.eventSourceMappings ?? {});
 * ```
 */
export async function pauseStatus(
  table: PauseTable,
  lambda: LambdaClient | undefined,
  mappings: Readonly<Record<string, string>>,
): Promise<PauseStatus> {
  const known = lambda === undefined ? [] : Object.entries(mappings);
  const [tasks, notes, states] = await Promise.all([
    listPauses(table, 'task'),
    listPauses(table, 'tier'),
    Promise.all(
      known.map(async ([tier, uuid]) => [tier, await mappingState(lambda as LambdaClient, uuid)] as const),
    ),
  ]);
  const stateOf = new Map<string, MappingState>(states);
  const noteOf = new Map(notes.map((n) => [n.name, n]));
  const names = [...new Set([...stateOf.keys(), ...noteOf.keys()])];
  const tiers = names
    .filter((name) => stateOf.get(name) !== 'Enabled' || noteOf.has(name))
    .map((name): TierPause => {
      const { name: _, ...note } = noteOf.get(name) ?? { name };
      return { name, state: stateOf.get(name) ?? 'unknown', ...note };
    });
  return { tasks, tiers };
}
