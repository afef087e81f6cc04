/**
 * Task contracts: declared apart from handlers, checked where they enter, and the payload check a
 * producer runs before sending — synchronous for a synchronous schema, awaited for an async one.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidMessageError } from '../../../shared/errors.js';
import { defineTask } from '../../../shared/registry.js';
import { type ContractInput, checkPayload, defineContract } from '../../../shared/task-contract.js';

const chargeOrder = defineContract({
  name: 'charge-order',
  schema: v.object({ orderId: v.string(), cents: v.pipe(v.number(), v.integer(), v.minValue(1)) }),
});

describe('defineContract', () => {
  it('keeps the name as a literal type and the schema as given', () => {
    const name: 'charge-order' = chargeOrder.name;
    const input: ContractInput<typeof chargeOrder> = { orderId: 'o-1', cents: 5 };
    expect([name, input.cents]).toEqual(['charge-order', 5]);
  });

  it('refuses a bad name or something that is not a Standard Schema', () => {
    expect(() => defineContract({ name: 'has space', schema: v.unknown() })).toThrow(ConfigError);
    expect(() => defineContract({ name: 'x', schema: {} as StandardSchemaV1 })).toThrow(/Standard Schema/);
  });
});

describe('defineTask from a contract', () => {
  it('adds the handler and policies to the contract', () => {
    const task = defineTask(chargeOrder, {
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
      handler: ({ orderId, cents }) => ({ orderId, charged: cents }),
    });
    expect(task.name).toBe('charge-order');
    expect(task.schema).toBe(chargeOrder.schema);
    expect(task.handler({ orderId: 'o', cents: 2 }, {} as never)).toEqual({ orderId: 'o', charged: 2 });
  });

  it('checks the options as defineTask always does', () => {
    expect(() =>
      defineTask(chargeOrder, { rateLimit: { perSecond: 0, burst: 1 }, handler: () => 1 }),
    ).toThrow(/task "charge-order": rateLimit/);
  });
});

describe('checkPayload', () => {
  it('answers a synchronous schema synchronously, naming each bad field', () => {
    expect(checkPayload(chargeOrder, { orderId: 'o', cents: 3 })).toBeUndefined();
    const invalid = checkPayload(chargeOrder, { orderId: 7, cents: 0.5 });
    expect(invalid).toBeInstanceOf(InvalidMessageError);
    expect((invalid as InvalidMessageError).code).toBe('invalid-payload');
    expect((invalid as InvalidMessageError).reason).toMatch(
      /^payload does not match task "charge-order": orderId: .*; cents: /,
    );
  });

  it('awaits an asynchronous schema', async () => {
    const slow = defineContract({
      name: 'slow',
      schema: v.pipeAsync(
        v.string(),
        v.checkAsync(async (s) => s.length > 2, 'too short'),
      ),
    });
    const pending = checkPayload(slow, 'ab');
    expect(pending).toBeInstanceOf(Promise);
    expect(((await pending) as InvalidMessageError).reason).toContain('too short');
    expect(await checkPayload(slow, 'abc')).toBeUndefined();
  });
});
