import { AsyncLocalStorage } from 'node:async_hooks';
import { z } from 'zod';
import { PermanentTaskError } from '../../../shared/errors.js';
import { defineTask, IdempotencyMode } from '../../../shared/registry.js';
import { LedgerPath, postToLedger } from './ledger-client.js';

/** The invocation a task runs in, set by the chaos consumer around each invocation. */
export const currentInvocation = new AsyncLocalStorage<{ readonly invocationId: string }>();

/** The payload of every chaos task: its key and how it should misbehave. */
export const chaosPayload = z.object({
  /** The idempotency key, repeated here so the side effect can name it. */
  key: z.string(),
  /** Attempts that fail with a transient error before one succeeds. */
  failTimes: z.int().min(0),
  /** Fails every attempt with a PermanentTaskError. */
  permanent: z.boolean(),
});
export type ChaosPayload = z.infer<typeof chaosPayload>;

/** Task names by idempotency mode. */
export const ChaosTask = { lock: 'chaos-lock', once: 'chaos-once' } as const;

/** Short backoffs, so the chaos run's retries happen within seconds. */
const retry = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 1_000 };

function chaosTask(mode: 'lock' | 'once', ledgerUrl: string) {
  return defineTask({
    name: ChaosTask[mode],
    schema: chaosPayload,
    idempotency: { mode: IdempotencyMode[mode] },
    retry,
    handler: async ({ key, failTimes, permanent }, ctx) => {
      // Failures come before the side effect, as a well-behaved task validates before it acts.
      if (permanent) throw new PermanentTaskError(`chaos: ${key} can never succeed`);
      if (ctx.attempt <= failTimes) throw new Error(`chaos: ${key} fails attempt ${ctx.attempt} on purpose`);
      const invocationId = currentInvocation.getStore()?.invocationId ?? 'unknown';
      await postToLedger(ledgerUrl, LedgerPath.apply, {
        key,
        mode,
        attempt: ctx.attempt,
        invocationId,
        at: Date.now(),
      });
      return { applied: key };
    },
  });
}

/**
 * The chaos consumer's tasks: the same side effect (one ledger entry) under `lock` and `once`.
 *
 * @example
 * new TaskRegistry(chaosTasks(process.env.CHAOS_LEDGER_URL));
 */
export function chaosTasks(ledgerUrl: string) {
  return [chaosTask('lock', ledgerUrl), chaosTask('once', ledgerUrl)];
}
