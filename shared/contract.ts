import { CONTRACT_VERSION, describeValue, type TaskEnvelope, validateEnvelope } from './contract-schema.js';
import { SQS_MAX_MESSAGE_BYTES } from './declaration.js';
import { InvalidMessageCode, InvalidMessageError } from './errors.js';

export { CONTRACT_VERSION, type TaskEnvelope, taskEnvelopeSchema } from './contract-schema.js';

/**
 * SQS's maximum message size (1 MiB since 2026); larger bodies cannot have come from SQS and are
 * rejected unread. A queue may be configured smaller: producers follow the queue's own limit.
 *
 * @example
 * ```ts
 * if (Buffer.byteLength(body) > MAX_BODY_BYTES) throw new Error('payload too large for SQS');
 * ```
 */
export const MAX_BODY_BYTES = SQS_MAX_MESSAGE_BYTES;

/**
 * Deepest JSON nesting accepted; far deeper values overflow the stack when re-serialized.
 *
 * @example
 * ```ts
 * const tooDeep = '['.repeat(MAX_NESTING_DEPTH + 1); // such a payload is rejected
 * ```
 */
export const MAX_NESTING_DEPTH = 128;

/**
 * The result of {@link parseEnvelope}: errors are returned, never thrown.
 *
 * @example
 * ```ts
 * const result: ParseEnvelopeResult = parseEnvelope(body);
 * const reason = result.ok ? undefined : result.error.reason;
 * ```
 */
export type ParseEnvelopeResult =
  | { ok: true; envelope: TaskEnvelope }
  | { ok: false; error: InvalidMessageError };

const fail = (code: InvalidMessageCode, reason: string): ParseEnvelopeResult => ({
  ok: false,
  error: new InvalidMessageError({ code, reason }),
});

/**
 * Parses and validates an SQS message body. Never throws: an invalid body yields an
 * {@link InvalidMessageError} whose reason is one readable sentence naming every bad field.
 *
 * @example
 * ```ts
 * const result = parseEnvelope(record.body);
 * if (!result.ok) return deadLetter(record, result.error);
 * await run(result.envelope);
 * ```
 */
export function parseEnvelope(body: string): ParseEnvelopeResult {
  // Every UTF-16 unit is at least one UTF-8 byte, so the cheap length check comes first.
  if (body.length > MAX_BODY_BYTES || Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    return fail(InvalidMessageCode.InvalidEnvelope, `message body exceeds the ${MAX_BODY_BYTES}-byte limit`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    const excerpt = JSON.stringify(body.length > 60 ? `${body.slice(0, 60)}…` : body);
    return fail(InvalidMessageCode.InvalidJson, `message body is not valid JSON: ${excerpt}`);
  }
  return checkEnvelope(raw, body);
}

/**
 * Validates a decoded body: an object, contract version first (a future version may have a
 * different shape, and its field errors would mislead), nesting, then the schema.
 */
function checkEnvelope(raw: unknown, body: string): ParseEnvelopeResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(
      InvalidMessageCode.InvalidEnvelope,
      `message body must be a JSON object, got ${describeValue(raw)}`,
    );
  }
  const { v } = raw as { v?: unknown };
  if (v !== CONTRACT_VERSION) {
    const problem =
      v === undefined ? 'missing contract version "v"' : `unsupported contract version ${describeValue(v)}`;
    return fail(
      InvalidMessageCode.UnsupportedVersion,
      `${problem}; this consumer speaks v${CONTRACT_VERSION}`,
    );
  }
  if (nestingDepth(body) > MAX_NESTING_DEPTH) {
    return fail(InvalidMessageCode.InvalidEnvelope, `message nests deeper than ${MAX_NESTING_DEPTH} levels`);
  }
  // The schema builds a fresh plain object and never copies a `__proto__` key, so no prototype is touched.
  const checked = validateEnvelope(raw);
  if (!checked.ok) {
    return fail(
      InvalidMessageCode.InvalidEnvelope,
      `invalid message envelope: ${checked.problems.join('; ')}`,
    );
  }
  return { ok: true, envelope: checked.envelope };
}

// Character codes nestingDepth looks for: \ " { [ } ]
const [BACKSLASH, QUOTE, OPEN_BRACE, OPEN_BRACKET, CLOSE_BRACE, CLOSE_BRACKET] = [
  0x5c, 0x22, 0x7b, 0x5b, 0x7d, 0x5d,
];

/** Deepest bracket nesting of a valid JSON text, scanned iteratively so it cannot overflow. */
function nestingDepth(json: string): number {
  // Nesting deeper than the limit takes more brackets than a short body has characters.
  if (json.length <= 2 * MAX_NESTING_DEPTH) return 0;
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) max = Math.max(max, ++depth);
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return max;
}

/**
 * A serialized, validated envelope: the body and its size in UTF-8 bytes.
 *
 * @example
 * ```ts
 * const { body, bytes }: EncodedEnvelope = encodeEnvelope(envelope);
 * ```
 */
export interface EncodedEnvelope {
  readonly body: string;
  readonly bytes: number;
}

/**
 * Serializes an envelope and validates it the way a consumer will, except for SQS's size
 * limit, which the caller checks against `bytes` and reports its own way. The envelope object
 * is validated, not the body parsed back: the same checks, without a second pass over the
 * payload. Throws {@link InvalidMessageError} if a consumer would reject the result.
 *
 * @example
 * ```ts
 * const { body, bytes } = encodeEnvelope(envelope);
 * if (bytes > MAX_BODY_BYTES) throw new Error(`${bytes} bytes is too large for SQS`);
 * ```
 */
export function encodeEnvelope(envelope: TaskEnvelope): EncodedEnvelope {
  let body: string;
  try {
    body = JSON.stringify(envelope);
  } catch (cause) {
    const reason = 'envelope cannot be serialized to JSON';
    throw new InvalidMessageError({ code: InvalidMessageCode.InvalidEnvelope, reason }, { cause });
  }
  // A payload JSON drops or rewrites (a function, a toJSON method) is checked as the consumer will see it.
  const checked = checkEnvelope(survivesJson(envelope.payload) ? envelope : JSON.parse(body), body);
  if (!checked.ok) throw checked.error;
  return { body, bytes: Buffer.byteLength(body, 'utf8') };
}

/** Whether `JSON.stringify` keeps a top-level value as it is, so checking the object is checking the JSON. */
function survivesJson(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'undefined') return false;
  return typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * Serializes an envelope to an SQS message body, validating it the way a consumer will.
 * Throws {@link InvalidMessageError} if a consumer would reject the result.
 *
 * @example
 * ```ts
 * await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: serializeEnvelope(envelope) }));
 * ```
 */
export function serializeEnvelope(envelope: TaskEnvelope): string {
  const { body, bytes } = encodeEnvelope(envelope);
  if (bytes > MAX_BODY_BYTES) {
    const reason = `message body exceeds the ${MAX_BODY_BYTES}-byte limit`;
    throw new InvalidMessageError({ code: InvalidMessageCode.InvalidEnvelope, reason });
  }
  return body;
}

/**
 * The bookkeeping a copy re-sent by tierq carries (a deferred record, or a retry that waits
 * longer than a visibility timeout can hold): failed attempts so far, the tier, and — for a
 * retry — when it may run.
 *
 * @example
 * ```ts
 * const bookkeeping: Bookkeeping = { priorAttempts: 2, tier: 'high' };
 * ```
 */
export interface Bookkeeping {
  readonly priorAttempts: number;
  readonly tier: string;
  /** Replaces the envelope's `runAt`. */
  readonly runAt?: string;
}

/**
 * The body of a copy tierq re-sends of a validated `envelope`: the same envelope, every field
 * kept, with its `tierq` bookkeeping updated. Not validated again; the caller checks its size.
 *
 * @example
 * ```ts
 * const body = resentBody(envelope, { priorAttempts: 1, tier: 'normal' });
 * ```
 */
export function resentBody(envelope: TaskEnvelope, bookkeeping: Bookkeeping): string {
  const { priorAttempts, tier, runAt } = bookkeeping;
  return JSON.stringify({
    ...envelope,
    ...(runAt === undefined ? {} : { runAt }),
    tierq: { ...envelope.tierq, priorAttempts, tier },
  });
}

/** The longest `runAt` a copy may carry (any date before the year 10000 serializes this long). */
const LONGEST_RUN_AT = '9999-12-31T23:59:59.999Z';

/**
 * The size of the largest copy tierq may ever re-send of `envelope` on `tier`: bookkeeping at
 * its longest. A body whose copy would not fit its queue cannot be deferred or retried later,
 * so producers and the consumer refuse it up front. Re-serializing can also grow a body
 * (`1e20` comes back as 21 digits), which this measures.
 *
 * @example
 * ```ts
 * if (largestResentBodyBytes(envelope, 'normal') > limit) reject(envelope);
 * ```
 */
export function largestResentBodyBytes(envelope: TaskEnvelope, tier: string): number {
  const body = resentBody(envelope, { priorAttempts: Number.MAX_SAFE_INTEGER, tier, runAt: LONGEST_RUN_AT });
  return Buffer.byteLength(body, 'utf8');
}

const bookkeepingBytes = new Map<string, number>();

/**
 * What re-sending may add to the body of `envelope` on `tier`, for an envelope as a producer
 * builds it (no `tierq` field yet, serialized by `JSON.stringify`): the `tierq` field at its
 * longest, and a `runAt` (none yet, or a shorter one). Arithmetic, not a second serialization:
 * a producer pays it on every message.
 *
 * @example
 * ```ts
 * const needed = bytes + resentOverheadBytes(envelope, 'high'); // must fit the queue
 * ```
 */
export function resentOverheadBytes(envelope: TaskEnvelope, tier: string): number {
  if (envelope.tierq !== undefined) {
    const stub = { ...envelope, payload: null };
    return largestResentBodyBytes(stub, tier) - Buffer.byteLength(JSON.stringify(stub), 'utf8');
  }
  let bookkeeping = bookkeepingBytes.get(tier);
  if (bookkeeping === undefined) {
    const tierq = JSON.stringify({ priorAttempts: Number.MAX_SAFE_INTEGER, tier });
    bookkeeping = Buffer.byteLength(`,"tierq":${tierq}`, 'utf8');
    bookkeepingBytes.set(tier, bookkeeping);
  }
  const runAt =
    envelope.runAt === undefined
      ? `,"runAt":${JSON.stringify(LONGEST_RUN_AT)}`.length
      : Math.max(0, LONGEST_RUN_AT.length - envelope.runAt.length);
  return bookkeeping + runAt;
}

/**
 * The key used for deduplication: `idempotencyKey` when given, else the message id.
 *
 * @example
 * ```ts
 * effectiveIdempotencyKey({ v: 1, id: 'msg-1', task: 't', payload: null }); // 'msg-1'
 * ```
 */
export function effectiveIdempotencyKey(envelope: TaskEnvelope): string {
  return envelope.idempotencyKey ?? envelope.id;
}
