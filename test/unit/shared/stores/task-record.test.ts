import { describe, expect, it } from 'vitest';
import { toTaskRecord } from '../../../../shared/stores/dynamo-task-item.js';
import {
  canonicalJson,
  capError,
  capResult,
  MAX_ERROR_BYTES,
  MAX_RESULT_BYTES,
  payloadHash,
} from '../../../../shared/stores/task-record.js';

describe('payloadHash', () => {
  it('is the same whatever the order of object keys, at every depth', () => {
    const a = { user: { id: 7, name: 'Ada' }, tags: ['x', 'y'], at: null };
    const b = { at: null, tags: ['x', 'y'], user: { name: 'Ada', id: 7 } };

    expect(payloadHash('t', a)).toBe(payloadHash('t', b));
  });

  it('is a sha256 hex digest', () => {
    expect(payloadHash('t', { a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs when a value, an array order or a nested key differs', () => {
    const base = payloadHash('t', { a: [1, 2], b: { c: 1 } });

    expect(payloadHash('t', { a: [2, 1], b: { c: 1 } })).not.toBe(base);
    expect(payloadHash('t', { a: [1, 2], b: { c: 2 } })).not.toBe(base);
    expect(payloadHash('t', { a: [1, 2], b: { d: 1 } })).not.toBe(base);
  });

  it('differs between tasks given the same payload', () => {
    expect(payloadHash('charge-card', { order: 42 })).not.toBe(payloadHash('send-receipt', { order: 42 }));
  });

  it('is stable across calls and treats undefined like null', () => {
    expect(payloadHash('t', { z: 1, a: 2 })).toBe(payloadHash('t', { z: 1, a: 2 }));
    expect(payloadHash('t', undefined)).toBe(payloadHash('t', null));
  });
});

describe('canonicalJson', () => {
  it('sorts keys recursively, keeps arrays in order and drops undefined properties', () => {
    const json = canonicalJson({ b: 1, a: { d: [3, { y: 1, x: 2 }], c: undefined } });

    expect(json).toBe('{"a":{"d":[3,{"x":2,"y":1}]},"b":1}');
  });

  it('serializes dates through toJSON', () => {
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });
});

describe('capResult', () => {
  it('keeps a result whose JSON fits', () => {
    expect(capResult({ sent: true })).toBe('{"sent":true}');
  });

  it('replaces a result over the cap with a marker giving its size in bytes', () => {
    const big = 'é'.repeat(MAX_RESULT_BYTES); // 2 bytes each in UTF-8

    expect(JSON.parse(capResult(big) ?? '')).toEqual({ truncated: true, bytes: 2 * MAX_RESULT_BYTES + 2 });
  });

  it('keeps a result of exactly the cap', () => {
    const exact = 'x'.repeat(MAX_RESULT_BYTES - 2); // plus two quotes

    expect(capResult(exact)).toBe(JSON.stringify(exact));
  });

  it('stores nothing for a task that returned nothing', () => {
    expect(capResult(undefined)).toBeUndefined();
  });
});

describe('capError', () => {
  it('keeps a short message as it is', () => {
    expect(capError('boom')).toBe('boom');
  });

  it('cuts a long message to the byte cap without splitting a character', () => {
    const capped = capError('€'.repeat(MAX_ERROR_BYTES)); // 3 bytes each

    expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
    expect(capped.endsWith('€…')).toBe(true);
  });
});

describe('toTaskRecord', () => {
  it('parses the stored result and strips the key prefix', () => {
    const record = toTaskRecord({
      pk: 'task#order-42',
      sk: 'task',
      taskId: 't-1',
      task: 'send-email',
      status: 'succeeded',
      attempts: 2,
      payloadHash: 'h',
      result: '{"ok":true}',
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:01.000Z',
      expiresAt: 1_700_000_000,
    });

    expect(record).toMatchObject({ key: 'order-42', status: 'succeeded', attempts: 2, result: { ok: true } });
    expect(record).not.toHaveProperty('lockExpiresAt');
  });
});
