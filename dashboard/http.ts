/**
 * The few HTTP chores of the dashboard's server: an error that carries its status, reading a
 * JSON body with a size bound, and writing JSON with the headers every answer gets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as v from 'valibot';

/** A request the server refuses: `status` is 4xx, `message` says what was wrong. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Headers on every answer: nothing cached, framed, sniffed or fetched from elsewhere. */
export const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
} as const;

/** A JSON body may hold a 1 MiB task payload and its envelope, not much more. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Reads the request's JSON body and checks it against `schema`; throws {@link HttpError} 400
 * naming what is wrong, 413 when it is too large.
 *
 * @example
 * const { task } = await readJson(request, v.object({ task: v.string() }));
 */
export async function readJson<S extends v.GenericSchema>(
  request: IncomingMessage,
  schema: S,
): Promise<v.InferOutput<S>> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) throw new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON (${(error as Error).message})`);
  }
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) {
    const issues = parsed.issues.map(
      (i) => `${(i.path ?? []).map((p) => String(p.key)).join('.') || 'body'}: ${i.message}`,
    );
    throw new HttpError(400, issues.join('; '));
  }
  return parsed.output;
}

/**
 * Writes `value` as JSON with `status` and the {@link SECURITY_HEADERS}.
 *
 * @example
 * sendJson(response, 200, { ok: true });
 */
export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
