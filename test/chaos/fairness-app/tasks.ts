/**
 * The fairness app's tasks: work for a tenant that tells a recorder in the test process when
 * each run starts and ends, so the test can count a tenant's overlapping runs across sandboxes.
 */
import { z } from 'zod';
import { defineTask } from '../../../shared/registry.js';

/** What a run tells the recorder (`POST /start`, `POST /end`). */
export interface RunEvent {
  readonly key: string;
  readonly tenant: string;
  readonly attempt: number;
  /** The sandbox's process id: runs in different sandboxes are different processes. */
  readonly pid: number;
  /** Epoch ms. */
  readonly at: number;
}

export const fairPayload = z.object({
  key: z.string(),
  tenant: z.string(),
  sleepMs: z.int().min(0),
  /** Ends the sandbox's process (a crash: no after-hook runs, no lease is released) on the first attempt. */
  crashOnFirstAttempt: z.boolean(),
});

/** Task names: one tenant may run two at once, the other one. */
export const FairTask = { two: 'fair-two', one: 'fair-one' } as const;

/**
 * `fair-one`'s `timeoutMs`: a lease of it whose invocation crashed expires this + the lease's
 * grace (5 s) + 1 s after it was taken, well before the function's own deadline.
 */
export const FAIR_ONE_TIMEOUT_MS = 2_000;

async function record(recorderUrl: string, path: '/start' | '/end', event: RunEvent): Promise<void> {
  const response = await fetch(`${recorderUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  if (!response.ok) throw new Error(`recorder ${path} answered ${response.status}`);
  await response.arrayBuffer();
}

function fairTask(name: string, perTenant: number, recorderUrl: string, timeoutMs?: number) {
  return defineTask({
    name,
    schema: fairPayload,
    concurrency: { perTenant },
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 500 },
    handler: async ({ key, tenant, sleepMs, crashOnFirstAttempt }, ctx) => {
      const event = () => ({ key, tenant, attempt: ctx.attempt, pid: process.pid, at: Date.now() });
      await record(recorderUrl, '/start', event());
      if (crashOnFirstAttempt && ctx.attempt === 1) process.exit(1);
      await new Promise((resolve) => setTimeout(resolve, sleepMs));
      await record(recorderUrl, '/end', event());
      return { key };
    },
  });
}

/**
 * @example
 * new TaskRegistry(fairTasks(process.env.FAIR_RECORDER_URL));
 */
export function fairTasks(recorderUrl: string) {
  return [
    fairTask(FairTask.two, 2, recorderUrl),
    fairTask(FairTask.one, 1, recorderUrl, FAIR_ONE_TIMEOUT_MS),
  ];
}
