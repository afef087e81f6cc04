import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Application, type InvocationWindow, LedgerPath } from './app/ledger-client.js';

/** The ledger as the test reads it. */
export interface Ledger {
  /** Base URL the consumer posts to (`CHAOS_LEDGER_URL`). */
  readonly url: string;
  /** Every side effect applied, by idempotency key. */
  applications(key: string): readonly Application[];
  /** Keys with at least one application. */
  appliedKeys(): number;
  invocation(id: string): InvocationWindow | undefined;
  stop(): Promise<void>;
}

/**
 * An HTTP ledger in the test process: outside the system under test, so neither its faults nor
 * its retries can hide a side effect applied twice, or one never applied.
 *
 * @example
 * const ledger = await startLedger();
 * startLocalStack({ functionEnvironment: { CHAOS_LEDGER_URL: ledger.url }, ... });
 */
export async function startLedger(): Promise<Ledger> {
  const applied = new Map<string, Application[]>();
  const invocations = new Map<string, InvocationWindow>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A sandbox killed mid-request leaves its request unfinished: it never reached the ledger.
    req.on('error', () => {});
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      if (req.url === LedgerPath.apply) {
        const application = body as Application;
        applied.set(application.key, [...(applied.get(application.key) ?? []), application]);
      } else if (req.url === LedgerPath.invocation) {
        const window = body as InvocationWindow;
        invocations.set(window.invocationId, window);
      } else {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    applications: (key) => applied.get(key) ?? [],
    appliedKeys: () => applied.size,
    invocation: (id) => invocations.get(id),
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
