/**
 * Per-tenant limits of a task — `concurrency.perTenant` and `rateLimit.perTenant` — as options:
 * their types, the checks they pass where they enter, and which tenant a record counts against.
 */
import { ConfigError } from './errors.js';
import { type RateLimit, validateRateLimit } from './token-bucket.js';

/** A token bucket of its own for each tenant: `perSecond` refill (> 0), up to `burst` (>= 1). */
export type PerTenantRateLimit = RateLimit;

/** At most `perTenant` (an integer, 1–{@link MAX_PER_TENANT_CONCURRENCY}) runs at once per tenant. */
export interface ConcurrencyOption {
  readonly perTenant: number;
}

/**
 * The largest `concurrency.perTenant`: a tenant's leases live in one item, and DynamoDB items
 * stop at 400 KB.
 */
export const MAX_PER_TENANT_CONCURRENCY = 1_000;

/**
 * The tenant a record without one counts against: all such records share one limit, so a
 * producer that forgets the tenant does not escape it. Never a valid tenant (those have 1–128
 * characters).
 */
export const NO_TENANT = '';

/** The options of a task that this module reads. */
interface TenantLimited {
  readonly name: string;
  readonly rateLimit?: {
    readonly perSecond?: number;
    readonly burst?: number;
    readonly perTenant?: RateLimit;
  };
  readonly concurrency?: ConcurrencyOption;
}

/**
 * The task-wide part of a task's `rateLimit`, if it has one (a task may limit per tenant only).
 *
 * @example
 * taskWideRateLimit({ name: 't', rateLimit: { perTenant: { perSecond: 1, burst: 1 } } }); // undefined
 */
export function taskWideRateLimit(task: TenantLimited): RateLimit | undefined {
  const limit = task.rateLimit;
  if (limit === undefined || (limit.perSecond === undefined && limit.burst === undefined)) return undefined;
  return { perSecond: limit.perSecond as number, burst: limit.burst as number };
}

/**
 * Checks `concurrency.perTenant` and `rateLimit.perTenant` where they enter; throws a
 * {@link ConfigError} naming the option (the caller adds the task's name).
 *
 * @example
 * validateTenantLimits({ name: 'sync', concurrency: { perTenant: 0 } }); // throws: concurrency.perTenant must be …
 */
export function validateTenantLimits(task: TenantLimited): void {
  const { concurrency, rateLimit } = task;
  if (concurrency !== undefined) {
    const n = (concurrency as { perTenant?: unknown } | null)?.perTenant;
    if (!(Number.isSafeInteger(n) && (n as number) >= 1 && (n as number) <= MAX_PER_TENANT_CONCURRENCY)) {
      throw new ConfigError(
        `concurrency.perTenant must be an integer from 1 to ${MAX_PER_TENANT_CONCURRENCY}, got ${String(n)}`,
      );
    }
  }
  if (rateLimit?.perTenant !== undefined) {
    try {
      validateRateLimit(rateLimit.perTenant);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new ConfigError(error.message.replace(/^rateLimit\./, 'rateLimit.perTenant.'), { cause: error });
    }
  }
  if (rateLimit !== undefined && rateLimit.perTenant === undefined && taskWideRateLimit(task) === undefined) {
    throw new ConfigError('rateLimit needs perSecond and burst, perTenant, or both');
  }
}

/**
 * The name of a tenant's own bucket in the rate limiter: `<task>#<tenant>`. Task names and
 * tenants never contain `#`, so it cannot collide with a task-wide bucket or another tenant's.
 *
 * @example
 * tenantBucketName('sync', 'acme'); // 'sync#acme'
 */
export function tenantBucketName(task: string, tenant: string): string {
  return `${task}#${tenant}`;
}
