/**
 * What a fuzz case is expected to become: a task that completes under its idempotency key, or a
 * dead letter with a given `tierq-reason`.
 */
export type FuzzExpectation =
  | { readonly kind: 'good'; readonly key: string }
  | { readonly kind: 'bad'; readonly reason: string };

/** One generated message body and what the consumer must make of it. */
export interface FuzzCase {
  /** Which generator made it, for failure messages and the summary. */
  readonly category: string;
  readonly body: string;
  readonly expect: FuzzExpectation;
}

/** A case builder: given a unique token, the case (so every body is distinct). */
export type BuildCase = (token: string) => FuzzCase;

/** The tasks of the default consumer (functions/tasks.ts) the cases use. */
export const KNOWN_TASKS = ['echo', 'sleep', 'flaky', 'limited', 'reject'] as const;

/**
 * Characters fauxqs 1.9 refuses in a body: XML's invalid ones, as SQS, but also everything
 * beyond U+FFFF, which SQS itself accepts (its check runs on UTF-16 units).
 */
const EMULATOR_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/;

/** True when the emulator will take `body` as it is. */
export function sqsAccepts(body: string): boolean {
  return body.length > 0 && !EMULATOR_INVALID.test(body);
}

/**
 * Writes every UTF-16 surrogate as a JSON `\u` escape, so characters beyond U+FFFF reach the
 * consumer through fauxqs: in a JSON string an escaped pair reads back as the same character.
 */
export function escapeSurrogates(body: string): string {
  return body.replace(/[\uD800-\uDFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** A v1 envelope's JSON with `fields` after `v`. */
export function envelope(fields: Record<string, unknown>): string {
  return JSON.stringify({ v: 1, ...fields });
}

/**
 * Inserts raw JSON members before an object's closing brace: the only way to write keys such
 * as `__proto__`, which an object literal would turn into a prototype instead of a key.
 */
export function withRawMembers(json: string, members: string): string {
  return `${json.slice(0, -1)},${members}}`;
}

/** A good case: the consumer must run it to success under `key` (its id unless given). */
export function good(category: string, id: string, body: string, key = id): FuzzCase {
  return { category, body, expect: { kind: 'good', key } };
}

/** A bad case: the consumer must dead-letter it with `reason`. */
export function bad(category: string, reason: string, body: string): FuzzCase {
  return { category, body, expect: { kind: 'bad', reason } };
}

/** `value` nested `depth` levels deep in alternating arrays and objects. */
export function nested(depth: number, value: unknown): unknown {
  let out = value;
  for (let i = 0; i < depth; i++) out = i % 2 === 0 ? [out] : { d: out };
  return out;
}
