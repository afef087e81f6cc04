/**
 * A dead letter's attributes fit beside its body: when the body leaves little room, the reason
 * and tier come first and the error is cut, and any body the consumer accepts leaves room for
 * both. No network.
 */
import { describe, expect, it } from 'vitest';
import {
  DeadLetterAttribute,
  DeadLetterReason,
  deadLetterAttributes,
  describeError,
} from '../../../../shared/consumer/dead-letter.js';
import { recordState } from '../../../../shared/consumer/record-state.js';
import { largestResentBodyBytes, parseEnvelope } from '../../../../shared/contract.js';
import { SQS_MAX_MESSAGE_BYTES } from '../../../../shared/declaration.js';
import { attributeBytes } from '../../../../shared/message-attributes.js';
import { sqsRecord, taskBody } from '../../../helpers/sqs-event.js';

const now = new Date('2026-11-27T12:00:00.000Z');

function letterFor(body: string, tier = 'normal') {
  const state = recordState(sqsRecord(body, { tier }), tier);
  const parsed = parseEnvelope(body);
  if (parsed.ok) state.envelope = parsed.envelope;
  return { state, reason: DeadLetterReason.PermanentError, error: `Error: ${'e'.repeat(900)}`, attempts: 3 };
}

describe('deadLetterAttributes', () => {
  it('keeps every attribute when there is room, the error cut at 1,000 characters', () => {
    const attributes = deadLetterAttributes(letterFor(taskBody('echo', null)), now);

    expect(Object.keys(attributes).sort()).toEqual(Object.values(DeadLetterAttribute).sort());
    expect(attributes[DeadLetterAttribute.error]?.StringValue).toHaveLength(907);
  });

  it.each([40, 60, 120, 200])('stays within a budget of %i bytes, reason and tier first', (budget) => {
    const attributes = deadLetterAttributes(letterFor(taskBody('echo', null)), now, budget);

    expect(attributeBytes(attributes)).toBeLessThanOrEqual(budget);
    expect(attributes[DeadLetterAttribute.reason]?.StringValue).toBe('permanent-error');
    if (budget >= 60) expect(attributes[DeadLetterAttribute.tier]?.StringValue).toBe('normal');
  });

  it('leaves room for reason and tier beside any body whose re-sent copy fits the queue', () => {
    const tier = 'a-rather-long-tier-name';
    const body = taskBody('echo', { pad: '' });
    const parsed = parseEnvelope(body);
    if (!parsed.ok) throw parsed.error;
    // The body at the largest size whose copy still fits a 1 MiB queue.
    const slack = SQS_MAX_MESSAGE_BYTES - largestResentBodyBytes(parsed.envelope, tier);
    const largest = taskBody('echo', { pad: 'x'.repeat(slack) });
    const budget = SQS_MAX_MESSAGE_BYTES - Buffer.byteLength(largest);

    for (const reason of Object.values(DeadLetterReason)) {
      const attributes = deadLetterAttributes({ ...letterFor(largest, tier), reason }, now, budget);
      expect(attributes[DeadLetterAttribute.reason]?.StringValue).toBe(reason);
      expect(attributes[DeadLetterAttribute.tier]?.StringValue).toBe(tier);
    }
  });
});

describe('describeError', () => {
  it('describes what cannot be printed instead of throwing', () => {
    expect(describeError(Object.create(null))).toBe('[unprintable object]');
    expect(describeError(new RangeError('too far'))).toBe('RangeError: too far');
  });
});
