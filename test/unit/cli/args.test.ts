import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseDuration, parsePayload, parsePositiveInt, parseTime } from '../../../cli/args.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['250ms', 250],
    ['1.5s', 1_500],
    ['45', 45_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['soon', '-5s', '5 minutes', ''])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidArgumentError);
  });
});

describe('parsePayload', () => {
  it('parses JSON text and says why bad JSON is bad', () => {
    expect(parsePayload('{"a":[1]}')).toEqual({ a: [1] });
    expect(() => parsePayload('{a')).toThrow(/not valid JSON/);
  });

  it('names a missing @file', () => {
    expect(() => parsePayload('@/no/such/file.json')).toThrow('cannot read /no/such/file.json');
  });
});

describe('parsePositiveInt and parseTime', () => {
  it('accept good values and reject the rest', () => {
    expect(parsePositiveInt('3')).toBe(3);
    for (const bad of ['0', '-1', '2.5', 'x'])
      expect(() => parsePositiveInt(bad)).toThrow(InvalidArgumentError);
    expect(parseTime('2030-01-01T00:00:00Z').toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(() => parseTime('tomorrow')).toThrow(InvalidArgumentError);
  });
});
