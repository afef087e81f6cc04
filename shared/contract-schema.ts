import { z } from 'zod';

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

/** A zod error map that says what the field must be and what it got, never echoing huge input. */
function mustBe(expectation: string) {
  return (issue: { input?: unknown }) =>
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

const isoDateTime = (what: string) =>
  z.iso
    .datetime({ offset: true, error: mustBe('an ISO-8601 date-time with an offset or Z') })
    .meta({ description: what });

const tierqBookkeepingSchema = z
  .looseObject(
    {
      priorAttempts: z
        .int({ error: mustBe('an integer >= 0') })
        .min(0, { error: mustBe('an integer >= 0') })
        .optional()
        .meta({ description: 'Failed attempts consumed by earlier copies of this message.' }),
      tier: z
        .string({ error: mustBe('a string of 1–128 characters') })
        .min(1, { error: mustBe('a string of 1–128 characters') })
        .max(128, { error: mustBe('a string of 1–128 characters') })
        .optional()
        .meta({ description: 'The tier the producer targeted.' }),
      replay: z
        .string({ error: mustBe('a string') })
        .optional()
        .meta({ description: 'Id of the DLQ replay that last re-sent this message.' }),
    },
    { error: mustBe('an object') },
  )
  .meta({ description: 'Reserved for tierq bookkeeping; producers should not set it.' });

/**
 * The zod schema of a v1 task message body. Unknown fields are kept, so re-enqueued copies
 * carry fields added by newer producers.
 *
 * @example
 * ```ts
 * const result = taskEnvelopeSchema.safeParse(JSON.parse(body));
 * ```
 */
export const taskEnvelopeSchema = z
  .looseObject({
    v: z.literal(CONTRACT_VERSION, { error: mustBe('1') }).meta({ description: 'Contract version.' }),
    id: z
      .string({ error: mustBe(NAME_RULE) })
      .regex(NAME_PATTERN, { error: mustBe(NAME_RULE) })
      .meta({ description: 'Unique message id chosen by the producer.' }),
    task: z
      .string({ error: mustBe(NAME_RULE) })
      .regex(NAME_PATTERN, { error: mustBe(NAME_RULE) })
      .meta({ description: 'Name of a registered task.' }),
    payload: z
      .unknown()
      .refine((value) => value !== undefined, { error: 'is missing (send null for no payload)' })
      .meta({ description: 'Any JSON value passed to the task; required, null allowed.' }),
    runAt: isoDateTime('Earliest time to run; any distance in the future.').optional(),
    idempotencyKey: z
      .string({ error: mustBe('a string of 1–256 characters') })
      .min(1, { error: mustBe('a string of 1–256 characters') })
      .max(256, { error: mustBe('a string of 1–256 characters') })
      .optional()
      .meta({ description: 'Deduplication key; defaults to id.' }),
    enqueuedAt: isoDateTime('When the producer enqueued the message.').optional(),
    tierq: tierqBookkeepingSchema.optional(),
  })
  .meta({ title: 'tierq task message, contract v1' });

/**
 * A validated v1 task message.
 *
 * @example
 * ```ts
 * const envelope: TaskEnvelope = { v: 1, id: 'msg-1', task: 'send-email', payload: { to: 'a@b.c' } };
 * ```
 */
export type TaskEnvelope = z.output<typeof taskEnvelopeSchema>;

/**
 * The contract as JSON Schema (draft 2020-12), for producers in other languages.
 *
 * @example
 * ```ts
 * writeFileSync('docs/message-contract.schema.json', JSON.stringify(contractJsonSchema(), null, 2));
 * ```
 */
export function contractJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(taskEnvelopeSchema, { target: 'draft-2020-12', io: 'input' });
}
