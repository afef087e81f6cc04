/**
 * Middleware: per-tenant fairness — each tenant's own token bucket (`rateLimit.perTenant`) and
 * its own share of concurrent runs (`concurrency.perTenant`, leases in the table); records over
 * either are deferred without running and without spending an attempt.
 */
import { randomUUID } from 'node:crypto';
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ConfigError, RateLimitedError } from '../../errors.js';
import { logger } from '../../logger.js';
import type { AnyTask } from '../../registry.js';
import type { LeaseKey, TenantLeases } from '../../stores/tenant-leases.js';
import { NO_TENANT, tenantBucketName } from '../../tenant-limits.js';
import { type Deferral, deferOrFail } from '../defer.js';
import { batchOf, DeferCause, fail, pending, type RecordState } from '../record-state.js';
import type { ConsumerRuntime } from '../runtime.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/**
 * What a lease outlives its task's `timeoutMs` by: the steps between the acquire and the run
 * (idempotency) and the clocks of two consumers disagreeing. Never past the invocation's
 * deadline (+ {@link CLOCK_MARGIN_MS}), when Lambda ends a run however it went.
 */
export const LEASE_GRACE_MS = 5_000;
const CLOCK_MARGIN_MS = 1_000;
/**
 * A tenant at its limit: its n-th excess record of a batch (from 0) waits this × ⌊n / limit⌋ —
 * the first `limit` go back at once, since a slot frees when a run ends and SQS delays only in
 * whole seconds (a 1 s wait measured 2.7× slower for a tenant's burst of 100-ms tasks).
 */
const BUSY_WAIT_MS = 1_000;

/** A group of a batch's records: one task, one tenant. */
interface Group {
  readonly key: LeaseKey;
  readonly task: AnyTask;
  readonly states: RecordState[];
}

function groupsOf(states: readonly RecordState[], applies: (task: AnyTask) => boolean): Group[] {
  const groups = new Map<string, Group>();
  for (const state of states) {
    const task = state.task;
    if (!task || !applies(task)) continue;
    const tenant = state.envelope?.tenant ?? NO_TENANT;
    const id = tenantBucketName(task.name, tenant);
    let group = groups.get(id);
    if (group === undefined) {
      group = { key: { task: task.name, tenant }, task, states: [] };
      groups.set(id, group);
    }
    group.states.push(state);
  }
  return [...groups.values()];
}

const describeTenant = (tenant: string) => (tenant === NO_TENANT ? 'no tenant' : `tenant "${tenant}"`);

/**
 * Checks that a consumer can enforce its tasks' per-tenant limits: `concurrency.perTenant`
 * needs a lease store. Called with the registry's tasks when the consumer is built.
 *
 * @example
 * checkTenantLimits(tasks, runtime.leases);
 */
export function checkTenantLimits(tasks: readonly AnyTask[], leases: TenantLeases | undefined): void {
  const needing = tasks.find((t) => t.concurrency !== undefined);
  if (needing !== undefined && leases === undefined) {
    throw new ConfigError(
      `task "${needing.name}": concurrency.perTenant needs the consumer's lease store (runtime.leases)`,
    );
  }
}

/**
 * Enforces each task's per-tenant limits, per (task, tenant) group of the batch: first the
 * tenant's token bucket (the task's rate limiter, bucket `<task>#<tenant>`, one write per group),
 * then its concurrency leases (one conditional write per group; see `DynamoTenantLeases`).
 * Records beyond either are deferred, never counted as attempts; a store that fails fails its
 * records, so SQS redelivers them. Leases are released after the batch (whatever became of the
 * records) with one write per group; a lease whose invocation crashed expires on its own,
 * {@link LEASE_GRACE_MS} after its task's `timeoutMs` and never later than the invocation's
 * deadline. A record without a tenant counts against one shared "no tenant". Tasks without
 * per-tenant limits cost nothing here. Use it after `rateLimit`, before `idempotency`.
 *
 * @example
 * middy(core).use(rateLimit(runtime)).use(tenantLimits(runtime)).use(idempotency(runtime));
 */
export function tenantLimits(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'limiter' | 'leases' | 'maxHopSeconds'>,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const held = new WeakMap<RecordState, { key: LeaseKey; id: string }>();

  const rateLimitGroup = async (group: Group, deferrals: Deferral[]) => {
    const limit = group.task.rateLimit?.perTenant;
    if (limit === undefined) return;
    const who = describeTenant(group.key.tenant);
    const spacingMs = 1_000 / limit.perSecond;
    try {
      const bucket = tenantBucketName(group.key.task, group.key.tenant);
      const { granted, retryAfterMs } = await runtime.limiter.acquire(
        bucket,
        limit,
        group.states.length,
        runtime.now(),
      );
      group.states.slice(granted).forEach((state, i) => {
        const reason = `rate limited for ${who} (${limit.perSecond}/s)`;
        deferrals.push({
          state,
          delayMs: retryAfterMs + i * spacingMs,
          cause: DeferCause.rateLimited,
          reason,
        });
      });
    } catch (error) {
      if (error instanceof RateLimitedError) {
        group.states.forEach((state, i) => {
          const delayMs = error.retryAfterMs + i * spacingMs;
          deferrals.push({ state, delayMs, cause: DeferCause.rateLimited, reason: error.message });
        });
        return;
      }
      logger.error('rate limiter unavailable; records will be redelivered', { ...group.key, error });
      for (const state of group.states) fail(state, 'rate limiter unavailable', error);
    }
  };

  const leaseGroup = async (group: Group, deferrals: Deferral[], remainingMs: number) => {
    const limit = group.task.concurrency?.perTenant;
    const leases = runtime.leases;
    const states = group.states.filter((s) => s.outcome.kind === 'pending');
    if (limit === undefined || leases === undefined || states.length === 0) return;
    const nowMs = runtime.now();
    const runFor = Math.min((group.task.timeoutMs ?? Number.POSITIVE_INFINITY) + LEASE_GRACE_MS, remainingMs);
    const ids = states.map(() => randomUUID());
    try {
      const { granted, contended } = await leases.acquire(
        group.key,
        limit,
        ids,
        nowMs + runFor + CLOCK_MARGIN_MS,
        nowMs,
      );
      granted.forEach((id, i) => {
        held.set(states[i] as RecordState, { key: group.key, id });
      });
      const who = describeTenant(group.key.tenant);
      states.slice(granted.length).forEach((state, i) => {
        const reason = contended
          ? `the leases of ${who} changed under every write tried`
          : `${who} already runs ${limit} of "${group.key.task}" (concurrency.perTenant)`;
        const delayMs = BUSY_WAIT_MS * Math.floor(i / limit);
        deferrals.push({ state, delayMs, cause: DeferCause.tenantBusy, reason });
      });
    } catch (error) {
      logger.error('tenant leases unavailable; records will be redelivered', { ...group.key, error });
      for (const state of states) fail(state, 'tenant leases unavailable', error);
    }
  };

  const tenantLimitsBefore: Fn = async (request) => {
    const states = pending(batchOf(request.event));
    const groups = groupsOf(
      states,
      (task) => task.rateLimit?.perTenant !== undefined || task.concurrency !== undefined,
    );
    if (groups.length === 0) return;
    const remainingMs = request.context.getRemainingTimeInMillis();
    const deferrals: Deferral[] = [];
    // The bucket first: a record it defers must not hold a lease meanwhile.
    await Promise.all(groups.map((g) => rateLimitGroup(g, deferrals)));
    const deferredByBucket = new Set(deferrals.map((d) => d.state));
    for (const g of groups)
      g.states.splice(0, g.states.length, ...g.states.filter((s) => !deferredByBucket.has(s)));
    await Promise.all(groups.map((g) => leaseGroup(g, deferrals, remainingMs)));
    await deferOrFail(runtime, deferrals);
  };

  /** Gives back the batch's leases; one that cannot be released expires by itself. */
  const release = async (request: middy.Request<SQSEvent, SQSBatchResponse, Error, Context>) => {
    const leases = runtime.leases;
    if (leases === undefined) return;
    const byKey = new Map<string, { key: LeaseKey; ids: string[] }>();
    for (const state of batchOf(request.event).records) {
      const lease = held.get(state);
      if (lease === undefined) continue;
      held.delete(state);
      const id = tenantBucketName(lease.key.task, lease.key.tenant);
      const entry = byKey.get(id) ?? { key: lease.key, ids: [] };
      entry.ids.push(lease.id);
      byKey.set(id, entry);
    }
    await Promise.all(
      [...byKey.values()].map(({ key, ids }) =>
        leases.release(key, ids).catch((error: unknown) => {
          // The run is over and its outcome stored: failing the record would only run it again.
          logger.warn('could not release tenant leases; they expire by themselves', { ...key, error });
        }),
      ),
    );
  };

  return { before: tenantLimitsBefore, after: release, onError: release };
}
