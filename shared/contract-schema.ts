/**
 * The v1 message contract as a schema: what every consumer checks on every record and every
 * producer on every message. Written with valibot, which tree-shakes to a few KiB: the
 * consumer's Lambda bundle carries it, and its size is measured (npm run bench -- cold-start).
 */
import * as v from 'valibot';

/**
 * The message contract version this library reads and writes. Bumped only for breaking changes.
 *
 * @example
 * ```ts
 * const body = JSON.stringify({ v: CONTRACT_VERSION, id, task: 'send-email', payload });
 * ```
 */
export const CONTRACT_VERSION = 1;

const NAME_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const NAME_RULE = "1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'";

/**
 * What a tenant may be: the same rule as ids and task names, a subset of what SQS allows in a
 * `MessageGroupId` (the producer sends the tenant there) and free of the `#` the table's keys
 * use as a separator.
 *
 * @example
 * ```ts
 * TENANT_PATTERN.test('acme-corp'); // true
 * ```
 */
export const TENANT_PATTERN = NAME_PATTERN;
/** {@link TENANT_PATTERN} in words, for error messages. */
export const TENANT_RULE = NAME_RULE;

/** A message that says what the field must be and what it got, never echoing huge input. */
function mustBe(expectation: string) {
  return (issue: { input: unknown }) =>
    issue.input === undefined ? 'is missing' : `must be ${expectation}, got ${describeValue(issue.input)}`;
}

/**
 * Describes a value for an error sentence without echoing long input.
 *
 * @example
 * ```ts
 * describeValue('x'.repeat(500)); // 'a string of 500 characters'
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  }
  if (typeof value === 'object') return 'an object';
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : `a ${typeof value}`;
}

const ISO = 'an ISO-8601 date-time with an offset or Z';
const isoDateTime = (what: string) =>
  v.pipe(v.string(mustBe(ISO)), v.isoTimestamp(mustBe(ISO)), v.description(what));

const boundedString = (min: number, max: number, what: string) => {
  const rule = mustBe(`a string of ${min}–${max} characters`);
  return v.pipe(v.string(rule), v.minLength(min, rule), v.maxLength(max, rule), v.description(what));
};

const tierqBookkeepingSchema = v.pipe(
  // valibot's objects accept arrays (and output a fresh object); the contract's do not.
  v.unknown(),
  v.check((value) => !Array.isArray(value), mustBe('an object')),
  v.looseObject(
    {
      priorAttempts: v.optional(
        v.pipe(
          v.number(mustBe('an integer >= 0')),
          v.integer(mustBe('an integer >= 0')),
          v.minValue(0, mustBe('an integer >= 0')),
          v.description('Failed attempts consumed by earlier copies of this message.'),
        ),
      ),
      tier: v.optional(boundedString(1, 128, 'The tier the producer targeted.')),
      replay: v.optional(
        v.pipe(
          v.string(mustBe('a string')),
          v.description('Id of the DLQ replay that last re-sent this message.'),
        ),
      ),
    },
    mustBe('an object'),
  ),
  v.description('Reserved for tierq bookkeeping; producers should not set it.'),
);

/** A required key that is missing is reported on the object: say which, and how to send none. */
const envelopeIssue = (issue: { input: unknown; expected: string | null }) =>
  issue.input !== undefined
    ? `must be an object, got ${describeValue(issue.input)}`
    : issue.expected === '"payload"'
      ? 'is missing (send null for no payload)'
      : 'is missing';

/**
 * The schema of a v1 task message body. Unknown fields are kept (except `__proto__`,
 * `constructor` and `prototype`), so re-enqueued copies carry fields added by newer producers.
 *
 * @example
 * ```ts
 * const result = v.safeParse(taskEnvelopeSchema, JSON.parse(body));
 * ```
 */
export const taskEnvelopeSchema = v.pipe(
  v.looseObject(
    {
      v: v.pipe(v.literal(CONTRACT_VERSION, mustBe('1')), v.description('Contract version.')),
      id: v.pipe(
        v.string(mustBe(NAME_RULE)),
        v.regex(NAME_PATTERN, mustBe(NAME_RULE)),
        v.description('Unique message id chosen by the producer.'),
      ),
      task: v.pipe(
        v.string(mustBe(NAME_RULE)),
        v.regex(NAME_PATTERN, mustBe(NAME_RULE)),
        v.description('Name of a registered task.'),
      ),
      payload: v.pipe(
        v.unknown(),
        v.check((value) => value !== undefined, 'is missing (send null for no payload)'),
        v.description('Any JSON value passed to the task; required, null allowed.'),
      ),
      runAt: v.optional(isoDateTime('Earliest time to run; any distance in the future.')),
      idempotencyKey: v.optional(boundedString(1, 256, 'Deduplication key; defaults to id.')),
      enqueuedAt: v.optional(isoDateTime('When the producer enqueued the message.')),
      tenant: v.optional(
        v.pipe(
          v.string(mustBe(NAME_RULE)),
          v.regex(NAME_PATTERN, mustBe(NAME_RULE)),
          v.description(
            'Who the task is for; tasks with per-tenant limits count it (also the SQS MessageGroupId).',
          ),
        ),
      ),
      tierq: v.optional(tierqBookkeepingSchema),
    },
    envelopeIssue,
  ),
  v.title('tierq task message, contract v1'),
);

/**
 * A validated v1 task message.
 *
 * @example
 * ```ts
 * const envelope: TaskEnvelope = { v: 1, id: 'msg-1', task: 'send-email', payload: { to: 'a@b.c' } };
 * ```
 */
export type TaskEnvelope = v.InferOutput<typeof taskEnvelopeSchema>;

/**
 * Validates a decoded body against the contract: the envelope, or one readable sentence per
 * bad field (`field "id" must be …`).
 *
 * @example
 * ```ts
 * const checked = validateEnvelope(JSON.parse(body));
 * if (!checked.ok) console.log(checked.problems.join('; '));
 * ```
 */
export function validateEnvelope(
  raw: unknown,
): { ok: true; envelope: TaskEnvelope } | { ok: false; problems: string[] } {
  const parsed = v.safeParse(taskEnvelopeSchema, raw);
  if (parsed.success) return { ok: true, envelope: parsed.output };
  return {
    ok: false,
    problems: parsed.issues.map((issue) => {
      const path = (issue.path ?? []).map((p) => String(p.key)).join('.');
      return `field "${path}" ${issue.message}`;
    }),
  };
}
