import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses a duration like `30s`, `5m`, `1h`, `250ms` or a bare number of seconds into milliseconds.
 *
 * @example
 * parseDuration('90s'); // 90_000
 */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (match === null) {
    throw new InvalidArgumentError('expected a duration such as 30s, 5m, 1h or 250ms.');
  }
  const unit = (match[2] ?? 's') as keyof typeof UNIT_MS;
  return Math.round(Number(match[1]) * UNIT_MS[unit]);
}

/**
 * Parses a payload given as JSON text, or as `@path` to a file holding JSON.
 *
 * @example
 * parsePayload('{"to":"ada@example.com"}');
 * parsePayload('@payload.json');
 */
export function parsePayload(value: string): unknown {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (error) {
      throw new InvalidArgumentError(`cannot read ${value.slice(1)}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON (${(error as Error).message}).`);
  }
}

/**
 * Parses a positive integer (a `--limit`).
 *
 * @example
 * parsePositiveInt('20'); // 20
 */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!(Number.isInteger(n) && n > 0)) throw new InvalidArgumentError('expected a positive whole number.');
  return n;
}

/**
 * Parses an ISO-8601 time (a `--run-at`).
 *
 * @example
 * parseTime('2026-12-01T09:00:00Z');
 */
export function parseTime(value: string): Date {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new InvalidArgumentError('expected an ISO-8601 time such as 2026-12-01T09:00:00Z.');
  return new Date(ms);
}
