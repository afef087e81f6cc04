import { setTimeout as sleep } from 'node:timers/promises';
import * as v from 'valibot';
import { PermanentTaskError } from '../shared/errors.js';
import { defineTask } from '../shared/registry.js';

/** Returns its payload: the smallest useful task, for smoke tests and benchmarks. */
export const echo = defineTask({
  name: 'echo',
  schema: v.unknown(),
  handler: (payload) => payload,
});

/** Waits `ms` milliseconds (aborted by the task's timeout), then reports how long it slept. */
export const sleepTask = defineTask({
  name: 'sleep',
  schema: v.object({ ms: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(900_000)) }),
  handler: async ({ ms }, ctx) => {
    await sleep(ms, undefined, { signal: ctx.signal });
    return { slept: ms };
  },
});

/** Fails its first `failTimes` attempts, then succeeds: exercises retries with backoff. */
export const flaky = defineTask({
  name: 'flaky',
  schema: v.object({ failTimes: v.pipe(v.number(), v.integer(), v.minValue(0)) }),
  retry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 2_000 },
  handler: ({ failTimes }, ctx) => {
    if (ctx.attempt <= failTimes) {
      throw new Error(`flaky: attempt ${ctx.attempt} of ${failTimes + 1} fails on purpose`);
    }
    return { succeededOnAttempt: ctx.attempt };
  },
});

/** Rate-limited across every consumer: 5 per second, bursts of 10. */
export const limited = defineTask({
  name: 'limited',
  schema: v.unknown(),
  rateLimit: { perSecond: 5, burst: 10 },
  handler: (payload) => ({ ranAt: new Date().toISOString(), payload }),
});

/**
 * Fails permanently: goes to the DLQ on its first attempt with the reason. With `until` (an
 * ISO-8601 time) it fails only before then — a dependency that is down and comes back — so a
 * replay from the DLQ afterwards succeeds.
 */
export const reject = defineTask({
  name: 'reject',
  schema: v.object({
    why: v.optional(v.string(), 'rejected on purpose'),
    until: v.optional(v.pipe(v.string(), v.isoTimestamp())),
  }),
  handler: ({ why, until }) => {
    if (until !== undefined && Date.now() >= Date.parse(until)) return { acceptedAfter: until };
    throw new PermanentTaskError(why);
  },
});

/** The example tasks the default consumer registers. */
export const exampleTasks = [echo, sleepTask, flaky, limited, reject];
