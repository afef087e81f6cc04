import fc from 'fast-check';
import { MAX_BODY_BYTES, MAX_NESTING_DEPTH } from '../../../shared/contract.js';
import { type BuildCase, envelope, good, nested, withRawMembers } from './cases.js';

/** Hostile keys inside a payload: plain data to a task whose schema accepts any value. */
const HOSTILE_PAYLOAD =
  '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},' +
  '"prototype":{"polluted":"yes"},"toString":"not a function","hasOwnProperty":null}';

/**
 * Well-formed messages that must complete, however odd: any JSON payload, any Unicode, hostile
 * keys where a schema accepts them, unknown envelope fields, nesting just under the limit,
 * payloads just under the size limit, a `runAt` a moment ahead.
 *
 * @example
 * const build = fc.sample(goodCases(), { seed, numRuns: 1 })[0];
 */
export function goodCases(): fc.Arbitrary<BuildCase> {
  const echo = (category: string, payload: fc.Arbitrary<unknown>) =>
    payload.map(
      (p): BuildCase =>
        (id) =>
          good(category, id, envelope({ id, task: 'echo', payload: p })),
    );
  return fc.oneof(
    { weight: 6, arbitrary: echo('echo-json', fc.jsonValue({ maxDepth: 4 })) },
    { weight: 3, arbitrary: echo('echo-unicode', fc.string({ unit: 'grapheme', maxLength: 300 })) },
    {
      weight: 2,
      arbitrary: fc.constant<BuildCase>((id) =>
        good(
          'payload-hostile-keys',
          id,
          withRawMembers(envelope({ id, task: 'echo' }), `"payload":${HOSTILE_PAYLOAD}`),
        ),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.constant<BuildCase>((id) =>
        good(
          'envelope-hostile-keys',
          id,
          withRawMembers(
            envelope({ id, task: 'echo', payload: { ok: true } }),
            '"__proto__":{"task":"reject","v":2},"constructor":{"prototype":{"polluted":true}},"prototype":null',
          ),
        ),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.integer({ min: 0, max: 20 }).map(
        (ms): BuildCase =>
          (id) =>
            good('sleep', id, envelope({ id, task: 'sleep', payload: { ms } })),
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ priorAttempts: fc.integer({ min: 0, max: 2 }), extra: fc.string({ maxLength: 20 }) })
        .map(
          ({ priorAttempts, extra }): BuildCase =>
            (id) => {
              const key = `${id}-key`;
              const fields = {
                id,
                task: 'flaky',
                payload: { failTimes: 0 },
                runAt: '2001-01-01T00:00:00Z',
                idempotencyKey: key,
                enqueuedAt: new Date().toISOString(),
                tierq: { priorAttempts, tier: 'high', fromTheFuture: extra },
                unknownField: extra,
              };
              return good('all-fields', id, envelope(fields), key);
            },
        ),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: MAX_NESTING_DEPTH - 2 }).map(
        (depth): BuildCase =>
          (id) =>
            good('nested-under-limit', id, envelope({ id, task: 'echo', payload: nested(depth, 'deep') })),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 100_000, max: MAX_BODY_BYTES - 200 }).map(
        (bytes): BuildCase =>
          (id) =>
            good('huge-payload', id, envelope({ id, task: 'echo', payload: 'x'.repeat(bytes) })),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1_000, max: 3_000 }).map(
        (ms): BuildCase =>
          (id) =>
            good(
              'run-at-ahead',
              id,
              envelope({ id, task: 'echo', payload: 1, runAt: new Date(Date.now() + ms).toISOString() }),
            ),
      ),
    },
  );
}
