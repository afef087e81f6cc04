import { Agent, createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forward, operationOf, readBody } from './http-relay.js';
import {
  WireFault,
  type WirePolicy,
  type WireRequest,
  type WireService,
  wireErrorAnswer,
} from './wire-faults.js';

export * from './wire-faults.js';

/** Options for {@link startWireProxy}. */
export interface WireProxyOptions {
  readonly service: WireService;
  /** The endpoint requests are forwarded to, e.g. DynamoDB Local's `http://127.0.0.1:8000`. */
  readonly target: string;
  /** Faults to inject; default none (a counting pass-through). Can be changed later. */
  readonly policy?: WirePolicy;
  /** Loopback interface to listen on. Default 127.0.0.1. */
  readonly host?: string;
}

/** What went through the proxy so far. */
export interface WireProxyStats {
  /** Requests by action, faulted or not. */
  readonly requests: Readonly<Record<string, number>>;
  /** Faults injected, by kind. */
  readonly faults: Readonly<Record<string, number>>;
  /** Faults injected, by action. */
  readonly faultsByAction: Readonly<Record<string, number>>;
}

/** A running proxy. */
export interface WireProxy {
  /** Where clients should send requests instead of the target. */
  readonly endpoint: string;
  setPolicy(policy: WirePolicy | undefined): void;
  stats(): WireProxyStats;
  /** Closes every connection, including long polls still open, and stops listening. */
  stop(): Promise<void>;
}

/**
 * A test-only HTTP proxy in front of an emulator that counts requests by action and injects
 * faults at the wire: the service's own throttling and 500 errors, plain 500s, and dropped
 * connections — before forwarding, or after (the request took effect, the client saw a failure).
 * The `Host` header is forwarded unchanged, so fauxqs builds queue URLs that name the proxy and
 * SQS clients, which send to a queue URL's host, keep going through it.
 *
 * @example
 * const proxy = await startWireProxy({ service: 'dynamodb', target: emulators.endpoints.dynamodb });
 * proxy.setPolicy(randomWirePolicy({ share: 0.05, faults: [WireFault.throttle] }));
 * // point clients at proxy.endpoint; later
 * await proxy.stop();
 */
export async function startWireProxy(options: WireProxyOptions): Promise<WireProxy> {
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true });
  const requests: Record<string, number> = {};
  const faults: Record<string, number> = {};
  const faultsByAction: Record<string, number> = {};
  let policy = options.policy;
  let throttles = 0;

  const server = createServer((req, res) => {
    // A client that hangs up first (a long poll aborted at shutdown) must not keep the upstream busy.
    const hungUp = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) hungUp.abort();
    });
    void (async () => {
      const body = await readBody(req);
      const request = describeRequest(options.service, req, body);
      requests[request.action] = (requests[request.action] ?? 0) + 1;
      const fault: WireFault | undefined = policy?.(request);
      if (fault !== undefined) {
        faults[fault] = (faults[fault] ?? 0) + 1;
        faultsByAction[request.action] = (faultsByAction[request.action] ?? 0) + 1;
      }
      if (fault === WireFault.dropBefore) return void req.socket.destroy();
      if (fault === WireFault.throttle || fault === WireFault.internalError || fault === WireFault.plain500) {
        const protocol = req.headers['x-amz-target'] === undefined ? 'query' : 'json';
        const n = fault === WireFault.throttle ? throttles++ : 0;
        const answer = wireErrorAnswer(options.service, protocol, fault, n);
        res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
        return void res.end(answer.body);
      }
      const upstream = await forward(target, agent, req, body, hungUp.signal);
      // The request took effect upstream; the client only learns that its connection died.
      if (fault === WireFault.dropAfter) return void req.socket.destroy();
      res.writeHead(upstream.status, upstream.headers);
      res.end(upstream.body);
    })().catch(() => {
      // The client went away (a long poll aborted at shutdown) or the emulator did: a 502 if we still can.
      if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
      else res.destroy();
    });
  });
  server.listen(0, options.host ?? '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { address, port } = server.address() as AddressInfo;

  return {
    endpoint: `http://${address}:${port}`,
    setPolicy(next) {
      policy = next;
    },
    stats: () => ({
      requests: { ...requests },
      faults: { ...faults },
      faultsByAction: { ...faultsByAction },
    }),
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

function describeRequest(service: WireService, req: IncomingMessage, body: Buffer): WireRequest {
  const text = body.toString('utf8');
  // `amz-sdk-request: attempt=2; max=3`: lets a policy spare the SDK's last try.
  const sdk = /attempt=(\d+);\s*max=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''));
  return {
    service,
    action: operationOf(req, text),
    attempt: Number(sdk?.[1] ?? 1),
    maxAttempts: Number(sdk?.[2] ?? 1),
    body: text,
  };
}
