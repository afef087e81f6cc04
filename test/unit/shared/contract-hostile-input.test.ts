import { describe, expect, it } from 'vitest';
import {
  MAX_BODY_BYTES,
  MAX_NESTING_DEPTH,
  parseEnvelope,
  serializeEnvelope,
} from '../../../shared/contract.js';

const validBody = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, id: 'msg-1', task: 'send-email', payload: { to: 'a@example.com' }, ...overrides });

const reasonFor = (body: string) => {
  const result = parseEnvelope(body);
  if (result.ok) throw new Error(`expected ${body.slice(0, 80)} to be rejected`);
  return result.error;
};

describe('parseEnvelope with hostile input', () => {
  it('pollutes no prototype through __proto__ or constructor keys', () => {
    const body =
      '{"v":1,"id":"a","task":"b","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},' +
      '"tierq":{"__proto__":{"polluted":true}},"payload":{"__proto__":{"polluted":true}}}';

    const result = parseEnvelope(body);

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { envelope } = result;
    expect(Object.getPrototypeOf(envelope)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(envelope.tierq)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(envelope.payload)).toBe(Object.prototype);
    expect((envelope as Record<string, unknown>).polluted).toBeUndefined();
    expect((envelope.tierq as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(envelope, '__proto__')).toBe(false);
  });

  it('keeps a __proto__ key inside the payload as plain data', () => {
    const body = '{"v":1,"id":"a","task":"b","payload":{"__proto__":{"x":1}}}';

    const result = parseEnvelope(body);

    expect(result.ok && serializeEnvelope(result.envelope)).toBe(body);
  });

  it('rejects nesting deeper than the limit without overflowing the stack', () => {
    const deep = `{"v":1,"id":"a","task":"b","payload":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;

    const error = reasonFor(deep);

    expect(error.reason).toBe(`message nests deeper than ${MAX_NESTING_DEPTH} levels`);
  });

  it('accepts nesting up to the limit and ignores brackets inside strings', () => {
    const nested = (levels: number) => `${'['.repeat(levels)}"[[[{{{\\"[[["${']'.repeat(levels)}`;
    const atLimit = `{"v":1,"id":"a","task":"b","payload":${nested(MAX_NESTING_DEPTH - 1)}}`;
    const overLimit = `{"v":1,"id":"a","task":"b","payload":${nested(MAX_NESTING_DEPTH)}}`;

    expect(parseEnvelope(atLimit).ok).toBe(true);
    expect(parseEnvelope(overLimit).ok).toBe(false);
  });

  it('rejects bodies over the SQS size limit, counting UTF-8 bytes', () => {
    const ascii = validBody({ payload: 'x'.repeat(MAX_BODY_BYTES) });
    const multibyte = validBody({ payload: '€'.repeat(MAX_BODY_BYTES / 3) });

    expect(reasonFor(ascii).reason).toBe('message body exceeds the 1048576-byte limit');
    expect(multibyte.length).toBeLessThan(MAX_BODY_BYTES);
    expect(reasonFor(multibyte).reason).toBe('message body exceeds the 1048576-byte limit');
  });

  it('accepts a body just under the size limit', () => {
    const filler = MAX_BODY_BYTES - validBody({ payload: '' }).length;

    expect(parseEnvelope(validBody({ payload: 'x'.repeat(filler) })).ok).toBe(true);
  });

  it('never throws, whatever the body', () => {
    const bodies = ['', ' ', '{', '}', '\u0000', '{"v":1', '{"v":1e999}', '[[[[', '"\\ud800"', 'undefined'];

    for (const body of bodies) {
      expect(() => parseEnvelope(body)).not.toThrow();
      expect(parseEnvelope(body).ok).toBe(false);
    }
  });
});
