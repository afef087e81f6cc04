/**
 * The dashboard's JSON API. Every operation is the CLI's: the same SDK clients (the target), the
 * same DLQ operations, task lookup and producer — only the transport differs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as v from 'valibot';
import type { Target } from '../cli/connect.js';
import { peekDeadLetters } from '../shared/dlq/index.js';
import {
  ConfigError,
  InvalidMessageError,
  MessageTooLargeError,
  UnknownTierError,
} from '../shared/errors.js';
import { createProducer } from '../shared/producer/producer.js';
import { findTaskStates } from '../shared/stores/task-lookup.js';
import { HttpError, readJson, sendJson } from './http.js';
import { type Jobs, type LetterFilter, matches } from './jobs.js';
import type { startOverview } from './overview.js';

/** What the API needs. */
export interface ApiContext {
  readonly target: Target;
  readonly overview: ReturnType<typeof startOverview>;
  readonly jobs: Jobs;
  /** Whether `POST /api/enqueue` is allowed (`--no-enqueue` turns it off). */
  readonly enqueue: boolean;
}

const optionalName = v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256)));
const filterSchema = v.strictObject({
  task: optionalName,
  tier: optionalName,
  reason: optionalName,
  messageIds: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1))),
});
const purgeSchema = v.strictObject({
  ...filterSchema.entries,
  /** The page asks first; the API insists that it did. */
  confirm: v.optional(v.boolean()),
});
const enqueueSchema = v.strictObject({
  task: v.pipe(v.string(), v.minLength(1, 'a task name is required')),
  tier: optionalName,
  payload: v.unknown(),
  id: optionalName,
  idempotencyKey: optionalName,
});

/** At most this many letters are listed; the DLQ's depth says how many there are. */
const MAX_LISTED = 500;

function filterFrom(url: URL): LetterFilter {
  const get = (name: string) => url.searchParams.get(name) || undefined;
  return { task: get('task'), tier: get('tier'), reason: get('reason') };
}

function checkTier(target: Target, tier: string | undefined): void {
  const tiers = Object.keys(target.connection.queues);
  if (tier !== undefined && !tiers.includes(tier)) {
    throw new HttpError(400, `unknown tier "${tier}"; the tiers are: ${tiers.join(', ')}`);
  }
}

function limitFrom(url: URL): number {
  const raw = url.searchParams.get('limit');
  if (raw === null) return 100;
  const n = Number(raw);
  if (!(Number.isInteger(n) && n > 0 && n <= MAX_LISTED)) {
    throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_LISTED}`);
  }
  return n;
}

/**
 * Answers one API request (the path after `/api`). Throws {@link HttpError} for what the
 * caller got wrong; anything else is a failure at the target.
 *
 * @example
 * await handleApi(context, request, response, new URL(request.url, 'http://localhost'));
 */
export async function handleApi(
  context: ApiContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const { target } = context;
  const route = `${request.method} ${url.pathname}`;
  const taskMatch = /^\/api\/tasks\/([^/]+)$/.exec(url.pathname);
  const jobMatch = /^\/api\/jobs\/([^/]+)$/.exec(url.pathname);

  if (route === 'GET /api/config') {
    return sendJson(response, 200, {
      description: target.description,
      tiers: Object.keys(target.connection.queues),
      enqueue: context.enqueue,
      local: target.connection.endpoints !== undefined,
    });
  }
  if (route === 'GET /api/overview') return sendJson(response, 200, await context.overview.read());

  if (route === 'GET /api/dead-letters') {
    const filter = filterFrom(url);
    checkTier(target, filter.tier);
    // A peek holds the letters it reads for a moment: a job's scan would miss them (jobs.peek).
    const letters = await context.jobs.peek(() =>
      peekDeadLetters({
        sqs: target.sqs,
        dlqUrl: target.connection.dlq,
        limit: limitFrom(url),
      }),
    );
    return sendJson(response, 200, {
      letters: letters.filter((l) => matches(l, filter)),
      read: letters.length,
      limit: limitFrom(url),
    });
  }
  if (route === 'POST /api/dead-letters/replay') {
    const filter = await readJson(request, filterSchema);
    checkTier(target, filter.tier);
    return sendJson(response, 202, context.jobs.replay(filter));
  }
  if (route === 'POST /api/dead-letters/purge') {
    const { confirm, ...filter } = await readJson(request, purgeSchema);
    if (confirm !== true) throw new HttpError(400, 'purging needs "confirm": true (the page asks first)');
    checkTier(target, filter.tier);
    return sendJson(response, 202, context.jobs.purge(filter));
  }
  if (jobMatch && request.method === 'GET') {
    const job = context.jobs.get(decodeURIComponent(jobMatch[1] as string));
    if (job === undefined) throw new HttpError(404, 'no such job (the server keeps the last 20)');
    return sendJson(response, 200, job);
  }

  if (taskMatch && request.method === 'GET') {
    const key = decodeURIComponent(taskMatch[1] as string);
    if (key.length > 512) throw new HttpError(400, 'the id or key is over 512 characters');
    const states = await findTaskStates({ client: target.dynamodb, tableName: target.connection.table }, key);
    return sendJson(response, 200, { key, states });
  }

  if (route === 'POST /api/enqueue') {
    if (!context.enqueue)
      throw new HttpError(403, 'enqueueing from the dashboard is turned off (--no-enqueue)');
    const body = await readJson(request, enqueueSchema);
    const producer = createProducer({ ...target.connection, sqs: target.sqs, dynamodb: target.dynamodb });
    try {
      const result = await producer.enqueue(body.task, body.payload, {
        ...(body.tier === undefined ? {} : { priority: body.tier }),
        ...(body.id === undefined ? {} : { id: body.id }),
        ...(body.idempotencyKey === undefined ? {} : { idempotencyKey: body.idempotencyKey }),
      });
      return sendJson(response, 200, result);
    } catch (error) {
      const bad = [ConfigError, InvalidMessageError, MessageTooLargeError, UnknownTierError].some(
        (E) => error instanceof E,
      );
      if (bad) throw new HttpError(400, (error as Error).message);
      throw error;
    }
  }

  const known = ['/api/config', '/api/overview', '/api/dead-letters', '/api/enqueue'];
  if (known.includes(url.pathname) || url.pathname.startsWith('/api/dead-letters/')) {
    throw new HttpError(405, `${request.method} is not allowed on ${url.pathname}`);
  }
  throw new HttpError(404, `no such endpoint: ${url.pathname}`);
}
