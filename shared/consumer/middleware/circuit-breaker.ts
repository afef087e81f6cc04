/**
 * Middleware: circuit breakers, and back-pressure from a task's downstream. While a breaker is
 * open its tasks' records wait (deferred, no attempt spent); half-open, exactly one record across
 * every consumer runs as the probe; the failures of a closed breaker's tasks are counted.
 */

import { randomUUID } from 'node:crypto';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  type Breaker,
  BreakerState,
  breakerStateOf,
  defineBreaker,
  nextResetMs,
  type StoredBreaker,
} from '../../breaker.js';
import { BackPressureError, ConfigError } from '../../errors.js';
import { logger } from '../../logger.js';
import type { AnyTask, TaskRegistry } from '../../registry.js';
import { taskWideRateLimit } from '../../tenant-limits.js';
import { describeError } from '../dead-letter.js';
import { type Deferral, deferOrFail } from '../defer.js';
import { batchOf, DeferCause, fail, pending, type RecordState } from '../record-state.js';
import type { BreakerStore, ConsumerRuntime } from '../runtime.js';

type Fn = middy.MiddlewareFn<SQSEvent, SQSBatchResponse, Error, Context>;

/** Breaker metric names, emitted per breaker (dimension `breaker`) and in total (`service` only). */
export const BreakerMetric = {
  /** A breaker opened (from closed, or again after a failed probe). */
  opened: 'BreakerOpened',
  /** A half-open breaker's probe was claimed. */
  probe: 'BreakerProbe',
  /** Records deferred because their breaker was open or its probe was out. */
  deferred: 'BreakerDeferred',
  /** Seconds since an open breaker first opened (0 when its probe closes it): what the alarm watches. */
  openSeconds: 'BreakerOpenSeconds',
} as const;

/** How long records wait while their half-open breaker's probe is out, before looking again. */
export const PROBE_WAIT_MS = 2_000;
/** The longest they wait for a probe another consumer holds (its claim may last the task's timeout). */
export const MAX_PROBE_WAIT_MS = 10_000;
/** How long past the task's timeout a probe's claim lasts: then another consumer may probe. */
const PROBE_LEASE_SLACK_MS = 5_000;

const resolved = new WeakMap<object, Breaker>();

/** A task's breaker with its options resolved, or undefined when it declares none. */
export function breakerOf(task: AnyTask | undefined): Breaker | undefined {
  if (task?.breaker === undefined) return undefined;
  let breaker = resolved.get(task.breaker);
  if (!breaker) {
    breaker = defineBreaker(task.breaker);
    resolved.set(task.breaker, breaker);
  }
  return breaker;
}

/**
 * Checks the registry's breakers: tasks that name the same breaker must declare it alike (it is
 * one state in the table), and a consumer with breakers needs a breaker store.
 */
export function checkBreakers(registry: TaskRegistry, store: BreakerStore | undefined): void {
  const byName = new Map<string, { task: string; breaker: Breaker }>();
  for (const name of registry.names()) {
    const breaker = breakerOf(registry.get(name));
    if (!breaker) continue;
    if (!store) {
      throw new ConfigError(
        `task "${name}" declares breaker "${breaker.name}", but the consumer has no breaker store: ` +
          'give createConsumer `breakers` (a DynamoBreakerStore), or use createDefaultConsumer',
      );
    }
    const first = byName.get(breaker.name);
    if (!first) {
      byName.set(breaker.name, { task: name, breaker });
      continue;
    }
    const settings = (b: Breaker) =>
      [b.failureThreshold, b.windowMs, b.resetTimeoutMs, b.maxResetTimeoutMs].join();
    if (settings(first.breaker) !== settings(breaker) || first.breaker.isFailure !== breaker.isFailure) {
      throw new ConfigError(
        `tasks "${first.task}" and "${name}" declare breaker "${breaker.name}" with different options: ` +
          'declare it once with defineBreaker and give both tasks the same object',
      );
    }
  }
}

/** A probe this invocation claimed, and the state it claimed it from. */
interface Probe {
  readonly breaker: Breaker;
  readonly stored: StoredBreaker | undefined;
  readonly owner: string;
}

function publish(
  metrics: Metrics,
  breaker: string,
  name: string,
  value: number,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit] = MetricUnit.Count,
): void {
  if (unit === MetricUnit.Count && value <= 0) return;
  try {
    // Once per breaker and once in total: the construct's alarm watches the total.
    metrics.addMetric(name, unit, value);
    metrics.publishStoredMetrics();
    metrics.addDimension('breaker', breaker);
    metrics.addMetric(name, unit, value);
    metrics.publishStoredMetrics();
  } catch (error) {
    logger.error('could not publish breaker metrics', { breaker, error });
  }
}

/** The record to probe with: the one with the most attempts left, so a failed probe costs least. */
function probeCandidate(states: readonly RecordState[]): RecordState | undefined {
  return [...states].sort((a, b) => a.attempt - b.attempt)[0];
}

/**
 * Applies each task's circuit breaker to the batch.
 *
 * Before the tasks run: one consistent read of the batch's breakers (none for a batch without
 * breaker tasks). Open: its records are deferred until it turns half-open, without running and
 * without spending an attempt. Half-open: one conditional claim; the claimant runs one record as
 * the probe (the one with the most attempts left) and defers the others by
 * {@link PROBE_WAIT_MS}; a consumer that reads a live claim defers them until it lapses (at most
 * {@link MAX_PROBE_WAIT_MS}) without trying to claim.
 *
 * The probe settles as soon as its run ends (`BatchState.onRunEnd`), so its claim — the task's
 * timeout plus 5 s — never outlives it: success closes the breaker; a downstream failure opens it
 * again for twice as long (capped) and defers the probe record without spending its attempt; any
 * other error (a `PermanentTaskError`) gives the claim back, leaving the record to the retries.
 *
 * After: the failures of a closed breaker's tasks are added to its window in one write per
 * breaker, which opens it at the threshold. These writes never fail a record (its outcome is
 * already decided); a lost one is logged, and a claim that is never settled lapses at its lease.
 *
 * @example
 * middy(core).use(startInTime(runtime)).use(circuitBreaker(runtime)).use(rateLimit(runtime));
 */
export function circuitBreaker(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'maxHopSeconds' | 'breakers' | 'random'> & {
    readonly metrics: Metrics;
  },
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const probes = new WeakMap<RecordState, Probe>();
  /** Probe records, settled or not: their failures are not counted again after the batch. */
  const probed = new WeakSet<RecordState>();
  const random = runtime.random ?? Math.random;

  const circuitBreakerBefore: Fn = async (request) => {
    const batch = batchOf(request.event);
    const groups = new Map<string, { breaker: Breaker; states: RecordState[] }>();
    for (const state of pending(batch)) {
      const breaker = breakerOf(state.task);
      if (!breaker) continue;
      const group = groups.get(breaker.name) ?? { breaker, states: [] };
      group.states.push(state);
      groups.set(breaker.name, group);
    }
    const store = runtime.breakers;
    if (groups.size === 0 || !store) return;
    let stored: Map<string, StoredBreaker>;
    try {
      stored = await store.read([...groups.keys()]);
    } catch (error) {
      logger.error('circuit breaker state unavailable; records will be redelivered', { error });
      for (const { states } of groups.values()) {
        for (const state of states) fail(state, 'circuit breaker state unavailable', error);
      }
      return;
    }
    const deferrals: Deferral[] = [];
    const defer = (states: readonly RecordState[], delayMs: number, reason: string) => {
      states.forEach((state, i) => {
        // Spread (up to 100 ms a record, 5 s at most), so a backlog does not come back at once.
        const spreadMs = Math.floor(random() * Math.min(5_000, 100 * (i + 1)));
        deferrals.push({ state, delayMs: delayMs + spreadMs, cause: DeferCause.breakerOpen, reason });
      });
    };
    await Promise.all(
      [...groups.values()].map(async ({ breaker, states }) => {
        const current = stored.get(breaker.name);
        const nowMs = runtime.now();
        const state = breakerStateOf(current, nowMs);
        if (state === BreakerState.closed || current === undefined) return;
        if (state === BreakerState.open) {
          const until = current.openUntil;
          const openFor = (nowMs - (current.openedAt ?? nowMs)) / 1_000;
          publish(
            runtime.metrics,
            breaker.name,
            BreakerMetric.openSeconds,
            Math.max(0, openFor),
            MetricUnit.Seconds,
          );
          defer(
            states,
            until - nowMs,
            `circuit breaker "${breaker.name}" is open until ${isoOrForever(until)}`,
          );
          return;
        }
        const waiting = `circuit breaker "${breaker.name}" is half-open: waiting for its probe`;
        if (current.probeUntil !== undefined && current.probeUntil > nowMs) {
          // Another consumer's probe is out: wait for it rather than ask for a claim that must fail.
          const waitMs = Math.min(MAX_PROBE_WAIT_MS, Math.max(PROBE_WAIT_MS, current.probeUntil - nowMs));
          defer(states, waitMs, waiting);
          return;
        }
        const probe = probeCandidate(states);
        if (!probe) return;
        const owner = randomUUID();
        const runMs = Math.min(probe.task?.timeoutMs ?? batch.budgetMs, batch.budgetMs);
        const leaseUntil = nowMs + (Number.isFinite(runMs) ? runMs : 900_000) + PROBE_LEASE_SLACK_MS;
        let claimed = false;
        try {
          claimed = await store.claimProbe(breaker.name, current.openUntil, nowMs, leaseUntil, owner);
        } catch (error) {
          logger.error('could not claim the circuit breaker probe; records will be redelivered', {
            breaker: breaker.name,
            error,
          });
          for (const s of states) fail(s, `circuit breaker "${breaker.name}" unavailable`, error);
          return;
        }
        if (!claimed) {
          defer(states, PROBE_WAIT_MS, waiting);
          return;
        }
        probes.set(probe, { breaker, stored: current, owner });
        probed.add(probe);
        publish(runtime.metrics, breaker.name, BreakerMetric.probe, 1);
        logger.info('circuit breaker half-open: this record is its probe', {
          breaker: breaker.name,
          taskId: probe.envelope?.id,
        });
        defer(
          states.filter((s) => s !== probe),
          PROBE_WAIT_MS,
          waiting,
        );
      }),
    );
    if ([...groups.values()].some(({ states }) => states.some((s) => probes.has(s)))) {
      batch.onRunEnd.push((state) => settleProbe(state));
    }
    await deferOrFail(runtime, deferrals);
    const deferred = new Map<string, number>();
    for (const d of deferrals) {
      if (d.state.outcome.kind !== 'deferred') continue;
      const name = breakerOf(d.state.task)?.name ?? '';
      deferred.set(name, (deferred.get(name) ?? 0) + 1);
    }
    for (const [name, count] of deferred) publish(runtime.metrics, name, BreakerMetric.deferred, count);
  };

  const circuitBreakerAfter: Fn = (request) => settleBreakers(batchOf(request.event).records, runtime.now());

  async function settleBreakers(records: readonly RecordState[], nowMs: number): Promise<void> {
    const store = runtime.breakers;
    if (!store) return;
    const failures = new Map<string, { breaker: Breaker; count: number; lastError: string }>();
    const writes: Promise<unknown>[] = [];
    for (const state of records) {
      // A probe whose record never ran (deferred as a duplicate, rate-limited…).
      if (probes.has(state)) writes.push(settleProbe(state));
      if (probed.has(state)) continue;
      const breaker = breakerOf(state.task);
      if (!breaker || state.run?.ok !== false || !breaker.isFailure(state.run.error)) continue;
      const entry = failures.get(breaker.name) ?? { breaker, count: 0, lastError: '' };
      entry.count += 1;
      entry.lastError = describeError(state.run.error).slice(0, 500);
      failures.set(breaker.name, entry);
    }
    for (const { breaker, count, lastError } of failures.values()) {
      writes.push(
        store.recordFailures(breaker, count, nowMs, lastError).then(
          (counted) => {
            if (counted.kind !== 'opened') return;
            publish(runtime.metrics, breaker.name, BreakerMetric.opened, 1);
            logger.warn('circuit breaker opened', {
              breaker: breaker.name,
              failures: counted.failures,
              openUntil: new Date(counted.openUntil).toISOString(),
              lastError,
            });
          },
          (error: unknown) =>
            logger.error('could not count circuit breaker failures', { breaker: breaker.name, error }),
        ),
      );
    }
    await Promise.all(writes);
  }

  /** Settles the probe `state` holds, if it holds one; never throws. */
  async function settleProbe(state: RecordState): Promise<void> {
    const probe = probes.get(state);
    const store = runtime.breakers;
    if (!probe || !store) return;
    probes.delete(state);
    const { breaker, owner, stored } = probe;
    const nowMs = runtime.now();
    try {
      const run = state.run;
      if (run === undefined || (!run.ok && !breaker.isFailure(run.error))) {
        // It never ran, or failed for a reason that says nothing of the downstream: another may probe.
        await store.releaseProbe(breaker.name, owner);
        return;
      }
      const settled = await store.settleProbe(breaker, stored, owner, run.ok, nowMs);
      if (!settled) {
        logger.warn('circuit breaker probe settled too late: its claim was overridden', {
          breaker: breaker.name,
        });
        return;
      }
      if (run.ok) {
        publish(runtime.metrics, breaker.name, BreakerMetric.openSeconds, 0, MetricUnit.Seconds);
        logger.info('circuit breaker closed: its probe succeeded', { breaker: breaker.name });
        return;
      }
      publish(runtime.metrics, breaker.name, BreakerMetric.opened, 1);
      const resetMs = nextResetMs(breaker, stored);
      logger.warn('circuit breaker opened again: its probe failed', { breaker: breaker.name, resetMs });
      // The outage's doing, not the task's: the probe waits with the others, its attempt unspent.
      await deferOrFail(runtime, [
        {
          state,
          delayMs: resetMs,
          cause: DeferCause.breakerOpen,
          reason: `it was circuit breaker "${breaker.name}"'s probe, which failed: ${describeError(run.error).slice(0, 200)}`,
        },
      ]);
    } catch (error) {
      logger.error('could not settle the circuit breaker probe; its claim lapses at its lease', {
        breaker: breaker.name,
        error,
      });
    }
  }

  return { before: circuitBreakerBefore, after: circuitBreakerAfter };
}

/**
 * Middleware: defers each record whose task threw a `BackPressureError` by the time it asked,
 * continuing its attempts where they were (the attempt is not spent), and holds the task's rate
 * limiter until then. The deferral is what keeps the record; a limiter that cannot be held only
 * logs. Used last, so its `after` runs before the retries decide anything.
 *
 * @example
 * middy(core).use(retries(runtime)).use(backPressure(runtime));
 */
export function backPressure(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'maxHopSeconds' | 'limiter'>,
): middy.MiddlewareObj<SQSEvent, SQSBatchResponse, Error, Context> {
  const backPressureAfter: Fn = (request) => deferPushedBack(runtime, batchOf(request.event).records);
  return { after: backPressureAfter };
}

async function deferPushedBack(
  runtime: Pick<ConsumerRuntime, 'sqs' | 'config' | 'now' | 'maxHopSeconds' | 'limiter'>,
  records: readonly RecordState[],
): Promise<void> {
  const deferrals: Deferral[] = [];
  const holds = new Map<string, { task: AnyTask; untilMs: number }>();
  const nowMs = runtime.now();
  for (const state of records) {
    const error = state.run?.ok === false ? state.run.error : undefined;
    if (!(error instanceof BackPressureError) || state.outcome.kind !== 'failed' || !state.task) continue;
    deferrals.push({
      state,
      delayMs: error.retryAfterMs,
      cause: DeferCause.backPressure,
      reason: error.message,
      ...(error.retryAfterMs > runtime.maxHopSeconds * 1_000
        ? { runAt: new Date(nowMs + error.retryAfterMs).toISOString() }
        : {}),
    });
    if (taskWideRateLimit(state.task)) {
      const untilMs = nowMs + error.retryAfterMs;
      const held = holds.get(state.task.name);
      if (!held || held.untilMs < untilMs) holds.set(state.task.name, { task: state.task, untilMs });
    }
  }
  await Promise.all([
    deferOrFail(runtime, deferrals),
    ...[...holds.values()].map(async ({ task, untilMs }) => {
      try {
        const limit = taskWideRateLimit(task);
        if (limit) await runtime.limiter.holdOff?.(task.name, limit, untilMs, nowMs);
      } catch (error) {
        logger.warn('could not hold the rate limiter for back-pressure', { task: task.name, error });
      }
    }),
  ]);
}

function isoOrForever(ms: number): string {
  return ms >= 8.64e15 ? 'it is closed by an operator' : new Date(ms).toISOString();
}
