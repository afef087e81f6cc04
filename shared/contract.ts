import { CONTRACT_VERSION, describeValue, type TaskEnvelope, taskEnvelopeSchema } from './contract-schema.js';
import { InvalidMessageCode, InvalidMessageError } from './errors.js';

export {
  CONTRACT_VERSION,
  contractJsonSchema,
  type TaskEnvelope,
  taskEnvelopeSchema,
} from './contract-schema.js';

/**
 * SQS's maximum message size; larger bodies cannot have come from SQS and are rejected unread.
 *
 * @example
 * ```ts
 * if (Buffer.byteLength(body) > MAX_BODY_BYTES) throw new Error('payload too large for SQS');
 * ```
 */
export const MAX_BODY_BYTES = 262_144;

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
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(
      InvalidMessageCode.InvalidEnvelope,
      `message body must be a JSON object, got ${describeValue(raw)}`,
    );
  }
  // Version first: a future version may have a different shape, and its field errors would mislead.
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
  const parsed = taskEnvelopeSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `field "${issue.path.join('.')}" ${issue.message}`);
    return fail(InvalidMessageCode.InvalidEnvelope, `invalid message envelope: ${problems.join('; ')}`);
  }
  return { ok: true, envelope: parsed.data };
}

/** Deepest bracket nesting of a valid JSON text, scanned iteratively so it cannot overflow. */
function nestingDepth(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') max = Math.max(max, ++depth);
    else if (c === '}' || c === ']') depth--;
  }
  return max;
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
  let body: string;
  try {
    body = JSON.stringify(envelope);
  } catch (cause) {
    const reason = 'envelope cannot be serialized to JSON';
    throw new InvalidMessageError({ code: InvalidMessageCode.InvalidEnvelope, reason }, { cause });
  }
  const result = parseEnvelope(body);
  if (!result.ok) throw result.error;
  return body;
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
