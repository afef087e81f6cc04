import { z } from 'zod';
import { defineBreaker } from '../../../shared/breaker.js';
import { loadConsumerConfig } from '../../../shared/consumer/config.js';
import { createDefaultConsumer } from '../../../shared/consumer/default-consumer.js';
import { ConfigError } from '../../../shared/errors.js';
import { defineTask, type TaskContext, TaskRegistry } from '../../../shared/registry.js';

/**
 * The outage app's consumer: two tasks that make the same call to a downstream (an HTTP server
 * in the test process), one behind a circuit breaker and one without, with the same retries.
 */

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is required but not set`);
  return value;
};
const url = env('OUTAGE_DOWNSTREAM_URL');

/** The breaker: 5 failures within 10 s open it, for `OUTAGE_RESET_MS` first, doubling up to 4×. */
export const downstream = defineBreaker({
  name: 'downstream',
  failureThreshold: 5,
  windowMs: 10_000,
  resetTimeoutMs: Number(env('OUTAGE_RESET_MS')),
  maxResetTimeoutMs: Number(env('OUTAGE_RESET_MS')) * 4,
});

/** Five attempts, 1 s backoff doubling to 8 s: about 15 s of retries, less than the outage. */
const retry = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 8_000 };
const schema = z.object({ n: z.number() });

async function call(payload: { n: number }, ctx: TaskContext) {
  const response = await fetch(`${url}/call`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: ctx.id, task: ctx.task, attempt: ctx.attempt }),
    signal: ctx.signal,
  });
  if (!response.ok) throw new Error(`HTTP ${response.status} from the downstream`);
  return { n: payload.n };
}

const registry = new TaskRegistry([
  defineTask({ name: 'guarded-call', schema, retry, breaker: downstream, handler: call }),
  defineTask({ name: 'unguarded-call', schema, retry, handler: call }),
]);

export const handler = createDefaultConsumer({ config: loadConsumerConfig(process.env), registry });
