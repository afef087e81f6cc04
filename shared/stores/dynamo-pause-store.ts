/**
 * The consumer's view of paused tasks on DynamoDB: one Query of the `pause#task` partition per
 * container and {@link PAUSE_CACHE_MS}, shared by concurrent invocations — never a request per record.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { KeyPrefix } from '../declaration.js';
import { type DynamoClientLike, DynamoTable } from './dynamo-table.js';
import { PAUSE_CACHE_MS, type PausedTasks } from './pause-store.js';

/** The partition holding one item per paused task (sort key: the task's name). */
export const PAUSED_TASKS_PK = `${KeyPrefix.pause}task`;
/** The partition holding one note per paused tier (sort key: the tier's name): who, when, why. */
export const PAUSED_TIERS_PK = `${KeyPrefix.pause}tier`;

/** Options of {@link DynamoPausedTasks}: the cache's lifetime and clock (tests shorten them). */
export interface PausedTasksOptions {
  readonly cacheMs?: number;
  readonly now?: () => number;
}

/**
 * {@link PausedTasks} on the stack's table. The answer is cached for `cacheMs` from when its
 * Query began, so a pause written after a read began is seen by every read that begins
 * `cacheMs` later; a failed read is not cached, and its error reaches every caller that shared it.
 *
 * @example
 * ```ts
 * const pauses = new DynamoPausedTasks(new DynamoDBClient({}), process.env.TIERQ_TABLE_NAME ?? 'tierq');
 * const paused = await pauses.pausedTasks(); // Set { 'send-email' }
 * ```
 */
export class DynamoPausedTasks implements PausedTasks {
  private readonly table: DynamoTable;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private cached: { readonly atMs: number; readonly names: Promise<ReadonlySet<string>> } | undefined;

  constructor(client: DynamoClientLike, tableName: string, options: PausedTasksOptions = {}) {
    this.table = new DynamoTable(client, tableName);
    this.cacheMs = options.cacheMs ?? PAUSE_CACHE_MS;
    this.now = options.now ?? Date.now;
  }

  /** DynamoDB requests sent so far. */
  get requests(): number {
    return this.table.requests;
  }

  pausedTasks(): Promise<ReadonlySet<string>> {
    const now = this.now();
    if (this.cached !== undefined && now - this.cached.atMs < this.cacheMs) return this.cached.names;
    const names = this.read();
    const entry = { atMs: now, names };
    this.cached = entry;
    names.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return names;
  }

  private async read(): Promise<ReadonlySet<string>> {
    const names = new Set<string>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.table.call('pause.list', (c) =>
        c.send(
          new QueryCommand({
            TableName: this.table.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': PAUSED_TASKS_PK },
            ProjectionExpression: 'sk',
            ConsistentRead: true,
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        ),
      );
      for (const item of page.Items ?? []) names.add(String(item.sk));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return names;
  }
}
