import { describe, expect, it } from 'vitest';
import type { TaskEnvelope } from '../../../shared/contract.js';
import {
  CONTRACT_VERSION,
  effectiveIdempotencyKey,
  parseEnvelope,
  serializeEnvelope,
} from '../../../shared/contract.js';
import { InvalidMessageError } from '../../../shared/errors.js';

const validBody = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, id: 'msg-1', task: 'send-email', payload: { to: 'a@example.com' }, ...overrides });

const reasonFor = (body: string) => {
  const result = parseEnvelope(body);
  if (result.ok) throw new Error(`expected ${body.slice(0, 80)} to be rejected`);
  return result.error;
};

describe('parseEnvelope', () => {
  it('accepts a minimal v1 body', () => {
    const result = parseEnvelope(validBody());

    expect(result).toEqual({
      ok: true,
      envelope: { v: 1, id: 'msg-1', task: 'send-email', payload: { to: 'a@example.com' } },
    });
  });

  it('accepts every optional field', () => {
    const body = validBody({
      runAt: '9999-12-31T23:59:59.999+05:30',
      idempotencyKey: 'order 42 / confirmation',
      enqueuedAt: '2025-01-01T00:00:00Z',
      tierq: { priorAttempts: 2, tier: 'high' },
    });

    expect(parseEnvelope(body).ok).toBe(true);
  });

  it('accepts a null payload but not a missing one', () => {
    expect(parseEnvelope(validBody({ payload: null })).ok).toBe(true);

    const error = reasonFor(JSON.stringify({ v: 1, id: 'a', task: 'b' }));

    expect(error.code).toBe('invalid-envelope');
    expect(error.reason).toBe(
      'invalid message envelope: field "payload" is missing (send null for no payload)',
    );
  });

  it('ignores unknown fields but keeps them for re-enqueued copies', () => {
    const body = validBody({ traceId: 'abc', tierq: { priorAttempts: 1, futureFlag: true } });

    const result = parseEnvelope(body);

    expect(result.ok && result.envelope.traceId).toBe('abc');
    expect(result.ok && JSON.parse(serializeEnvelope(result.envelope))).toEqual(JSON.parse(body));
  });

  it('says when the body is not JSON and quotes the start of it', () => {
    const error = reasonFor(`hello ${'x'.repeat(500)}`);

    expect(error.code).toBe('invalid-json');
    expect(error.reason).toBe(`message body is not valid JSON: "hello ${'x'.repeat(54)}…"`);
  });

  it.each([
    ['[]', 'an array'],
    ['"text"', '"text"'],
    ['null', 'null'],
    ['42', '42'],
  ])('rejects the JSON value %s, which is not an object', (body, got) => {
    const error = reasonFor(body);

    expect(error.code).toBe('invalid-envelope');
    expect(error.reason).toBe(`message body must be a JSON object, got ${got}`);
  });

  it.each([
    [{ v: 2 }, 'unsupported contract version 2; this consumer speaks v1'],
    [{ v: '1' }, 'unsupported contract version "1"; this consumer speaks v1'],
    [{ v: undefined }, 'missing contract version "v"; this consumer speaks v1'],
  ])('rejects contract version %o before looking at other fields', (overrides, reason) => {
    const error = reasonFor(validBody({ ...overrides, id: '' }));

    expect(error.code).toBe('unsupported-version');
    expect(error.reason).toBe(reason);
  });

  it('names every invalid field in one sentence', () => {
    const body = validBody({
      id: 'has space',
      task: 7,
      runAt: '2025-01-01T00:00:00',
      tierq: { priorAttempts: -1 },
    });

    const error = reasonFor(body);

    expect(error.reason).toBe(
      'invalid message envelope: ' +
        "field \"id\" must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-', got \"has space\"; " +
        "field \"task\" must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-', got 7; " +
        'field "runAt" must be an ISO-8601 date-time with an offset or Z, got "2025-01-01T00:00:00"; ' +
        'field "tierq.priorAttempts" must be an integer >= 0, got -1',
    );
  });

  it.each([
    [{ id: 'x'.repeat(129) }, 'field "id" must be 1–128 characters', 'got a string of 129 characters'],
    [{ task: '' }, 'field "task" must be 1–128 characters', 'got ""'],
    [{ idempotencyKey: '' }, 'field "idempotencyKey" must be a string of 1–256 characters', 'got ""'],
    [{ idempotencyKey: 'k'.repeat(257) }, 'field "idempotencyKey"', 'got a string of 257 characters'],
    [{ enqueuedAt: 'yesterday' }, 'field "enqueuedAt" must be an ISO-8601 date-time', 'got "yesterday"'],
    [{ tierq: [] }, 'field "tierq" must be an object', 'got an array'],
    [{ tierq: { priorAttempts: 1.5 } }, 'field "tierq.priorAttempts" must be an integer >= 0', 'got 1.5'],
    [{ tierq: { tier: '' } }, 'field "tierq.tier" must be a string of 1–128 characters', 'got ""'],
  ])('rejects %o with a reason naming the field', (overrides, field, got) => {
    const error = reasonFor(validBody(overrides));

    expect(error.code).toBe('invalid-envelope');
    expect(error.reason).toContain(field);
    expect(error.reason).toContain(got);
  });

  it('accepts ids and task names made of the whole allowed alphabet', () => {
    const name = 'Az09._:-'.repeat(16);

    expect(parseEnvelope(validBody({ id: name, task: name })).ok).toBe(true);
  });
});

describe('serializeEnvelope', () => {
  it('produces a body that parses back to the same envelope', () => {
    const envelope: TaskEnvelope = { v: CONTRACT_VERSION, id: 'msg-1', task: 't', payload: [1, 'two', null] };

    const result = parseEnvelope(serializeEnvelope(envelope));

    expect(result).toEqual({ ok: true, envelope });
  });

  it('refuses an envelope a consumer would reject', () => {
    const envelope = { v: 1, id: 'no spaces allowed', task: 't', payload: null } as TaskEnvelope;

    expect(() => serializeEnvelope(envelope)).toThrow(InvalidMessageError);
    expect(() => serializeEnvelope(envelope)).toThrow(/field "id"/);
  });

  it('refuses a payload JSON would drop, as the consumer would', () => {
    const envelope = { v: 1, id: 'a', task: 't', payload: () => 1 } as TaskEnvelope;

    expect(() => serializeEnvelope(envelope)).toThrow(/field "payload" is missing/);
  });

  it('checks a payload with toJSON as the JSON it becomes', () => {
    const at = new Date('2026-11-23T10:00:00Z');
    const envelope: TaskEnvelope = { v: 1, id: 'a', task: 't', payload: at };

    expect(JSON.parse(serializeEnvelope(envelope)).payload).toBe('2026-11-23T10:00:00.000Z');
  });

  it('refuses a payload JSON cannot represent, keeping the cause', () => {
    const envelope: TaskEnvelope = { v: 1, id: 'a', task: 't', payload: { big: 1n } };

    const error = (() => {
      try {
        serializeEnvelope(envelope);
      } catch (caught) {
        return caught;
      }
    })();

    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as InvalidMessageError).cause).toBeInstanceOf(TypeError);
  });
});

describe('effectiveIdempotencyKey', () => {
  it('uses the idempotency key when one is given', () => {
    const envelope: TaskEnvelope = {
      v: 1,
      id: 'msg-1',
      task: 't',
      payload: null,
      idempotencyKey: 'order-42',
    };

    expect(effectiveIdempotencyKey(envelope)).toBe('order-42');
  });

  it('falls back to the message id', () => {
    expect(effectiveIdempotencyKey({ v: 1, id: 'msg-1', task: 't', payload: null })).toBe('msg-1');
  });
});
