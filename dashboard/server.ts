/**
 * `tierq dashboard`'s server: Node's own http, bound to 127.0.0.1, serving the page and its JSON
 * API to requests that pass the {@link guard} (right Host, the token, same-origin JSON POSTs).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Target } from '../cli/connect.js';
import { type ApiContext, handleApi } from './api.js';
import { loadPageAssets, type PageAssets } from './assets.js';
import { guard, newToken, tokenCookie } from './guard.js';
import { HttpError, SECURITY_HEADERS, sendJson } from './http.js';
import { createJobs } from './jobs.js';
import { startOverview } from './overview.js';

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  readonly target: Target;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Allow enqueueing from the page. Default true. */
  readonly enqueue?: boolean;
  /** Default: a new random token. */
  readonly token?: string;
  /** Overview sampling interval. Default 2 000 ms. */
  readonly intervalMs?: number;
  /** How long letters stay hidden while a replay runs (as `tierq dlq replay --hold`). Default 60 s. */
  readonly holdSeconds?: number;
  /** Called with a line for each request that failed at the target (not for refused ones). */
  readonly onError?: (line: string) => void;
}

/** A running dashboard. */
export interface Dashboard {
  /** The URL to open, token included. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  stop(): Promise<void>;
}

/** Only loopback: the dashboard holds the operator's access and must not be reachable from elsewhere. */
const HOST = '127.0.0.1';

function servePage(
  assets: PageAssets,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  cookie: { name: string; token: string; tokenInUrl: boolean },
): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    throw new HttpError(405, `${request.method} is not allowed on ${url.pathname}`);
  }
  if (url.pathname === '/' && cookie.tokenInUrl) {
    // As Jupyter does: the token moves from the address bar into a cookie only this origin sends.
    response.writeHead(303, {
      ...SECURITY_HEADERS,
      location: '/',
      'set-cookie': `${cookie.name}=${cookie.token}; Path=/; HttpOnly; SameSite=Strict`,
    });
    response.end();
    return;
  }
  const name = url.pathname === '/' ? 'index.html' : url.pathname.replace(/^\/assets\//, '');
  const asset = url.pathname === '/' || url.pathname.startsWith('/assets/') ? assets.get(name) : undefined;
  if (asset === undefined) throw new HttpError(404, `no such page: ${url.pathname}`);
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': asset.type,
    'content-length': asset.body.length,
  });
  response.end(request.method === 'HEAD' ? undefined : asset.body);
}

/**
 * Starts the dashboard for `target` and resolves once it listens.
 *
 * @example
 * const dashboard = await startDashboard({ target: await connect({}) });
 * console.log(`dashboard: ${dashboard.url}`);
 * await dashboard.stop();
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const token = options.token ?? newToken();
  const assets = await loadPageAssets();
  const overview = startOverview({
    target: options.target,
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
  });
  const context: ApiContext = {
    target: options.target,
    overview,
    jobs: createJobs(options.target, { holdSeconds: options.holdSeconds ?? 60 }),
    enqueue: options.enqueue ?? true,
  };
  let port = 0;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://dashboard.invalid');
    const handle = async () => {
      const { tokenInUrl } = guard(request, url, { token, port });
      if (url.pathname.startsWith('/api/')) return handleApi(context, request, response, url);
      servePage(assets, request, response, url, { name: tokenCookie(port), token, tokenInUrl });
    };
    handle().catch((error: unknown) => {
      if (response.headersSent) return response.destroy();
      if (error instanceof HttpError) return sendJson(response, error.status, { error: error.message });
      const message = error instanceof Error ? error.message : String(error);
      options.onError?.(`${request.method} ${url.pathname}: ${message}`);
      sendJson(response, 502, { error: `${options.target.description} answered: ${message}` });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    port,
    token,
    async stop() {
      overview.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
