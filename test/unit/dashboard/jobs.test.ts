import { describe, expect, it } from 'vitest';
import { matches } from '../../../dashboard/jobs.js';
import type { DeadLetterInfo } from '../../../shared/dlq/index.js';

const letter = (fields: Partial<DeadLetterInfo>): DeadLetterInfo => ({
  id: 'a',
  task: 'send-email',
  tier: 'high',
  sourceQueueArn: undefined,
  reason: 'permanent-error',
  error: undefined,
  attempts: 1,
  deadAt: undefined,
  messageId: 'm-1',
  body: '{}',
  ...fields,
});

describe('matches', () => {
  it('takes every letter when the filter is empty', () => {
    expect(matches(letter({}), {})).toBe(true);
  });

  it('needs every given field to match', () => {
    const l = letter({});
    expect(matches(l, { task: 'send-email', tier: 'high', reason: 'permanent-error' })).toBe(true);
    expect(matches(l, { task: 'send-email', tier: 'low' })).toBe(false);
    expect(matches(l, { reason: 'max-receives' })).toBe(false);
    expect(matches(letter({ tier: undefined }), { tier: 'high' })).toBe(false);
  });

  it('narrows to a selection by message id', () => {
    expect(matches(letter({}), { messageIds: ['m-1', 'm-2'] })).toBe(true);
    expect(matches(letter({ messageId: 'm-3' }), { messageIds: ['m-1', 'm-2'] })).toBe(false);
    expect(matches(letter({}), { messageIds: ['m-1'], task: 'other' })).toBe(false);
  });
});
