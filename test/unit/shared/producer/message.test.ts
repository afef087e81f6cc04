import { describe, expect, it } from 'vitest';
import { parseEnvelope, resentBody } from '../../../../shared/contract.js';
import {
  ConfigError,
  InvalidMessageError,
  MessageTooLargeError,
  UnknownTierError,
} from '../../../../shared/errors.js';
import { buildMessage, type EnqueueOptions } from '../../../../shared/producer/message.js';

const now = Date.parse('2030-01-01T00:00:00.000Z');
const queues = { critical: 'url-critical', normal: 'url-normal', low: 'url-low' };
const build = (options: EnqueueOptions = {}, payload: unknown = { n: 1 }) =>
  buildMessage({ task: 'echo', payload, options, now, queues, defaultTier: 'normal' });
const envelope = (body: string) => {
  const result = parseEnvelope(body);
  if (!result.ok) throw result.error;
  return result.envelope;
};

describe('buildMessage', () => {
  it('builds a v1 envelope for the default tier', () => {
    const message = build({ idempotencyKey: 'k-1' });
    expect(message.queueUrl).toBe('url-normal');
    expect(message.delaySeconds).toBe(0);
    expect(envelope(message.body)).toEqual({
      v: 1,
      id: message.id,
      task: 'echo',
      payload: { n: 1 },
      enqueuedAt: '2030-01-01T00:00:00.000Z',
      idempotencyKey: 'k-1',
    });
  });

  it('marks the message with its tier, and sizes it as SQS and a re-sent copy will', () => {
    const message = build({ priority: 'critical' });

    expect(message.attributes).toEqual({ 'tierq-tier': { DataType: 'String', StringValue: 'critical' } });
    expect(message.bytes).toBe(Buffer.byteLength(message.body) + 'tierq-tierStringcritical'.length);
    const copy = resentBody(envelope(message.body), {
      priorAttempts: Number.MAX_SAFE_INTEGER,
      tier: 'critical',
      runAt: '2030-01-01T00:00:00.000Z',
    });
    expect(message.neededBytes).toBe(Buffer.byteLength(copy) + 'tierq-tierStringcritical'.length);
  });

  it.each([
    ['with a runAt', { runAt: '2030-06-01T00:00:00Z', idempotencyKey: 'k' }],
    ['with a delay, in a tier with a long name', { delay: 5_000, priority: 'low' }],
  ])('sizes a re-sent copy exactly %s', (_, options) => {
    const message = build(options as EnqueueOptions);
    const copy = resentBody(envelope(message.body), {
      priorAttempts: Number.MAX_SAFE_INTEGER,
      tier: message.tier,
      runAt: '2030-01-01T00:00:00.000Z',
    });

    expect(message.neededBytes - message.bytes).toBe(
      Buffer.byteLength(copy) - Buffer.byteLength(message.body),
    );
  });

  it('routes a priority to its queue and rejects an unknown one, listing the tiers', () => {
    expect(build({ priority: 'critical' }).queueUrl).toBe('url-critical');
    expect(() => build({ priority: 'urgent' })).toThrow(UnknownTierError);
    expect(() => build({ priority: 'urgent' })).toThrow('critical, normal, low');
    expect(() => build({ priority: 'toString' })).toThrow(UnknownTierError);
  });

  it('holds a delay of up to 15 minutes with DelaySeconds, rounding up', () => {
    const message = build({ delay: 1_500 });
    expect(message.delaySeconds).toBe(2);
    expect(envelope(message.body).runAt).toBeUndefined();
    expect(build({ delay: 900_000 }).delaySeconds).toBe(900);
  });

  it('carries a longer delay or a runAt in the body, holding at most 15 minutes', () => {
    const late = build({ delay: 3_600_000 });
    expect(envelope(late.body).runAt).toBe('2030-01-01T01:00:00.000Z');
    expect(late.delaySeconds).toBe(900);
    const soon = build({ runAt: new Date(now + 60_000) });
    expect(envelope(soon.body).runAt).toBe('2030-01-01T00:01:00.000Z');
    expect(soon.delaySeconds).toBe(60);
    expect(build({ runAt: '2029-12-31T00:00:00Z' }).delaySeconds).toBe(0);
  });

  it('rejects bad timing options', () => {
    expect(() => build({ delay: -1 })).toThrow(ConfigError);
    expect(() => build({ delay: 1, runAt: new Date(now) })).toThrow('not both');
    expect(() => build({ runAt: 'tomorrow' })).toThrow(ConfigError);
  });

  it('carries the tenant in the envelope and as the message group, so a fair queue groups by it', () => {
    const message = build({ tenant: 'acme-corp' });
    expect(envelope(message.body).tenant).toBe('acme-corp');
    expect(message.groupId).toBe('acme-corp');
    expect(build().groupId).toBeUndefined();
  });

  it('rejects a tenant a consumer would reject, saying what a tenant may be', () => {
    expect(() => build({ tenant: 'has space' })).toThrow(ConfigError);
    expect(() => build({ tenant: '' })).toThrow(/tenant must be 1–128 characters/);
    expect(() => build({ tenant: 'x'.repeat(129) })).toThrow(/a string of 129 characters/);
    expect(() => build({ tenant: 'a#b' })).toThrow(ConfigError);
  });

  it('rejects an invalid id the way a consumer would', () => {
    expect(() => build({ id: 'has space' })).toThrow(InvalidMessageError);
  });

  it("rejects a body over SQS's 1 MiB, naming the limit and the size", () => {
    const error = (() => {
      try {
        build({}, 'x'.repeat(1_048_576));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as Error).message).toMatch(/limit of 1048576 bytes/);
    expect((error as MessageTooLargeError).bytes).toBeGreaterThan(1_048_576);
    expect((error as Error).message).toContain(String((error as MessageTooLargeError).bytes));
  });
});
