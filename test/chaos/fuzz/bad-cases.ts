import fc from 'fast-check';
import { DeadLetterReason } from '../../../shared/consumer/dead-letter.js';
import { MAX_NESTING_DEPTH } from '../../../shared/contract.js';
import { BAD_FIELDS, BAD_PAYLOADS, BAD_VERSIONS, PROTO_BAD } from './bad-values.js';
import {
  type BuildCase,
  bad,
  envelope,
  escapeSurrogates,
  KNOWN_TASKS,
  nested,
  sqsAccepts,
  withRawMembers,
} from './cases.js';

const R = DeadLetterReason;
const valid = (id: string) => ({ id, task: 'echo', payload: { n: 1 } });
/** A string large enough to matter, small enough to leave room in the body: 120–200 kB. */
const huge = fc.integer({ min: 120_000, max: 200_000 }).map((n) => 'h'.repeat(n));

/**
 * Malformed and hostile bodies, each with the reason the consumer must dead-letter it with:
 * truncated or garbage JSON, non-objects, unknown versions, every envelope field broken,
 * nesting beyond the limit, bodies beyond the size limit, unknown tasks (some huge), payloads
 * the task's schema rejects, prototype-pollution keys, and tasks that fail permanently.
 *
 * @example
 * const builds = fc.sample(badCases(), { seed, numRuns: 1_000 });
 */
export function badCases(): fc.Arbitrary<BuildCase> {
  const arb = (weight: number, arbitrary: fc.Arbitrary<BuildCase>) => ({ weight, arbitrary });
  return fc.oneof(
    arb(
      10,
      fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.double({ min: 0, max: 1, noNaN: true })).map(
        ([payload, at]): BuildCase =>
          (t) => {
            const text = envelope({ id: t, task: 'echo', payload });
            const from = text.indexOf(t) + t.length;
            return bad(
              'truncated',
              R.InvalidJson,
              text.slice(0, from + Math.floor(at * (text.length - 1 - from))),
            );
          },
      ),
    ),
    arb(
      5,
      fc
        .string({ unit: 'grapheme', maxLength: 200 })
        .map(escapeSurrogates)
        .filter((s) => sqsAccepts(`x${s}`))
        .map(
          (s): BuildCase =>
            (t) =>
              bad('garbage', R.InvalidJson, `${t} ${s}`),
        ),
    ),
    arb(
      6,
      fc.jsonValue({ maxDepth: 3 }).map(
        (v): BuildCase =>
          (t) =>
            bad('not-an-object', R.InvalidEnvelope, JSON.stringify([t, v])),
      ),
    ),
    arb(
      12,
      fc.constantFrom(...BAD_VERSIONS).map(
        (v): BuildCase =>
          (t) =>
            bad('version', R.UnsupportedVersion, JSON.stringify({ v, ...valid(t) })),
      ),
    ),
    arb(
      25,
      fc.constantFrom(...BAD_FIELDS).map(
        ([field, value]): BuildCase =>
          (t) => {
            const fields: Record<string, unknown> = { ...valid(t), [field]: value };
            // A broken id cannot carry the token, so an unknown field does.
            return bad(`field-${field}`, R.InvalidEnvelope, envelope({ ...fields, token: t }));
          },
      ),
    ),
    arb(
      3,
      huge.map(
        (id): BuildCase =>
          (t) =>
            bad('field-id-huge', R.InvalidEnvelope, envelope({ ...valid(t), id: `${id}!`, token: t })),
      ),
    ),
    arb(
      6,
      fc.integer({ min: MAX_NESTING_DEPTH, max: 3_000 }).map(
        (depth): BuildCase =>
          (t) =>
            bad('too-deep', R.InvalidEnvelope, envelope({ ...valid(t), payload: nested(depth, t) })),
      ),
    ),
    // No body over MAX_BODY_BYTES: that is SQS's own 1 MiB limit now, so SQS refuses it at the
    // send and it can never reach a consumer (the unit tests cover the consumer's check).
    arb(
      10,
      fc
        .stringMatching(/^[A-Za-z0-9._:-]{1,40}$/)
        .filter((name) => !(KNOWN_TASKS as readonly string[]).includes(name))
        .map(
          (task): BuildCase =>
            (t) =>
              bad('unknown-task', R.UnknownTask, envelope({ ...valid(t), task })),
        ),
    ),
    arb(
      2,
      huge.map(
        (payload): BuildCase =>
          (t) =>
            bad('unknown-task-huge', R.UnknownTask, envelope({ ...valid(t), task: 'nope', payload })),
      ),
    ),
    arb(
      15,
      fc.constantFrom(...BAD_PAYLOADS).map(
        ([task, payload]): BuildCase =>
          (t) =>
            bad(
              `payload-${task}`,
              R.InvalidPayload,
              withRawMembers(envelope({ id: t, task }), `"payload":${payload}`),
            ),
      ),
    ),
    arb(
      2,
      huge.map(
        (ms): BuildCase =>
          (t) =>
            bad('payload-huge', R.InvalidPayload, envelope({ id: t, task: 'sleep', payload: { ms } })),
      ),
    ),
    arb(
      6,
      fc.constantFrom(...PROTO_BAD).map(
        (make): BuildCase =>
          (t) =>
            bad('proto-keys', ...make(t)),
      ),
    ),
    arb(
      2,
      fc.string({ maxLength: 50 }).map(
        (why): BuildCase =>
          (t) =>
            bad('permanent', R.PermanentError, envelope({ id: t, task: 'reject', payload: { why } })),
      ),
    ),
  );
}
