/**
 * What an operator writes to pause and resume (`tierq pause|resume`): an item per paused task,
 * which the consumers read, and a note per paused tier saying who paused it and why (the tier's
 * event source mapping is what actually stops it; see tier-mappings.ts).
 */
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { PAUSED_TASKS_PK, PAUSED_TIERS_PK } from '../stores/dynamo-pause-store.js';
import { type DynamoClientLike, DynamoTable } from '../stores/dynamo-table.js';

/** A paused task or tier: its name, when, by whom and, if given, why. */
export interface PauseNote {
  readonly name: string;
  /** ISO-8601. */
  readonly pausedAt: string;
  readonly pausedBy: string;
  readonly reason?: string;
}

/** Which kind of thing a note is about. */
export type PauseKind = 'task' | 'tier';

/** The table the notes live in. */
export interface PauseTable {
  readonly client: DynamoClientLike;
  readonly tableName: string;
}

const partitionOf = (kind: PauseKind) => (kind === 'task' ? PAUSED_TASKS_PK : PAUSED_TIERS_PK);

function noteOf(item: Record<string, unknown> | undefined): PauseNote | undefined {
  if (item === undefined) return undefined;
  return {
    name: String(item.sk),
    pausedAt: String(item.pausedAt ?? ''),
    pausedBy: String(item.pausedBy ?? ''),
    ...(typeof item.reason === 'string' ? { reason: item.reason } : {}),
  };
}

/**
 * Writes the note pausing a task (consumers defer its records once they see it) or describing a
 * tier's pause; returns the note it replaced, when the name was already paused. No TTL: a pause
 * lasts until it is resumed, never lapsing on its own.
 *
 * @example
 * ```ts
 * await writePause(table, 'task', { name: 'send-email', pausedAt: new Date().toISOString(), pausedBy: 'ada' });
 * ```
 */
export async function writePause(
  table: PauseTable,
  kind: PauseKind,
  note: PauseNote,
): Promise<PauseNote | undefined> {
  const t = new DynamoTable(table.client, table.tableName);
  const { Attributes } = await t.call(`pause.${kind}`, (c) =>
    c.send(
      new PutCommand({
        TableName: t.tableName,
        Item: {
          pk: partitionOf(kind),
          sk: note.name,
          pausedAt: note.pausedAt,
          pausedBy: note.pausedBy,
          ...(note.reason === undefined ? {} : { reason: note.reason }),
        },
        ReturnValues: 'ALL_OLD',
      }),
    ),
  );
  return noteOf(Attributes);
}

/**
 * Deletes a task's or tier's pause note; returns it, or undefined when there was none.
 *
 * @example
 * ```ts
 * const was = await removePause(table, 'task', 'send-email');
 * ```
 */
export async function removePause(
  table: PauseTable,
  kind: PauseKind,
  name: string,
): Promise<PauseNote | undefined> {
  const t = new DynamoTable(table.client, table.tableName);
  const { Attributes } = await t.call(`resume.${kind}`, (c) =>
    c.send(
      new DeleteCommand({
        TableName: t.tableName,
        Key: { pk: partitionOf(kind), sk: name },
        ReturnValues: 'ALL_OLD',
      }),
    ),
  );
  return noteOf(Attributes);
}

/**
 * Every pause note of one kind, by name.
 *
 * @example
 * ```ts
 * const tasks = await listPauses(table, 'task'); // [{ name: 'send-email', pausedAt, pausedBy }]
 * ```
 */
export async function listPauses(table: PauseTable, kind: PauseKind): Promise<PauseNote[]> {
  const t = new DynamoTable(table.client, table.tableName);
  const notes: PauseNote[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await t.call(`pause.list-${kind}`, (c) =>
      c.send(
        new QueryCommand({
          TableName: t.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': partitionOf(kind) },
          ConsistentRead: true,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      ),
    );
    for (const item of page.Items ?? []) notes.push(noteOf(item) as PauseNote);
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return notes;
}
