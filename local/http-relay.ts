/**
 * The plumbing both local HTTP intermediaries share — the test-only wire proxy and the AWS-rules
 * gateway: reading a request body, naming the AWS operation a request sends, and forwarding it
 * upstream with its `Host` header unchanged (fauxqs builds queue URLs from it).
 */
import { type Agent, request as httpRequest, type IncomingMessage } from 'node:http';

/** An upstream answer, read whole. */
export interface Upstream {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/**
 * Reads a request or response body whole.
 *
 * @example
 * const body = await readBody(req);
 */
export async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The operation a request sends: from `X-Amz-Target` (JSON protocols) or `Action=` (SQS's query
 * protocol, in the form body or the URL); `unknown` when neither names one.
 *
 * @example
 * operationOf(req, body.toString('utf8')); // 'SendMessageBatch'
 */
export function operationOf(req: IncomingMessage, text: string): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.slice(target.lastIndexOf('.') + 1);
  const form = String(req.headers['content-type']).includes('x-www-form-urlencoded') ? text : '';
  return (
    new URLSearchParams(form).get('Action') ??
    new URL(req.url ?? '/', 'http://x').searchParams.get('Action') ??
    'unknown'
  );
}

/**
 * Forwards `req` with `body` to `target` and reads the answer whole.
 *
 * @example
 * const upstream = await forward(new URL(emulator), agent, req, body, signal);
 */
export function forward(
  target: URL,
  agent: Agent,
  req: IncomingMessage,
  body: Buffer,
  signal: AbortSignal,
): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    const out = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent, signal },
      (res) => {
        readBody(res).then(
          (data) => resolve({ status: res.statusCode ?? 502, headers: headersOf(res), body: data }),
          reject,
        );
      },
    );
    out.once('error', reject);
    out.end(body);
  });
}

function headersOf(res: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined && name !== 'transfer-encoding' && name !== 'connection') headers[name] = value;
  }
  return headers;
}
