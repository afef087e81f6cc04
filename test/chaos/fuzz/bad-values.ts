import { DeadLetterReason } from '../../../shared/consumer/dead-letter.js';

/** Hand-picked values the fuzz cases draw from: each breaks the contract in one known way. */

const R = DeadLetterReason;

/** One envelope field replaced by a value the contract rejects. */
export const BAD_FIELDS: readonly [string, unknown][] = [
  ['id', ''],
  ['id', 'has space'],
  ['id', 'x'.repeat(129)],
  ['id', 'ünï'],
  ['id', 42],
  ['id', null],
  ['id', ['a']],
  ['id', 'a/b'],
  ['task', ''],
  ['task', 7],
  ['task', null],
  ['task', 'bad name!'],
  ['task', 't'.repeat(129)],
  ['payload', undefined],
  ['runAt', 'tomorrow'],
  ['runAt', 12345],
  ['runAt', '2026-13-01T00:00:00Z'],
  ['runAt', '2026-01-01'],
  ['idempotencyKey', ''],
  ['idempotencyKey', 'k'.repeat(257)],
  ['idempotencyKey', 5],
  ['enqueuedAt', 'yesterday'],
  ['enqueuedAt', false],
  ['tierq', 'x'],
  ['tierq', []],
  ['tierq', { priorAttempts: -1 }],
  ['tierq', { priorAttempts: 1.5 }],
  ['tierq', { tier: '' }],
  ['tierq', { tier: 5 }],
];
/** Contract versions this consumer does not speak (undefined: no `v` at all). */
export const BAD_VERSIONS: readonly unknown[] = [
  undefined,
  2,
  0,
  -1,
  '1',
  true,
  null,
  [1],
  {},
  1.5,
  1e3,
  'v1',
];
/** Payloads each known task's schema rejects (echo and limited accept anything). */
export const BAD_PAYLOADS: readonly [string, string][] = [
  ['sleep', '{"ms":-1}'],
  ['sleep', '{"ms":"5"}'],
  ['sleep', '{"ms":1.5}'],
  ['sleep', '{"ms":900001}'],
  ['sleep', '{}'],
  ['sleep', 'null'],
  ['sleep', '[]'],
  ['sleep', '"x"'],
  ['sleep', '{"__proto__":{"ms":5}}'],
  ['flaky', '{"failTimes":-1}'],
  ['flaky', '{"failTimes":"1"}'],
  ['flaky', '{}'],
  ['flaky', 'null'],
  ['reject', '{"why":5}'],
  ['reject', '{"why":null}'],
];
/** Prototype-pollution keys where the contract needs real fields, and task names an object lookup would find. */
export const PROTO_BAD: readonly ((token: string) => [string, string])[] = [
  (t) => [R.UnsupportedVersion, `{"__proto__":{"v":1,"id":"${t}","task":"echo","payload":1}}`],
  (t) => [R.InvalidEnvelope, `{"v":1,"__proto__":{"id":"${t}","task":"echo","payload":1}}`],
  (t) => [R.InvalidEnvelope, `{"v":1,"id":"${t}","task":"echo","constructor":{"payload":1}}`],
  (t) => [R.UnknownTask, `{"v":1,"id":"${t}","task":"__proto__","payload":1}`],
  (t) => [R.UnknownTask, `{"v":1,"id":"${t}","task":"constructor","payload":{"__proto__":{}}}`],
  (t) => [R.UnknownTask, `{"v":1,"id":"${t}","task":"toString","payload":1}`],
  (t) => [R.UnknownTask, `{"v":1,"id":"${t}","task":"hasOwnProperty","payload":1}`],
];
