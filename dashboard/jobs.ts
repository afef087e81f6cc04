/**
 * Replays and purges run as jobs on the server: the request that starts one returns at once, the
 * page polls its progress, and a closed tab does not stop it. They call the same operations as
 * `tierq dlq replay|purge`, with the same guarantees (a letter leaves the DLQ only after its copy
 * was sent; an interrupted replay's letters reappear when its hold ends).
 */
import { randomUUID } from 'node:crypto';
import type { Target } from '../cli/connect.js';
import { type DeadLetterInfo, purgeDeadLetters, replayDeadLetters } from '../shared/dlq/index.js';
import { HttpError } from './http.js';

/** Which letters a replay or purge takes: those of a filter, narrowed to a selection if given. */
export interface LetterFilter {
  readonly task?: string | undefined;
  readonly tier?: string | undefined;
  readonly reason?: string | undefined;
  /** SQS message ids in the DLQ (what the page's checkboxes hold). */
  readonly messageIds?: readonly string[] | undefined;
}

/** A replay or purge and how far it got. */
export interface Job {
  readonly id: string;
  readonly kind: 'replay' | 'purge';
  state: 'running' | 'done' | 'failed';
  replayed: number;
  skipped: number;
  failed: number;
  /** Letters deleted by a purge; `all` when the whole queue was purged at once. */
  deleted: number | 'all';
  /** Why the job stopped early, or the first letter that could not be replayed. */
  error?: string;
  readonly startedAt: string;
  finishedAt?: string;
}

/**
 * Whether a letter passes a filter. The tier compared is the one the letter carries (the one the
 * table shows), which is also where a replay sends it.
 *
 * @example
 * matches(letter, { task: 'reject', reason: 'permanent-error' });
 */
export function matches(letter: DeadLetterInfo, filter: LetterFilter): boolean {
  if (filter.task !== undefined && letter.task !== filter.task) return false;
  if (filter.tier !== undefined && letter.tier !== filter.tier) return false;
  if (filter.reason !== undefined && letter.reason !== filter.reason) return false;
  if (filter.messageIds !== undefined && !filter.messageIds.includes(letter.messageId)) return false;
  return true;
}

const isEmpty = (f: LetterFilter) =>
  f.task === undefined && f.tier === undefined && f.reason === undefined && f.messageIds === undefined;

const KEEP_JOBS = 20;

/**
 * The dashboard's jobs on one target: one DLQ job at a time (two would hide letters from each other).
 *
 * @example
 * const jobs = createJobs(target);
 * const job = jobs.replay({ task: 'reject' });
 */
export function createJobs(target: Target, options: { holdSeconds?: number } = {}) {
  const jobs = new Map<string, Job>();
  /** Listings in flight: each holds the letters it read until it releases them. */
  const peeks = new Set<Promise<unknown>>();
  const start = (kind: Job['kind'], run: (job: Job) => Promise<void>): Job => {
    const running = [...jobs.values()].find((j) => j.state === 'running');
    if (running)
      throw new HttpError(409, `a ${running.kind} is running (${running.id}); wait for it to finish`);
    const job: Job = {
      id: randomUUID(),
      kind,
      state: 'running',
      replayed: 0,
      skipped: 0,
      failed: 0,
      deleted: 0,
      startedAt: new Date().toISOString(),
    };
    jobs.set(job.id, job);
    for (const id of [...jobs.keys()].slice(0, Math.max(0, jobs.size - KEEP_JOBS))) jobs.delete(id);
    // A listing that began before the job still holds letters: the job's scan starts once they
    // are released, or it would miss them (new listings are refused while the job runs).
    void Promise.allSettled([...peeks])
      .then(() => run(job))
      .then(
        () => {
          job.state = 'done';
          job.finishedAt = new Date().toISOString();
        },
        (error: unknown) => {
          job.state = 'failed';
          job.error = error instanceof Error ? error.message : String(error);
          job.finishedAt = new Date().toISOString();
        },
      );
    return job;
  };
  const { queues, dlq } = target.connection;
  const tiers = Object.keys(queues);
  return {
    get: (id: string): Job | undefined => jobs.get(id),
    /** The replay or purge running now, if any. */
    running: (): Job | undefined => [...jobs.values()].find((j) => j.state === 'running'),
    /**
     * Runs a listing of the DLQ, refused (409) while a job runs; a job started meanwhile waits for it.
     */
    peek: <T>(list: () => Promise<T>): Promise<T> => {
      const running = [...jobs.values()].find((j) => j.state === 'running');
      if (running) throw new HttpError(409, `a ${running.kind} is running; the list is shown when it ends`);
      const listing = list();
      peeks.add(listing);
      void listing.then(
        () => peeks.delete(listing),
        () => peeks.delete(listing),
      );
      return listing;
    },
    replay: (filter: LetterFilter): Job =>
      start('replay', async (job) => {
        await replayDeadLetters({
          sqs: target.sqs,
          dlqUrl: dlq,
          queues,
          // As `tierq dlq replay`: a letter naming no tier goes to the middle one.
          defaultTier: tiers[Math.floor(tiers.length / 2)] as string,
          visibilityTimeoutSeconds: options.holdSeconds ?? 60,
          ...(isEmpty(filter) ? {} : { match: (letter: DeadLetterInfo) => matches(letter, filter) }),
          onProgress: (p) => {
            job.replayed = p.replayed;
            job.skipped = p.skipped;
            job.failed = p.failed;
            if (p.error !== undefined && job.error === undefined) {
              job.error = `${p.letter.id ?? p.letter.messageId}: ${p.error instanceof Error ? p.error.message : String(p.error)}`;
            }
          },
        });
      }),
    purge: (filter: LetterFilter): Job =>
      start('purge', async (job) => {
        job.deleted = await purgeDeadLetters({
          sqs: target.sqs,
          dlqUrl: dlq,
          ...(isEmpty(filter) ? {} : { match: (letter: DeadLetterInfo) => matches(letter, filter) }),
        });
      }),
  };
}

/** The jobs of one dashboard. */
export type Jobs = ReturnType<typeof createJobs>;
