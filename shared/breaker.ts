/**
 * Circuit breakers: one per downstream, shared by the tasks that call it and by every consumer.
 * This module holds the definition, its checks and the state machine's pure part (which state a
 * stored breaker is in); `stores/dynamo-breaker-store.ts` keeps the state in the table with
 * conditional writes, and `consumer/middleware/circuit-breaker.ts` applies it to records.
 */
import { KeyPrefix } from './declaration.js';
import { BackPressureError, ConfigError, PermanentTaskError } from './errors.js';

/** A breaker as a task declares it: `breaker: { name: 'payments', failureThreshold: 5 }`. */
export interface BreakerOptions {
  /** The downstream's name; tasks that give the same name share one breaker. */
  readonly name: string;
  /** Failures within `windowMs` that open the breaker. Default 5. */
  readonly failureThreshold?: number;
  /** How far back failures count. Default 60 s. */
  readonly windowMs?: number;
  /** How long it stays open before one probe may go out. Default 60 s. */
  readonly resetTimeoutMs?: number;
  /** Each failed probe doubles the open time, up to this. Default 10 × `resetTimeoutMs`. */
  readonly maxResetTimeoutMs?: number;
  /**
   * Whether a task's error is a failure of the downstream. Default: any error but a
   * `PermanentTaskError` (the input is bad, not the downstream) and a `BackPressureError`
   * (the downstream answered: it is up, only busy). Validation failures never reach a handler.
   */
  readonly isFailure?: (error: unknown) => boolean;
}

/** A breaker with every option resolved. */
export interface Breaker {
  readonly name: string;
  readonly failureThreshold: number;
  readonly windowMs: number;
  readonly resetTimeoutMs: number;
  readonly maxResetTimeoutMs: number;
  readonly isFailure: (error: unknown) => boolean;
}

export const BREAKER_DEFAULTS = {
  failureThreshold: 5,
  windowMs: 60_000,
  resetTimeoutMs: 60_000,
} as const;

/** Breaker names: what a DynamoDB sort key, a metric dimension and a CLI argument all take. */
export const BREAKER_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The default {@link BreakerOptions.isFailure}. */
export function isDownstreamFailure(error: unknown): boolean {
  return !(error instanceof PermanentTaskError || error instanceof BackPressureError);
}

/**
 * Resolves and checks a breaker's options; a bad one is a `ConfigError` naming the option.
 * Declare a breaker once and give it to every task that calls the downstream.
 *
 * @example
 * export const payments = defineBreaker({ name: 'payments', failureThreshold: 5, resetTimeoutMs: 60_000 });
 * defineTask({ name: 'charge-card', schema, breaker: payments, handler });
 */
export function defineBreaker(options: BreakerOptions): Breaker {
  const name = options?.name;
  if (typeof name !== 'string' || !BREAKER_NAME.test(name)) {
    throw new ConfigError(
      `breaker.name must be 1–128 letters, digits or . _ : - (starting with a letter or digit), got ${JSON.stringify(name)}`,
    );
  }
  const fail = (problem: string): never => {
    throw new ConfigError(`breaker "${name}": ${problem}`);
  };
  const failureThreshold = options.failureThreshold ?? BREAKER_DEFAULTS.failureThreshold;
  if (!Number.isSafeInteger(failureThreshold) || failureThreshold < 1) {
    fail(`failureThreshold must be an integer >= 1, got ${failureThreshold}`);
  }
  const positiveMs = (option: string, value: number) => {
    if (!Number.isSafeInteger(value) || value < 1)
      fail(`${option} must be a whole number of ms >= 1, got ${value}`);
  };
  const windowMs = options.windowMs ?? BREAKER_DEFAULTS.windowMs;
  positiveMs('windowMs', windowMs);
  const resetTimeoutMs = options.resetTimeoutMs ?? BREAKER_DEFAULTS.resetTimeoutMs;
  positiveMs('resetTimeoutMs', resetTimeoutMs);
  const maxResetTimeoutMs = options.maxResetTimeoutMs ?? resetTimeoutMs * 10;
  positiveMs('maxResetTimeoutMs', maxResetTimeoutMs);
  if (maxResetTimeoutMs < resetTimeoutMs) {
    fail(`maxResetTimeoutMs (${maxResetTimeoutMs}) must be at least resetTimeoutMs (${resetTimeoutMs})`);
  }
  const isFailure = options.isFailure ?? isDownstreamFailure;
  if (typeof isFailure !== 'function') fail('isFailure must be a function');
  return { name, failureThreshold, windowMs, resetTimeoutMs, maxResetTimeoutMs, isFailure };
}

/** The states of a breaker. */
export const BreakerState = {
  /** Tasks run; failures are counted. */
  closed: 'closed',
  /** Tasks wait (deferred, no attempt spent) until `openUntil`. */
  open: 'open',
  /** One probe may run; the others wait for its outcome. */
  halfOpen: 'half-open',
} as const;
export type BreakerState = (typeof BreakerState)[keyof typeof BreakerState];

/** A breaker as stored in the table (`pk = breaker#`, `sk = <name>`); times are epoch ms. */
export interface StoredBreaker {
  readonly name: string;
  /** 0 while closed; while open, when it turns half-open. */
  readonly openUntil: number;
  /** Failures counted since `windowStart`. */
  readonly failures: number;
  readonly windowStart: number;
  /** How long the last opening lasted: doubled by each failed probe. */
  readonly resetMs?: number;
  /** A claimed probe's lease: another may be claimed once it has passed (a crashed prober). */
  readonly probeUntil?: number;
  readonly probeOwner?: string;
  /** How many times it opened. */
  readonly opens?: number;
  readonly openedAt?: number;
  readonly lastError?: string;
  /** Who forced the state with `tierq breaker open|close`, if someone did. */
  readonly forcedBy?: string;
  readonly updatedAt?: number;
}

/** Longest a forced open lasts when the operator gives no time: until closed. */
export const FOREVER = Number.MAX_SAFE_INTEGER;

/**
 * Which state a stored breaker is in at `nowMs`: none stored, or `openUntil` 0, is closed;
 * `openUntil` ahead is open; passed is half-open.
 *
 * @example
 * breakerStateOf(await store.read(['payments']).get('payments'), Date.now()); // 'closed'
 */
export function breakerStateOf(stored: StoredBreaker | undefined, nowMs: number): BreakerState {
  if (stored === undefined || !(stored.openUntil > 0)) return BreakerState.closed;
  return stored.openUntil > nowMs ? BreakerState.open : BreakerState.halfOpen;
}

/** The open time after a failed probe: double the last one, at most the breaker's maximum. */
export function nextResetMs(breaker: Breaker, stored: StoredBreaker | undefined): number {
  const last = stored?.resetMs ?? breaker.resetTimeoutMs;
  return Math.min(breaker.maxResetTimeoutMs, Math.max(breaker.resetTimeoutMs, last * 2));
}

/** A breaker's table key. */
export const breakerKey = (name: string) => ({ pk: KeyPrefix.breaker, sk: name });

/** A stored item as a breaker. */
export function breakerFromItem(item: Record<string, unknown>): StoredBreaker {
  const num = (v: unknown) => (v === undefined ? undefined : Number(v));
  const str = (v: unknown) => (v === undefined ? undefined : String(v));
  const optional = {
    resetMs: num(item.resetMs),
    probeUntil: num(item.probeUntil),
    probeOwner: str(item.probeOwner),
    opens: num(item.opens),
    openedAt: num(item.openedAt),
    lastError: str(item.lastError),
    forcedBy: str(item.forcedBy),
    updatedAt: num(item.updatedAt),
  };
  return {
    name: String(item.sk),
    openUntil: Number(item.openUntil ?? 0),
    failures: Number(item.failures ?? 0),
    windowStart: Number(item.windowStart ?? 0),
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}
