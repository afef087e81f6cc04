/**
 * The per-tenant concurrency leases' interface: how many runs of a task a tenant holds at once,
 * shared by every consumer. It imports no implementation; `DynamoTenantLeases` implements it.
 */

/**
 * Whose leases: one task's runs for one tenant.
 *
 * @example
 * ```ts
 * const key: LeaseKey = { task: 'sync-account', tenant: 'acme' };
 * ```
 */
export interface LeaseKey {
  readonly task: string;
  readonly tenant: string;
}

/**
 * What {@link TenantLeases.acquire} granted: the lease ids that are now held (a prefix of those
 * asked for), and — when not all were — about how long until one may free itself by expiring.
 *
 * @example
 * ```ts
 * const { granted }: LeaseGrant = await leases.acquire(key, 5, ids, expiresAtMs);
 * ```
 */
export interface LeaseGrant {
  readonly granted: readonly string[];
  /** `true` when the item changed under every write tried: the tenant is busy, not full. */
  readonly contended?: boolean;
}

/**
 * Leases with an expiry, at most `limit` live at once per task and tenant, across every
 * consumer. A lease is released when its run is over; one whose holder crashed expires.
 *
 * @example
 * ```ts
 * const { granted } = await leases.acquire({ task: 'sync', tenant: 'acme' }, 2, ['m1', 'm2', 'm3'], Date.now() + 40_000);
 * // … run the granted ones …
 * await leases.release({ task: 'sync', tenant: 'acme' }, granted);
 * ```
 */
export interface TenantLeases {
  /** Takes leases for as many of `ids` (in order) as the limit leaves room for, each expiring at `expiresAtMs`. */
  acquire(
    key: LeaseKey,
    limit: number,
    ids: readonly string[],
    expiresAtMs: number,
    nowMs?: number,
  ): Promise<LeaseGrant>;
  /** Gives leases back; ids already expired or released are ignored. */
  release(key: LeaseKey, ids: readonly string[]): Promise<void>;
}
