import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { guard, newToken, TOKEN_HEADER, tokenCookie } from '../../../dashboard/guard.js';
import { HttpError } from '../../../dashboard/http.js';

const PORT = 4321;
const TOKEN = newToken();

/** The parts of a request the guard reads. */
function request(method: string, path: string, headers: Record<string, string>) {
  const message = { method, headers } as unknown as IncomingMessage;
  return () => guard(message, new URL(path, 'http://x'), { token: TOKEN, port: PORT });
}

function refusal(check: () => unknown): { status: number; message: string } {
  try {
    check();
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error('the request was let through');
}

const host = `127.0.0.1:${PORT}`;
const same = { host, origin: `http://${host}`, 'content-type': 'application/json' };

describe('guard', () => {
  it('makes tokens long and random', () => {
    expect(TOKEN).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(TOKEN);
  });

  it('lets a request through with the token in the URL, a header or the cookie', () => {
    expect(request('GET', `/?token=${TOKEN}`, { host })()).toEqual({ tokenInUrl: true });
    expect(request('GET', '/api/overview', { host, [TOKEN_HEADER]: TOKEN })()).toEqual({ tokenInUrl: false });
    const cookie = `other=1; ${tokenCookie(PORT)}=${TOKEN}`;
    expect(request('GET', '/assets/app.js', { host: `localhost:${PORT}`, cookie })()).toEqual({
      tokenInUrl: false,
    });
  });

  it('refuses a missing or wrong token with 401', () => {
    expect(refusal(request('GET', '/api/overview', { host }))).toEqual({
      status: 401,
      message: 'a token is required: open the URL `tierq dashboard` printed',
    });
    expect(refusal(request('GET', `/?token=${TOKEN}x`, { host })).status).toBe(401);
    // The cookie of a dashboard on another port is not this one's.
    expect(refusal(request('GET', '/', { host, cookie: `${tokenCookie(PORT + 1)}=${TOKEN}` })).status).toBe(
      401,
    );
  });

  it('refuses another Host (DNS rebinding) with 400, before looking at the token', () => {
    const refused = refusal(request('GET', `/?token=${TOKEN}`, { host: `attacker.example:${PORT}` }));
    expect(refused.status).toBe(400);
    expect(refused.message).toContain('Host "attacker.example:4321" is not this dashboard');
    expect(refusal(request('GET', `/?token=${TOKEN}`, { host: '127.0.0.1:80' })).status).toBe(400);
  });

  it('lets a same-origin JSON POST through, and refuses cross-origin, cross-site or non-JSON ones', () => {
    const post = (headers: Record<string, string>) =>
      request('POST', '/api/enqueue', { [TOKEN_HEADER]: TOKEN, ...headers });
    expect(post(same)()).toEqual({ tokenInUrl: false });
    expect(post({ ...same, 'sec-fetch-site': 'same-origin' })()).toEqual({ tokenInUrl: false });
    expect(refusal(post({ ...same, origin: 'http://attacker.example' })).status).toBe(403);
    expect(refusal(post({ host, 'content-type': 'application/json' })).status).toBe(403);
    expect(refusal(post({ ...same, origin: `http://localhost:${PORT}` })).status).toBe(403);
    expect(refusal(post({ ...same, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(refusal(post({ ...same, 'content-type': 'text/plain' })).status).toBe(415);
  });
});
