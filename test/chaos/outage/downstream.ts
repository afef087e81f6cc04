import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call the downstream answered. */
export interface DownstreamCall {
  readonly id: string;
  readonly task: string;
  readonly attempt: number;
  readonly at: number;
  readonly ok: boolean;
}

/**
 * A downstream service on loopback that answers every call 200, except during an outage, when
 * it answers 503. It keeps every call, so a run can count what reached it and when.
 *
 * @example
 * const downstream = await startDownstream();
 * downstream.failFor(20_000);
 */
export async function startDownstream() {
  const calls: DownstreamCall[] = [];
  let outage: { from: number; to: number } | undefined;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const at = Date.now();
      const ok = !(outage && at >= outage.from && at < outage.to);
      try {
        const { id, task, attempt } = JSON.parse(body) as { id: string; task: string; attempt: number };
        calls.push({ id, task, attempt, at, ok });
        response.writeHead(ok ? 200 : 503).end();
      } catch {
        response.writeHead(400).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    /** Fails every call from now for `ms`. */
    failFor(ms: number) {
      const from = Date.now();
      outage = { from, to: from + ms };
      return outage;
    },
    get outage() {
      return outage;
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
export type Downstream = Awaited<ReturnType<typeof startDownstream>>;
