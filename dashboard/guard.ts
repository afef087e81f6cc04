/**
 * Who may talk to the dashboard: requests that name this server as their `Host` (no DNS
 * rebinding), carry its random token (in the URL, a header or the cookie set from the URL), and —
 * when they change something — are same-origin JSON POSTs (no cross-site requests).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http.js';

/** The header a script may send the token in. */
export const TOKEN_HEADER = 'x-tierq-token';

/**
 * A new random token: 32 bytes, URL-safe.
 *
 * @example
 * const token = newToken(); // 'q3J…' (43 characters)
 */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The cookie holding the token; named after the port, as cookies are shared across ports. */
export function tokenCookie(port: number): string {
  return `tierq-dashboard-${port}`;
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookies(request: IncomingMessage): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) jar.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return jar;
}

/** Options of {@link guard}. */
export interface GuardOptions {
  readonly token: string;
  readonly port: number;
}

/**
 * Checks a request before anything else looks at it; throws {@link HttpError} with the reason
 * (400 bad Host, 401 no or wrong token, 403 cross-origin, 415 not JSON). Returns whether the
 * token came in the URL (the page then sets the cookie and drops it from the address bar).
 *
 * @example
 * const { tokenInUrl } = guard(request, new URL(request.url, 'http://x'), { token, port });
 */
export function guard(request: IncomingMessage, url: URL, options: GuardOptions): { tokenInUrl: boolean } {
  const host = request.headers.host ?? '';
  const hosts = ['127.0.0.1', 'localhost', '[::1]'].map((name) => `${name}:${options.port}`);
  if (!hosts.includes(host)) {
    throw new HttpError(400, `Host "${host}" is not this dashboard (expected one of ${hosts.join(', ')})`);
  }
  const fromUrl = url.searchParams.get('token');
  const given =
    fromUrl ??
    (request.headers[TOKEN_HEADER] as string | undefined) ??
    cookies(request).get(tokenCookie(options.port));
  if (given === undefined) {
    throw new HttpError(401, 'a token is required: open the URL `tierq dashboard` printed');
  }
  if (!equal(given, options.token))
    throw new HttpError(401, 'wrong token: open the URL `tierq dashboard` printed');
  if (request.method === 'POST') {
    const origin = request.headers.origin;
    if (origin !== `http://${host}`) {
      throw new HttpError(
        403,
        `cross-origin request refused (Origin "${origin ?? ''}", expected http://${host})`,
      );
    }
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') {
      throw new HttpError(403, `cross-site request refused (Sec-Fetch-Site "${String(site)}")`);
    }
    if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) {
      throw new HttpError(415, 'POST bodies must be JSON (Content-Type: application/json)');
    }
  }
  return { tokenInUrl: fromUrl !== null };
}
